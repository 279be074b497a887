/// Kinds of failed passes (the `kind` label of `outboard_pass_errors_total`).
public enum PassErrorKind: String, Sendable, CaseIterable {
    /// The feed could not be reached: DNS, refused, TLS, timeout.
    case fetch
    /// The feed's server answered an HTTP error status.
    case http
    /// The feed exceeded max-feed-bytes.
    case tooLarge = "too-large"
    /// A secret (feed credentials, target token) could not be read.
    case secret
    /// The feed is not iCalendar.
    case parse
    /// A deletion guard stopped the pass.
    case `guard`
    /// The target failed or refused a request.
    case target
    /// The status store could not be read or written.
    case store
    /// Some items failed (they are retried next pass).
    case items
    /// The pass stopped between batches because the daemon is shutting down.
    case interrupted
    /// Another pass of the subscription was running; this one did not start.
    case busy

    init(_ e: FetchError) {
        switch e {
        case .transport, .unreadable: self = .fetch
        case .http: self = .http
        case .tooLarge: self = .tooLarge
        case .secret: self = .secret
        }
    }
}
