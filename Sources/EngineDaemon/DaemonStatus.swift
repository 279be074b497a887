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
        /// With a shared store: the engine holding the subscription's lease (its pass runs there).
        public var leasedBy: String?

        enum CodingKeys: String, CodingKey {
            case id, enabled, phase, items, target, collection, freshness
            case leasedBy = "leased-by"
            case refreshSeconds = "refresh-seconds"
            case nextDue = "next-due"
            case lastAttempt = "last-attempt"
            case lastSuccess = "last-success"
            case lastError = "last-error"
            case consecutiveFailures = "consecutive-failures"
            case feedHost = "feed-host"
        }
    }

    /// The cluster's view, with a shared store: its live engines (this one named), the
    /// subscriptions no engine defines any more, and those whose engines' files disagree.
    public struct Cluster: Codable, Sendable {
        public struct Engine: Codable, Sendable {
            public var name: String
            public var started: Date
            public var seen: Date
        }

        public var engine: String
        public var engines: [Engine]
        public var retired: [String: Date]
        public var disagreeing: [String]
    }

    public var now: Date
    public var running: Int
    public var subscriptions: [Entry]
    public var cluster: Cluster?

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

    /// Adds the cluster's view: who holds each lease, the engines, retired and disagreeing ids.
    public mutating func add(_ view: ClusterView, engine: String) {
        for i in subscriptions.indices { subscriptions[i].leasedBy = view.leases[subscriptions[i].id]?.engine }
        cluster = Cluster(
            engine: engine, engines: view.engines.map { .init(name: $0.name, started: $0.started, seen: $0.seen) },
            retired: view.retired, disagreeing: view.disagreeing)
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
