import Engine
import Foundation

/// What the daemon's `GET /status` answers: every subscription of the configuration in force,
/// its schedule and its stored state. Secrets and feed URLs (which may carry one) never appear;
/// the feed's host does.
public struct DaemonStatus: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var id: String
        public var enabled: Bool
        /// waiting, running, backing-off or disabled.
        public var phase: String
        public var nextDue: Date?
        public var lastAttempt: Date?
        public var lastSuccess: Date?
        public var lastError: String?
        public var consecutiveFailures: Int
        public var items: Int
        public var feedHost: String
        public var target: String
        public var collection: String
        /// The refresh interval in force (seconds): the subscription's, or the feed's own pace.
        public var refreshSeconds: Int
        /// How fresh the mirror is: `fresh` while the last success is at most one and a half
        /// refresh intervals old, `stale` after, `never` before the first success.
        public var freshness: String

        enum CodingKeys: String, CodingKey {
            case id, enabled, phase, items, target, collection, freshness
            case refreshSeconds = "refresh-seconds"
            case nextDue = "next-due"
            case lastAttempt = "last-attempt"
            case lastSuccess = "last-success"
            case lastError = "last-error"
            case consecutiveFailures = "consecutive-failures"
            case feedHost = "feed-host"
        }
    }

    public var now: Date
    public var running: Int
    public var subscriptions: [Entry]

    public init(
        subscriptions: [Subscription], schedules: [String: Schedule], states: [String: FeedState], items: [String: Int],
        running: Int, now: Date
    ) {
        self.now = now
        self.running = running
        self.subscriptions = subscriptions.sorted { $0.id < $1.id }.map { s in
            let schedule = s.enabled ? schedules[s.id] : nil
            let state = states[s.id] ?? FeedState()
            let phase =
                switch schedule?.phase {
                case .waiting?: "waiting"
                case .running?: "running"
                case .backingOff?: "backing-off"
                case nil: "disabled"
                }
            let refresh = s.interval(feedRefresh: state.feedRefresh)
            return Entry(
                id: s.id, enabled: s.enabled, phase: phase, nextDue: schedule?.nextDue, lastAttempt: state.lastAttempt,
                lastSuccess: state.lastSuccess, lastError: state.lastError, consecutiveFailures: state.failures,
                items: items[s.id] ?? 0, feedHost: s.sourceHost, target: Redact.url(s.targetURL),
                collection: s.targetCollection, refreshSeconds: refresh,
                freshness: Self.freshness(lastSuccess: state.lastSuccess, refresh: refresh, now: now))
        }
    }

    /// `fresh`, `stale` or `never` (see `Entry.freshness`).
    static func freshness(lastSuccess: Date?, refresh: Int, now: Date) -> String {
        guard let lastSuccess else { return "never" }
        return now.timeIntervalSince(lastSuccess) <= 1.5 * Double(refresh) ? "fresh" : "stale"
    }

    /// Pretty, key-sorted JSON with ISO 8601 dates.
    public func json() -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return Array((try? e.encode(self)) ?? Data("{}".utf8)) + [0x0A]
    }
}
