/// Where a pass reads its feed: a conditional fetch with the validators of the last applied body.
///
/// Implementations: `FeedFetcher` (libcurl: http, https, file) and `InMemoryFeed` (`EngineTesting`: tests and
/// simulation).
public protocol FeedSource: Sendable {
    /// The feed's new body with its validators, or `.notModified`. `onBody` sees the body's bytes
    /// as they arrive (a source that has them at once calls it once).
    func fetch(
        _ s: Subscription, etag: String?, lastModified: String?,
        onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedFetcher.Result

    /// The same fetch, saying whether the answer came from a fetch made for another subscription
    /// (`SharedFeedSource`); a source that never shares answers with `fetch`.
    func answer(
        _ s: Subscription, etag: String?, lastModified: String?,
        onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedAnswer
}

/// A fetch's result, and whether it was shared with other subscriptions of the same feed.
public struct FeedAnswer: Sendable {
    public var result: FeedFetcher.Result
    /// True when the answer came from a fetch made for another subscription (in flight at the
    /// same time, or made within the shared window): this pass sent no request of its own.
    public var shared: Bool

    public init(result: FeedFetcher.Result, shared: Bool = false) {
        self.result = result
        self.shared = shared
    }
}

extension FeedFetcher: FeedSource {}

extension FeedSource {
    public func answer(
        _ s: Subscription, etag: String?, lastModified: String?,
        onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedAnswer {
        FeedAnswer(result: try await fetch(s, etag: etag, lastModified: lastModified, onBody: onBody))
    }

    /// The feed, without watching it arrive.
    public func fetch(_ s: Subscription, etag: String?, lastModified: String?) async throws(FetchError)
        -> FeedFetcher.Result
    {
        try await fetch(s, etag: etag, lastModified: lastModified, onBody: nil)
    }
}
