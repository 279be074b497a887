import Foundation

/// Runs the subscriptions that are due, in parallel up to a bound, never two passes of one
/// subscription at once. The clock, the jitter and the pass itself are injected, so the tests
/// drive it without sleeping.
public actor Scheduler {
    public typealias Pass = @Sendable (Subscription) async -> SyncReport

    private var subscriptions: [String: Subscription]
    private var schedules: [String: Schedule]
    private let maxParallel: Int
    private let random: @Sendable () -> Double
    private let pass: Pass
    private var running = 0

    /// `states` are the stored feed states (last attempt, failures) the schedules start from.
    public init(subscriptions: [Subscription], states: [String: FeedState], now: Date, maxParallel: Int = 8,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, pass: @escaping Pass) {
        self.subscriptions = Dictionary(subscriptions.filter(\.enabled).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.maxParallel = max(1, maxParallel)
        self.random = random
        self.pass = pass
        var schedules: [String: Schedule] = [:]
        for s in subscriptions where s.enabled {
            let state = states[s.id]
            schedules[s.id] = Schedule(lastAttempt: state?.lastAttempt, failures: state?.failures ?? 0,
                                       interval: TimeInterval(s.refresh), now: now, jitter: random())
        }
        self.schedules = schedules
    }

    /// The schedule of a subscription (for status and tests).
    public func schedule(_ id: String) -> Schedule? { schedules[id] }

    /// The earliest time anything is due (nil with no subscriptions).
    public func nextDue() -> Date? {
        schedules.values.filter { $0.phase != .running }.map(\.nextDue).min()
    }

    /// Makes a subscription due now (a trigger from outside: a webhook or a push notification).
    public func trigger(_ id: String, now: Date) -> Bool {
        guard var s = schedules[id], s.phase != .running else { return false }
        s.nextDue = now
        schedules[id] = s
        return true
    }

    /// Runs every subscription due at `now` (at most `maxParallel` at a time) and returns their
    /// reports once all have finished; `clock` dates each finish.
    public func runDue(now: Date, clock: @escaping @Sendable () -> Date) async -> [SyncReport] {
        let due = schedules.filter { $0.value.isDue(now) }.map(\.key).sorted { schedules[$0]!.nextDue < schedules[$1]!.nextDue }
        var reports: [SyncReport] = []
        await withTaskGroup(of: SyncReport?.self) { group in
            var queue = due[...]
            func startNext() -> Bool {
                while let id = queue.popFirst() {
                    guard running < maxParallel, var s = schedules[id], s.start(now: now), let sub = subscriptions[id] else { continue }
                    schedules[id] = s
                    running += 1
                    let pass = self.pass
                    group.addTask { await pass(sub) }
                    return true
                }
                return false
            }
            for _ in 0..<maxParallel where startNext() {}
            while let report = await group.next() {
                if let report {
                    running -= 1
                    finish(report, now: clock())
                    reports.append(report)
                }
                _ = startNext()
            }
        }
        return reports
    }

    private func finish(_ r: SyncReport, now: Date) {
        guard var s = schedules[r.subscription], let sub = subscriptions[r.subscription] else { return }
        s.finish(success: r.succeeded, now: now, interval: TimeInterval(sub.refresh), retryAfter: r.retryAfter.map(TimeInterval.init), jitter: random())
        schedules[r.subscription] = s
    }

    /// Replaces the configuration (a reload): kept subscriptions keep their schedules, new ones
    /// are due at once, removed ones stop.
    public func reload(_ subscriptions: [Subscription], now: Date) {
        let enabled = subscriptions.filter(\.enabled)
        var schedules: [String: Schedule] = [:]
        for s in enabled {
            schedules[s.id] = self.schedules[s.id] ?? Schedule(lastAttempt: nil, failures: 0, interval: TimeInterval(s.refresh), now: now, jitter: random())
        }
        self.schedules = schedules
        self.subscriptions = Dictionary(enabled.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }
}
