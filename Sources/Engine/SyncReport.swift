import Foundation

/// What one pass did.
public struct SyncReport: Sendable {
    public var subscription: String
    /// The feed answered 304, or its body was the one already applied: nothing else was done.
    public var notModified = false
    public var added: [String] = []
    public var updated: [(key: String, edits: Int)] = []
    public var deleted: [String] = []
    public var unchanged = 0
    public var dropped = 0
    /// Items that failed, with why; they are retried next pass.
    public var failed: [(key: String, reason: String)] = []
    /// Why the pass as a whole failed (fetch, parse, guard), if it did.
    public var error: String?
    /// The kind of that failure, for metrics and alerts.
    public var errorKind: PassErrorKind?
    /// With --dry-run: what would be done, one line per edit.
    public var plan: [String] = []
    /// Every target item was compared with the feed.
    public var reconciled = false
    /// In a reconcile: the items whose writes repaired the mirror rather than followed the feed
    /// (an entity missing, changed or added on the target behind the engine's back), by key.
    public var repaired: [String] = []
    /// Seconds the feed's server asked to wait (Retry-After on a 429 or 503).
    public var retryAfter: Int?
    /// How many unchanged items were recognized by their bytes (see `FeedScan`), without being
    /// parsed, filtered or hashed.
    public var settledUnparsed = 0
    /// How many of the target's copies of changed items were fetched (with trust-lastmod, only
    /// those whose LAST-MODIFIED on the target is not the one recorded).
    public var copiesFetched = 0
    /// UIDs that came more than once for one component (Office 365 exports an invitation many
    /// times), ordered by key, each with how many copies were left out: the latest revision of
    /// each is kept (see `ItemGrouper`). With `identity: content`, also items of one content
    /// under other UIDs, by the UID of the copy kept.
    public var duplicates: [(key: String, dropped: Int)] = []
    /// With `refresh: feed`: the interval the feed asks for (REFRESH-INTERVAL or X-PUBLISHED-TTL),
    /// bounded by `refresh-min` and `refresh-max`, in seconds; the schedule's next interval. Nil
    /// when the feed asks for none (the subscription's `refresh` applies, within the bounds).
    public var feedRefresh: Int?
    /// The feed's answer came from a fetch made for another subscription of the same feed (same
    /// URL, credentials and headers; see `SharedFeedSource`): this pass sent no request.
    public var fetchShared = false
    /// What was wrong with the feed that did not stop the pass (a malformed REFRESH-INTERVAL).
    public var diagnostics: [String] = []

    public init(subscription: String) {
        self.subscription = subscription
    }

    /// True when the feed was applied completely.
    public var succeeded: Bool { error == nil && failed.isEmpty }
}
