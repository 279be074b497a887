/// Where a pass reads its feed: what changed since the position the store recorded after the
/// last pass that applied everything (`FeedState.position`).
///
/// Implementations: `FeedFetcher` (libcurl: http, https, file; whole bodies with validators),
/// `SharedFeedSource` (one fetch for the subscriptions of one feed) and, in `EngineTesting`,
/// `InMemoryFeed` (a whole body) and `InMemoryCollection` (changes since a token). Each passes
/// the feed contract (`FeedContract`, in `EngineTesting`), which a new source's tests run too.
public protocol FeedSource: Sendable {
    /// What changed since `position` (nil: everything). `onBody` sees a whole body's bytes as
    /// they arrive (a source that has them at once calls it once).
    func fetch(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedResult

    /// The same fetch, saying whether the answer came from a fetch made for another subscription
    /// (`SharedFeedSource`); a source that never shares answers with `fetch`.
    func answer(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedAnswer
}

/// Where a source's reading stands, as the store keeps it: the validators of the last whole body
/// applied (an HTTP feed), or the token of the last changes applied (a collection that can say
/// what changed, such as CalDAV's sync-collection).
public enum FeedPosition: Sendable, Hashable {
    case validators(etag: String?, lastModified: String?)
    /// A collection's sync token; empty when the collection gives none (a CalDAV server without
    /// sync-collection): the pass then reads it from `members`.
    case token(String)
    /// The members last applied, each href with the ETag it had ("" when none was known): built
    /// by the pass from the item states, never stored. A collection answers what differs (changed
    /// ETags, members it no longer has, new members) with its current token; a whole feed reads
    /// whole. The pass reads from here when a collection gives no token, refuses the stored one,
    /// or answers from it in a way that contradicts what the store knows.
    case members([String: String])
}

/// What a source answers.
public enum FeedResult: Sendable {
    /// Nothing changed since the position (HTTP 304).
    case notModified
    /// The whole feed, with its validators.
    case body([UInt8], etag: String?, lastModified: String?)
    /// What changed since the token (or, from no position, every resource, `complete`).
    case changes(FeedChanges)
    /// The token is no longer valid: the source must be read from no position.
    case tokenInvalid
}

/// The resources of a collection that changed since a token.
public struct FeedChanges: Sendable {
    /// Each changed resource (one item each).
    public var changed: [Resource]
    /// The hrefs of the resources deleted.
    public var deleted: [String]
    /// The position once these changes are applied.
    public var token: String
    /// True when the changes are the whole collection (read from no position): an item not
    /// among them is gone.
    public var complete: Bool

    /// A member of a collection: its href, its ETag when the source gives one, its iCalendar body.
    public struct Resource: Sendable, Hashable {
        public var href: String
        public var etag: String?
        public var body: [UInt8]

        public init(href: String, etag: String?, body: [UInt8]) {
            self.href = href
            self.etag = etag
            self.body = body
        }
    }

    public init(changed: [Resource], deleted: [String], token: String, complete: Bool) {
        self.changed = changed
        self.deleted = deleted
        self.token = token
        self.complete = complete
    }
}

/// A fetch's result, and whether it was shared with other subscriptions of the same feed.
public struct FeedAnswer: Sendable {
    public var result: FeedResult
    /// True when the answer came from a fetch made for another subscription (in flight at the
    /// same time, or made within the shared window): this pass sent no request of its own.
    public var shared: Bool

    public init(result: FeedResult, shared: Bool = false) {
        self.result = result
        self.shared = shared
    }
}

extension FeedSource {
    public func answer(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedAnswer {
        FeedAnswer(result: try await fetch(s, from: position, onBody: onBody))
    }

    /// The feed, without watching it arrive.
    public func fetch(_ s: Subscription, from position: FeedPosition? = nil) async throws(FetchError) -> FeedResult {
        try await fetch(s, from: position, onBody: nil)
    }
}

extension FeedPosition {
    /// The validators, for a conditional GET (none for a token).
    public var validators: (etag: String?, lastModified: String?) {
        if case .validators(let etag, let lastModified) = self { return (etag, lastModified) }
        return (nil, nil)
    }

    public var isToken: Bool {
        if case .token = self { return true }
        return false
    }

    /// True for a collection's position (a token, or members), which only a collection answers.
    public var isCollection: Bool {
        if case .validators = self { return false }
        return true
    }
}
