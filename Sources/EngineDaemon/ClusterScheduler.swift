import Engine
import Foundation
import Logging

/// The schedule of engines that share a store (`ClusterStore`, PostgreSQL): next due times,
/// back-off and failures live in the store, so every engine sees one schedule and a restart or a
/// takeover keeps it. Each round claims what is due (leases, `FOR UPDATE SKIP LOCKED`: no two
/// engines ever hold one subscription) up to the free slots, and each finished pass gives its
/// lease back with the next due time. Other engines' changes (a trigger, a finished pass) are
/// seen by looking again every `poll` seconds.
public actor ClusterScheduler: PassScheduler {
    let store: any ClusterStore
    let logger: Logger
    let metrics: EngineMetrics
    let maxParallel: Int
    let random: @Sendable () -> Double
    /// How often the store is asked what is due when nothing else wakes the loop.
    let poll: TimeInterval
    public nonisolated let pass: Scheduler.Pass
    public private(set) var running = 0
    private var subscriptions: [String: Subscription]
    private var joined = false
    /// Subscriptions whose files another live engine has in another version, with that engine.
    private var conflicts: [String: String] = [:]
    private var checkedConflicts = Date.distantPast
    /// Set while the store cannot be reached (logged once, then once again when it answers).
    private var unreachableSince: Date?

    public init(
        store: any ClusterStore, subscriptions: [Subscription], maxParallel: Int = 8, poll: TimeInterval = 0.5,
        logger: Logger, metrics: EngineMetrics, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        pass: @escaping Scheduler.Pass
    ) {
        self.store = store
        self.subscriptions = Self.enabled(subscriptions)
        self.maxParallel = max(1, maxParallel)
        self.poll = poll
        self.logger = logger
        self.metrics = metrics
        self.random = random
        self.pass = pass
    }

    static func enabled(_ subscriptions: [Subscription]) -> [String: Subscription] {
        Dictionary(subscriptions.filter(\.enabled).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func start(now: Date) -> [Scheduler.Started] {
        guard running < maxParallel else { return [] }
        do {
            if !joined { try join(now: now) }
            if now.timeIntervalSince(checkedConflicts) >= store.leaseSeconds { note(try store.conflicts()) }
            let claims = try store.claim(limit: maxParallel - running, now: now)
            reachable()
            var started: [Scheduler.Started] = []
            for claim in claims {
                // Claims are of this engine's own subscriptions (its digests); one it no longer
                // has (a reload in between) goes back as it was.
                guard let sub = subscriptions[claim.id] else {
                    try store.release(claim.id, nextDue: claim.due ?? now)
                    continue
                }
                running += 1
                started.append(
                    Scheduler.Started(subscription: sub, lag: max(0, now.timeIntervalSince(claim.due ?? now))))
            }
            metrics.leases(held: running)
            return started
        } catch {
            unreachable(error)
            return []
        }
    }

    public func finish(_ r: SyncReport, now: Date) {
        running = max(0, running - 1)
        metrics.leases(held: running)
        guard let sub = subscriptions[r.subscription] else {
            try? store.release(r.subscription, nextDue: now)
            return
        }
        // The pass recorded its failures in the store (a busy or interrupted pass counts none).
        let failures = r.succeeded ? 0 : max(1, (try? store.feed(r.subscription).failures) ?? 1)
        let next = Schedule.nextDue(
            failures: failures, now: now, interval: TimeInterval(sub.interval(feedRefresh: r.feedRefresh)),
            retryAfter: r.retryAfter.map(TimeInterval.init), jitter: random())
        do {
            if try !store.release(r.subscription, nextDue: next) {
                logger.warning(
                    "the subscription's lease was taken over during its pass; its schedule is the other engine's",
                    metadata: ["subscription.id": "\(r.subscription)"])
            }
        } catch {
            unreachable(error)
        }
    }

    public func nextWake() -> Date? {
        running >= maxParallel ? nil : Date().addingTimeInterval(poll)
    }

    public func trigger(_ id: String, now: Date) -> Scheduler.TriggerResult {
        do {
            switch try store.trigger(id, now: now) {
            case .queued?: return .queued
            case .afterRunningPass?: return .queuedAfterRunningPass
            case nil: return .unknown
            }
        } catch {
            unreachable(error)
            return .unknown
        }
    }

    public func reload(_ subscriptions: [Subscription], now: Date) {
        self.subscriptions = Self.enabled(subscriptions)
        do { try join(now: now) } catch { unreachable(error) }
    }

    public func allSchedules() -> [String: Schedule] {
        guard let states = try? store.feeds(), let leases = try? store.cluster().leases else { return [:] }
        var out: [String: Schedule] = [:]
        for id in subscriptions.keys {
            let state = states[id] ?? FeedState()
            let phase: Schedule.Phase = leases[id] != nil ? .running : state.failures > 0 ? .backingOff : .waiting
            out[id] = Schedule(phase: phase, nextDue: state.nextDue ?? Date(), failures: state.failures)
        }
        return out
    }

    public func stopped() {
        do { try store.leave() } catch {
            logger.warning(
                "could not leave the cluster; its leases expire by themselves", metadata: ["error": "\(error)"])
        }
    }

    /// Registers this engine's subscriptions and their digests with the store.
    private func join(now: Date) throws {
        note(try store.join(subscriptions.mapValues(\.digest), now: now))
        joined = true
    }

    /// Logs subscriptions that start or stop disagreeing with another engine's files.
    private func note(_ found: [String: String]) {
        checkedConflicts = Date()
        for (id, engine) in found.sorted(by: { $0.key < $1.key }) where conflicts[id] == nil {
            logger.warning(
                "this engine's files define the subscription differently from another engine's; neither runs it until their files agree",
                metadata: ["subscription.id": "\(id)", "other.engine": "\(engine)"])
        }
        for id in conflicts.keys.sorted() where found[id] == nil {
            logger.notice("the engines' files agree on the subscription again", metadata: ["subscription.id": "\(id)"])
        }
        conflicts = found
    }

    private func unreachable(_ error: any Error) {
        guard unreachableSince == nil else { return }
        unreachableSince = Date()
        logger.error("the shared store cannot be reached; trying again", metadata: ["error": "\(error)"])
    }

    private func reachable() {
        guard let since = unreachableSince else { return }
        unreachableSince = nil
        logger.notice(
            "the shared store answers again",
            metadata: ["unreachable.seconds": "\(Int(Date().timeIntervalSince(since)))"])
    }
}
