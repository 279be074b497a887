import Engine
import Foundation

/// A feed in memory: its body can be replaced at any time, and it answers conditional fetches
/// with an ETag derived from the body, as a static file server does; a body larger than the
/// subscription's `max-feed-bytes` is `tooLarge`.
public final class InMemoryFeed: FeedSource, @unchecked Sendable {
    // Unchecked: `body` is read and written under `lock`.
    private let lock = NSLock()
    private var body: [UInt8]

    public init(_ body: [UInt8] = []) {
        self.body = body
    }

    /// Replaces the feed's body.
    public func publish(_ body: [UInt8]) {
        lock.withLock { self.body = body }
    }

    /// The body it serves now.
    public var published: [UInt8] {
        lock.withLock { body }
    }

    public func fetch(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedResult {
        let body = lock.withLock { self.body }
        guard body.count <= s.maxFeedBytes else { throw .tooLarge(subscription: s.id, limit: s.maxFeedBytes) }
        // FNV-1a of the body: any change of a byte changes the tag.
        var fnv: UInt64 = 0xcbf2_9ce4_8422_2325
        body.withUnsafeBufferPointer { bytes in
            for byte in bytes { fnv = (fnv ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        let tag = "\"" + String(fnv, radix: 16) + "\""
        if position?.validators.etag == tag { return .notModified }
        body.withUnsafeBufferPointer { onBody?($0) }
        return .body(body, etag: tag, lastModified: nil)
    }
}
