/// Where a pass reads its feed: a conditional fetch with the validators of the last applied body.
///
/// Implementations: `FeedFetcher` (libcurl: http, https, file) and `InMemoryFeed` (tests and
/// simulation).
public protocol FeedSource: Sendable {
    /// The feed's new body with its validators, or `.notModified`. `onBody` sees the body's bytes
    /// as they arrive (a source that has them at once calls it once).
    func fetch(
        _ s: Subscription, etag: String?, lastModified: String?,
        onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedFetcher.Result
}

extension FeedFetcher: FeedSource {}

extension FeedSource {
    /// The feed, without watching it arrive.
    public func fetch(_ s: Subscription, etag: String?, lastModified: String?) async throws(FetchError)
        -> FeedFetcher.Result
    {
        try await fetch(s, etag: etag, lastModified: lastModified, onBody: nil)
    }
}
