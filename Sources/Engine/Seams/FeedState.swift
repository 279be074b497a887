import Foundation

/// What the engine remembers about a subscription between passes.
public struct FeedState: Sendable, Hashable {
    public var etag: String?
    public var lastModified: String?
    /// SHA-256 of the last body applied, for feeds without validators.
    public var bodyHash: String?
    public var lastAttempt: Date?
    public var lastSuccess: Date?
    public var lastError: String?
    public var failures: Int
    /// When the daemon's schedule runs the subscription next (back-off included), as it last
    /// recorded it; nil before any daemon scheduled it.
    public var nextDue: Date?
    /// When every target item was last compared with the feed; before the first reconcile, when
    /// the first pass began (the interval of `reconcile` counts from it).
    public var lastReconcile: Date?
    /// When the pass that began writing and has not completed began; nil once a pass completed.
    /// While it is set, no shortcut is taken (no conditional fetch, no equal-body or equal-bytes
    /// settling): the next pass compares every item and resolves the open intents first.
    public var passOpen: Date?
    /// With `refresh: feed`: the interval the feed last asked for, bounded (seconds); nil when it
    /// asked for none, so a pass that does not read the feed (a 304) keeps the feed's pace.
    public var feedRefresh: Int?
    /// The feed's X-WR-TIMEZONE as last read (nil: it has none), so that a pass that does not
    /// read the feed (a 304) still tells the target the collection's zone.
    public var feedZone: String?
    /// The number of the subscription's last pass that wrote or read the target (its writes carry
    /// it, so that a fencing target refuses a dead pass's late writes): recorded before its first
    /// write, and one more for each pass.
    public var passNumber = 0
    /// The token of the last changes applied, for a source that reads changes (`FeedPosition`).
    public var syncToken: String?

    /// Where the source's reading stands: its token, else its validators; nil for none.
    public var position: FeedPosition? {
        get {
            if let syncToken { return .token(syncToken) }
            if etag == nil, lastModified == nil { return nil }
            return .validators(etag: etag, lastModified: lastModified)
        }
        set {
            switch newValue {
            case .token(let t)?: (syncToken, etag, lastModified) = (t, nil, nil)
            case .validators(let e, let l)?: (syncToken, etag, lastModified) = (nil, e, l)
            case .members?, nil: (syncToken, etag, lastModified) = (nil, nil, nil)
            }
        }
    }

    public init(
        etag: String? = nil, lastModified: String? = nil, bodyHash: String? = nil, lastAttempt: Date? = nil,
        lastSuccess: Date? = nil, lastError: String? = nil, failures: Int = 0, nextDue: Date? = nil,
        lastReconcile: Date? = nil,
        passOpen: Date? = nil, feedRefresh: Int? = nil, feedZone: String? = nil, passNumber: Int = 0
    ) {
        self.etag = etag
        self.lastModified = lastModified
        self.bodyHash = bodyHash
        self.lastAttempt = lastAttempt
        self.lastSuccess = lastSuccess
        self.lastError = lastError
        self.failures = failures
        self.nextDue = nextDue
        self.lastReconcile = lastReconcile
        self.passOpen = passOpen
        self.feedRefresh = feedRefresh
        self.feedZone = feedZone
        self.passNumber = passNumber
    }
}
