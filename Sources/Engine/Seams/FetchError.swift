/// Why a feed could not be fetched; each names the subscription and, for HTTP, the status.
public enum FetchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The source could not be reached or did not answer (the transport's own words).
    case transport(subscription: String, host: String, String)
    case http(subscription: String, host: String, status: Int, retryAfter: Int?)
    /// The source answered something that cannot be read (a CalDAV multistatus that is not one).
    case unreadable(subscription: String, host: String, String)
    case tooLarge(subscription: String, limit: Int)
    case secret(subscription: String, String)

    public var description: String {
        switch self {
        case .transport(let s, let host, let e): "\(s): cannot fetch the feed from \(host): \(e)"
        case .http(let s, let host, let status, let retry):
            "\(s): the feed at \(host) answered HTTP \(status)" + (retry.map { " (retry after \($0) s)" } ?? "")
                + (status == 401 || status == 403
                    ? "; check source.auth" : status == 404 || status == 410 ? "; check source.url" : "")
        case .tooLarge(let s, let limit):
            "\(s): the feed is larger than max-feed-bytes (\(limit) bytes); raise max-feed-bytes if it is genuine"
        case .unreadable(let s, let host, let m): "\(s): the answer of \(host) cannot be read: \(m)"
        case .secret(let s, let m): "\(s): \(m)"
        }
    }
}
