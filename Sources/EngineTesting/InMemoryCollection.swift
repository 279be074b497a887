import Engine
import Foundation

/// A calendar collection in memory that says what changed since a token, as a CalDAV server's
/// sync-collection does: resources by href, each change numbered. Read from no position it
/// answers every resource (`complete`); from a token it answers the resources changed and the
/// hrefs deleted since; from members (`FeedPosition.members`), what differs from them; a token
/// it never gave, or one older than what it remembers (`forgetTokens()`), is `tokenInvalid`.
public final class InMemoryCollection: FeedSource, @unchecked Sendable {
    // Unchecked: every field is read and written under `lock`.
    private let lock = NSLock()
    private var resources: [String: [UInt8]] = [:]
    /// The change number at which each href last changed, and the deleted ones.
    private var changedAt: [String: Int] = [:]
    private var deletedAt: [String: Int] = [:]
    private var revision = 0
    /// Tokens before this revision are no longer known.
    private var oldest = 0
    private let name = UUID().uuidString.prefix(8)

    public init() {}

    /// Adds or replaces a resource (the same bytes again change nothing).
    public func put(_ href: String, _ body: [UInt8]) {
        lock.withLock {
            guard resources[href] != body else { return }
            revision += 1
            resources[href] = body
            changedAt[href] = revision
            deletedAt[href] = nil
        }
    }

    public func delete(_ href: String) {
        lock.withLock {
            guard resources.removeValue(forKey: href) != nil else { return }
            revision += 1
            changedAt[href] = nil
            deletedAt[href] = revision
        }
    }

    /// Makes the collection hold exactly `resources`: the others deleted, the changed ones put.
    public func replace(with resources: [String: [UInt8]]) {
        for href in lock.withLock({ Array(self.resources.keys) }) where resources[href] == nil { delete(href) }
        for (href, body) in resources.sorted(by: { $0.key < $1.key }) { put(href, body) }
    }

    /// Forgets the changes made so far: every token given until now becomes invalid.
    public func forgetTokens() {
        lock.withLock { oldest = revision }
    }

    /// A read from no position larger than the subscription's `max-feed-bytes` is `tooLarge`.
    /// Each resource's ETag is the number of the change that last touched it.
    public func fetch(
        _ s: Subscription, from position: FeedPosition?, onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedResult {
        let answer: FeedResult? = lock.withLock {
            let token = "\(name)-\(revision)"
            func resource(_ href: String) -> FeedChanges.Resource? {
                guard let body = resources[href], let n = changedAt[href] else { return nil }
                return FeedChanges.Resource(href: href, etag: "\"\(n)\"", body: body)
            }
            switch position {
            case .token(let since)?:
                guard since.hasPrefix("\(name)-"), let n = Int(since.dropFirst(name.count + 1)), n >= oldest,
                    n <= revision
                else { return .tokenInvalid }
                if n == revision { return .notModified }
                let changed = changedAt.filter { $0.value > n }.keys.sorted().compactMap(resource)
                let deleted = deletedAt.filter { $0.value > n }.keys.sorted()
                return .changes(FeedChanges(changed: changed, deleted: deleted, token: token, complete: false))
            case .members(let known)?:
                let changed = resources.keys.sorted().compactMap(resource).filter { known[$0.href] != $0.etag }
                let deleted = known.keys.filter { resources[$0] == nil }.sorted()
                return .changes(FeedChanges(changed: changed, deleted: deleted, token: token, complete: false))
            case .validators?, nil:
                guard resources.values.reduce(0, { $0 + $1.count }) <= s.maxFeedBytes else { return nil }
                let all = resources.keys.sorted().compactMap(resource)
                return .changes(FeedChanges(changed: all, deleted: [], token: token, complete: true))
            }
        }
        guard let answer else { throw .tooLarge(subscription: s.id, limit: s.maxFeedBytes) }
        return answer
    }
}
