import Engine
import Foundation

/// What the daemon's loop drives: which passes start now, what a finished one means for the
/// schedule, triggers and reloads. `Scheduler` keeps the schedule in this process (SQLite);
/// `ClusterScheduler` keeps it in a store engines share (PostgreSQL).
public protocol PassScheduler: Actor {
    /// The pass the scheduler runs (the daemon runs it for what `start` returns).
    nonisolated var pass: Scheduler.Pass { get }
    /// Passes running now.
    var running: Int { get }
    /// Marks what is due at `now` as running (as many as free slots allow): the caller runs
    /// their passes and reports each through `finish`.
    func start(now: Date) async -> [Scheduler.Started]
    /// Records a finished pass: its next due time, or its back-off.
    func finish(_ r: SyncReport, now: Date) async
    /// When the daemon should look again (nil: when a pass finishes or a trigger comes).
    func nextWake() async -> Date?
    /// Makes a subscription due now.
    func trigger(_ id: String, now: Date) async -> Scheduler.TriggerResult
    /// Replaces the configuration.
    func reload(_ subscriptions: [Subscription], now: Date) async
    /// Every schedule, by subscription id.
    func allSchedules() async -> [String: Schedule]
    /// The daemon is stopping and its passes have ended.
    func stopped() async
}

/// Runs the subscriptions that are due, in parallel up to a bound, never two passes of one
/// subscription at once. The clock, the jitter and the pass itself are injected, so the tests
/// drive it without sleeping. The daemon drives it with `start` and `finish`; `runDue` is one
/// round of the same (for tests and one-shot use).
public actor Scheduler: PassScheduler {
    public typealias Pass = @Sendable (Subscription) async -> SyncReport

    /// A pass the scheduler started: the subscription, and how late it started (queue lag).
    public struct Started: Sendable {
        public let subscription: Subscription
        public let lag: TimeInterval
    }

    /// What a trigger did.
    public enum TriggerResult: String, Sendable {
        /// The subscription is due now.
        case queued
        /// A pass is running; another runs as soon as it finishes (the feed may have changed
        /// after this one fetched it).
        case queuedAfterRunningPass = "queued-after-running-pass"
        /// No enabled subscription has this id.
        case unknown
    }

    private var subscriptions: [String: Subscription]
    private var schedules: [String: Schedule]
    /// Running subscriptions triggered again: due the moment their pass finishes.
    private var rerun: Set<String> = []
    /// Subscriptions of one feed URL with the same fixed interval, by id: their passes are due
    /// together, so they share one fetch (`SharedFeedSource`).
    private var mates: [String: [String]] = [:]
    private let maxParallel: Int
    private let random: @Sendable () -> Double
    /// Told each subscription's next due time whenever it is set, so the status store holds the
    /// daemon's schedule (back-off included) for `outboard status`.
    private let record: @Sendable (_ id: String, _ nextDue: Date) -> Void
    /// The pass the scheduler runs (the daemon runs it for what `start` returns).
    public nonisolated let pass: Pass
    public private(set) var running = 0

    /// `states` are the stored feed states (last attempt, failures) the schedules start from.
    public init(
        subscriptions: [Subscription], states: [String: FeedState], now: Date, maxParallel: Int = 8,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        record: @escaping @Sendable (_ id: String, _ nextDue: Date) -> Void = { _, _ in }, pass: @escaping Pass
    ) {
        self.subscriptions = Dictionary(
            subscriptions.filter(\.enabled).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.maxParallel = max(1, maxParallel)
        self.random = random
        self.record = record
        self.pass = pass
        var schedules: [String: Schedule] = [:]
        for s in subscriptions where s.enabled {
            let state = states[s.id]
            schedules[s.id] = Schedule(
                lastAttempt: state?.lastAttempt, failures: state?.failures ?? 0,
                interval: TimeInterval(s.interval(feedRefresh: state?.feedRefresh)), now: now, jitter: random())
        }
        let mates = Self.mates(subscriptions)
        let refreshes = Dictionary(subscriptions.map { ($0.id, $0.refresh) }, uniquingKeysWith: { a, _ in a })
        for id in schedules.keys.sorted() {
            Self.align(id, &schedules, mates: mates[id] ?? [], refresh: refreshes[id] ?? 0)
        }
        self.mates = mates
        self.schedules = schedules
        for (id, s) in schedules { record(id, s.nextDue) }
    }

    /// The mates of each subscription that has any.
    static func mates(_ subscriptions: [Subscription]) -> [String: [String]] {
        let groups = Dictionary(
            grouping: subscriptions.filter { $0.enabled && !$0.refreshFromFeed },
            by: { "\($0.sourceURL) \($0.refresh)" })
        var mates: [String: [String]] = [:]
        for group in groups.values where group.count > 1 {
            for s in group { mates[s.id] = group.map(\.id).filter { $0 != s.id } }
        }
        return mates
    }

    /// Moves a waiting subscription's due time to the earliest one of a mate that lies within a
    /// fifth of its interval (the jitter's whole range: the same refresh), so a feed's
    /// subscribers stay in one window.
    static func align(_ id: String, _ schedules: inout [String: Schedule], mates: [String], refresh: Int) {
        guard var s = schedules[id], s.phase == .waiting, !mates.isEmpty else { return }
        let band = Double(refresh) * 0.2
        let times = mates.compactMap { schedules[$0] }.filter {
            $0.phase == .waiting && abs($0.nextDue.timeIntervalSince(s.nextDue)) <= band
        }.map(\.nextDue)
        if let earliest = times.min(), earliest < s.nextDue {
            s.nextDue = earliest
            schedules[id] = s
        }
    }

    /// The schedule of a subscription (for status and tests).
    public func schedule(_ id: String) -> Schedule? { schedules[id] }

    /// Every schedule, by subscription id.
    public func allSchedules() -> [String: Schedule] { schedules }

    /// The earliest time anything is due (nil with no subscriptions).
    public func nextDue() -> Date? {
        schedules.values.filter { $0.phase != .running }.map(\.nextDue).min()
    }

    /// When the daemon should look again: the next due time, or nil when every slot is busy (a
    /// finishing pass wakes it) or nothing is scheduled.
    public func nextWake() -> Date? {
        running >= maxParallel ? nil : nextDue()
    }

    /// Makes a subscription due now (a trigger from outside: a webhook or a push notification).
    @discardableResult
    public func trigger(_ id: String, now: Date) -> TriggerResult {
        guard var s = schedules[id] else { return .unknown }
        if s.phase == .running {
            rerun.insert(id)
            return .queuedAfterRunningPass
        }
        s.nextDue = min(s.nextDue, now)
        schedules[id] = s
        record(id, s.nextDue)
        return .queued
    }

    /// Marks the subscriptions due at `now` as running, earliest due first, as many as free slots
    /// allow; the caller runs their passes and reports each through `finish`.
    public func start(now: Date) -> [Started] {
        start(now: now, excluding: [])
    }

    private func start(now: Date, excluding: Set<String>) -> [Started] {
        guard running < maxParallel else { return [] }
        let due = schedules.filter { $0.value.isDue(now) && !excluding.contains($0.key) }.sorted {
            ($0.value.nextDue, $0.key) < ($1.value.nextDue, $1.key)
        }
        var started: [Started] = []
        for (id, var s) in due.prefix(maxParallel - running) {
            guard let sub = subscriptions[id], s.start(now: now) else { continue }
            started.append(Started(subscription: sub, lag: max(0, now.timeIntervalSince(s.nextDue))))
            schedules[id] = s
            running += 1
        }
        return started
    }

    /// Records a finished pass: its next due time, or its back-off.
    public func finish(_ r: SyncReport, now: Date) {
        running = max(0, running - 1)
        guard var s = schedules[r.subscription], let sub = subscriptions[r.subscription] else { return }
        s.finish(
            success: r.succeeded, now: now, interval: TimeInterval(sub.interval(feedRefresh: r.feedRefresh)),
            retryAfter: r.retryAfter.map(TimeInterval.init), jitter: random())
        if rerun.remove(r.subscription) != nil, r.retryAfter == nil { s.nextDue = now }
        schedules[r.subscription] = s
        Self.align(r.subscription, &schedules, mates: mates[r.subscription] ?? [], refresh: sub.refresh)
        record(r.subscription, schedules[r.subscription]!.nextDue)
    }

    /// Runs every subscription due at `now` once (at most `maxParallel` at a time) and returns
    /// their reports once all have finished; `clock` dates each finish.
    public func runDue(now: Date, clock: @escaping @Sendable () -> Date) async -> [SyncReport] {
        var reports: [SyncReport] = []
        var ran = Set<String>()
        let pass = self.pass
        await withTaskGroup(of: SyncReport.self) { group in
            func startDue() {
                for s in start(now: now, excluding: ran) {
                    ran.insert(s.subscription.id)
                    group.addTask { await pass(s.subscription) }
                }
            }
            startDue()
            while let report = await group.next() {
                finish(report, now: clock())
                reports.append(report)
                startDue()
            }
        }
        return reports
    }

    public func stopped() {}

    /// Replaces the configuration (a reload): kept subscriptions keep their schedules, new ones
    /// are due at once, removed ones stop.
    public func reload(_ subscriptions: [Subscription], now: Date) {
        let enabled = subscriptions.filter(\.enabled)
        var schedules: [String: Schedule] = [:]
        for s in enabled {
            schedules[s.id] =
                self.schedules[s.id]
                ?? Schedule(
                    lastAttempt: nil, failures: 0, interval: TimeInterval(s.refresh), now: now, jitter: random())
        }
        self.schedules = schedules
        self.subscriptions = Dictionary(enabled.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        mates = Self.mates(enabled)
        rerun.formIntersection(schedules.keys)
    }
}
