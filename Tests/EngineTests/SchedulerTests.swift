import Engine
import EngineAdapters
import EngineDaemon
import Foundation
import Testing

let t0 = Date(timeIntervalSince1970: 1_800_000_000)

@Suite struct ScheduleTests {
    @Test(arguments: [
        // (last attempt offset, failures, jitter, expected due offset from t0, phase)
        (nil as Double?, 0, 0.5, 0.0, "waiting"),  // never synced: due at once
        (-100.0, 0, 0.5, 800.0, "waiting"),  // interval 900 s after the last attempt
        (-100.0, 0, 0.0, 710.0, "waiting"),  // jitter -10%: 810 after the last attempt
        (-100.0, 0, 1.0, 890.0, "waiting"),  // jitter +10%: 990
        (-2000.0, 0, 0.5, 0.0, "waiting"),  // overdue: now, not in the past
        (-10.0, 3, 0.5, 230.0, "backingOff"),  // failing: 60·2² = 240 after the last attempt
    ])
    func aRestartedEngineSchedulesFromTheStoredState(
        last: Double?, failures: Int, jitter: Double, due: Double, phase: String
    ) {
        let s = Schedule(
            lastAttempt: last.map { t0.addingTimeInterval($0) }, failures: failures, interval: 900, now: t0,
            jitter: jitter)
        #expect(s.nextDue.timeIntervalSince(t0) == due)
        #expect("\(s.phase)" == phase)
    }

    @Test(arguments: [
        // (failures before, success, retry-after, expected delay from now, failures after)
        (0, true, nil as Double?, 900.0, 0),
        (3, true, nil, 900.0, 0),  // recovery resets the back-off
        (0, false, nil, 60.0, 1),  // first failure: 1 minute
        (1, false, nil, 120.0, 2),
        (4, false, nil, 960.0, 5),
        (20, false, nil, 21600.0, 21),  // capped at 6 hours, and retried there
        (0, false, 3600.0, 3600.0, 1),  // Retry-After is honoured
        (5, false, 30.0, 1920.0, 6),  // but never shortens the back-off
    ])
    func finishingAPassSetsTheNextDueTime(before: Int, success: Bool, retryAfter: Double?, delay: Double, after: Int) {
        var s = Schedule(lastAttempt: t0, failures: before, interval: 900, now: t0, jitter: 0.5)
        s.nextDue = t0
        let started = s.start(now: t0)
        let again = s.start(now: t0)
        #expect(started)
        #expect(!again, "never two passes of one subscription")
        s.finish(success: success, now: t0, interval: 900, retryAfter: retryAfter, jitter: 0.5)
        #expect(s.nextDue.timeIntervalSince(t0) == delay)
        #expect(s.failures == after)
        #expect(s.phase == (success ? .waiting : .backingOff))
    }
}

/// Holds passes until the test lets them through, one at a time, and counts them.
actor Turnstile {
    private(set) var current = 0, peak = 0, entered = 0, left = 0
    private(set) var started: [String] = []
    private var held: [CheckedContinuation<Void, Never>] = []
    private var permits = 0, isOpen = false
    private var waiters: [(entered: Int, left: Int, continuation: CheckedContinuation<Void, Never>)] = []

    /// A pass: enters, waits to be let through, leaves.
    func pass(_ id: String) async {
        current += 1
        entered += 1
        peak = max(peak, current)
        started.append(id)
        wake()
        if !isOpen {
            if permits > 0 { permits -= 1 } else { await withCheckedContinuation { held.append($0) } }
        }
        current -= 1
        left += 1
        wake()
    }

    private func wake() {
        for w in waiters where w.entered <= entered && w.left <= left { w.continuation.resume() }
        waiters.removeAll { $0.entered <= entered && $0.left <= left }
    }

    /// Lets one held pass (or the next to arrive) through.
    func release() {
        if held.isEmpty { permits += 1 } else { held.removeFirst().resume() }
    }

    /// Lets every pass through from now on.
    func open() {
        isOpen = true
        for continuation in held { continuation.resume() }
        held = []
    }

    /// Returns once `entered` passes have entered and `left` have left.
    func waitUntil(entered: Int, left: Int) async {
        if self.entered >= entered, self.left >= left { return }
        await withCheckedContinuation { waiters.append((entered, left, $0)) }
    }

    /// Lets `total` passes through one at a time, checking before each that exactly `bound` (or
    /// all that are left) are in flight, and first that the scheduler started no more.
    func drive(total: Int, bound: Int, scheduler: Scheduler) async {
        for done in 0..<total {
            let inFlight = min(bound, total - done)
            await waitUntil(entered: done + inFlight, left: done)
            if done == 0 { #expect(await scheduler.running == bound, "passes the scheduler started at once") }
            #expect(current == inFlight, "after \(done) finished: \(current) passes at once")
            release()
        }
        await waitUntil(entered: total, left: total)
    }
}

func subscriptions(_ n: Int, refresh: Int = 900) throws -> [Subscription] {
    try (0..<n).map { i in
        try SubscriptionLoader.load(
            id: "s\(i)",
            text:
                "source:\n  url: http://127.0.0.1:1/f\(i).ics\nrefresh: \(refresh)s\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /c/\(i)\n  token-env: T\n",
            file: "s\(i).yaml", filters: [:], environment: ["T": "t"]
        ).get()
    }
}

@Suite struct SchedulerTests {
    @Test(.timeLimit(.minutes(1)))
    func passesRunInParallelUpToTheBoundAndNeverOverlap() async throws {
        let gate = Turnstile()
        let scheduler = Scheduler(
            subscriptions: try subscriptions(20), states: [:], now: t0, maxParallel: 3, random: { 0.5 }
        ) { sub in
            await gate.pass(sub.id)
            return SyncReport(subscription: sub.id)
        }
        // Two overlapping calls share the bound; each subscription still runs once.
        async let a = scheduler.runDue(now: t0, clock: { t0 })
        async let b = scheduler.runDue(now: t0, clock: { t0 })
        await gate.drive(total: 20, bound: 3, scheduler: scheduler)
        let first = await a
        let second = await b
        #expect(first.count + second.count == 20)
        #expect(await gate.peak == 3)
        #expect(await Set(gate.started).count == 20, "no subscription ran twice")
        // Nothing is due again before its interval.
        await gate.open()
        #expect(await scheduler.runDue(now: t0.addingTimeInterval(700), clock: { t0 }).isEmpty)
        #expect(await scheduler.runDue(now: t0.addingTimeInterval(900), clock: { t0 }).count == 20)
    }

    /// The passes wait at a turnstile, so they pile up to exactly the bound, and one more
    /// starts each time one finishes; no sleeping, no timing.
    @Test(.timeLimit(.minutes(1)))
    func oneCallRespectsItsBound() async throws {
        let gate = Turnstile()
        let scheduler = Scheduler(
            subscriptions: try subscriptions(12), states: [:], now: t0, maxParallel: 4, random: { 0.5 }
        ) { sub in
            await gate.pass(sub.id)
            return SyncReport(subscription: sub.id)
        }
        async let reports = scheduler.runDue(now: t0, clock: { t0 })
        await gate.drive(total: 12, bound: 4, scheduler: scheduler)
        #expect(await reports.count == 12)
        #expect(await gate.peak == 4, "passes ran side by side, never more than the bound")
    }

    @Test func failuresBackOffAndRecover() async throws {
        let failing = Flag(true)
        let scheduler = Scheduler(
            subscriptions: try subscriptions(1, refresh: 600), states: [:], now: t0, random: { 0.5 }
        ) { sub in
            var r = SyncReport(subscription: sub.id)
            if await failing.value {
                r.error = "down"
                r.retryAfter = nil
            }
            return r
        }
        var now = t0
        for expected in [60.0, 120.0, 240.0] {
            let at = now
            _ = await scheduler.runDue(now: at, clock: { at })
            let s = try #require(await scheduler.schedule("s0"))
            #expect(s.phase == .backingOff)
            #expect(s.nextDue.timeIntervalSince(now) == expected)
            now = s.nextDue
        }
        await failing.set(false)
        let at = now
        _ = await scheduler.runDue(now: at, clock: { at })
        let s = try #require(await scheduler.schedule("s0"))
        #expect(s.failures == 0 && s.phase == .waiting && s.nextDue.timeIntervalSince(now) == 600)
    }

    @Test func aTriggerMakesASubscriptionDueNowAndAReloadKeepsSchedules() async throws {
        let scheduler = Scheduler(subscriptions: try subscriptions(2), states: [:], now: t0, random: { 0.5 }) {
            SyncReport(subscription: $0.id)
        }
        _ = await scheduler.runDue(now: t0, clock: { t0 })
        #expect(await scheduler.runDue(now: t0.addingTimeInterval(10), clock: { t0 }).isEmpty)
        #expect(await scheduler.trigger("s1", now: t0.addingTimeInterval(10)) == .queued)
        #expect(await scheduler.trigger("nope", now: t0.addingTimeInterval(10)) == .unknown)
        #expect(await scheduler.runDue(now: t0.addingTimeInterval(10), clock: { t0 }).map(\.subscription) == ["s1"])
        let kept = await scheduler.schedule("s0")
        await scheduler.reload(try subscriptions(3), now: t0.addingTimeInterval(20))
        #expect(await scheduler.schedule("s0") == kept, "a kept subscription keeps its schedule")
        #expect(
            await scheduler.runDue(now: t0.addingTimeInterval(20), clock: { t0 }).map(\.subscription) == ["s2"],
            "a new one is due at once")
    }
}

@Suite struct DaemonSchedulingTests {
    /// Subscriptions of one feed URL and interval are kept due together, whatever their jitter,
    /// so their passes share one fetch; another URL, or another interval, keeps its own time.
    @Test func subscriptionsOfOneFeedStayDueTogether() async throws {
        func sub(_ id: String, _ feed: String, refresh: Int = 3600) throws -> Subscription {
            try SubscriptionLoader.load(
                id: id,
                text:
                    "source:\n  url: http://127.0.0.1:1/\(feed)\nrefresh: \(refresh)s\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /c/\(id)\n  token-env: T\n",
                file: "\(id).yaml", filters: [:], environment: ["T": "t"]
            ).get()
        }
        // Four drawn at the start (unused: never synced, all due at once), then one per finish.
        let jitters = Jitters([0.5, 0.5, 0.5, 0.5, 0.1, 0.9, 0.5, 0.3])
        let scheduler = Scheduler(
            subscriptions: [
                try sub("a", "holidays.ics"), try sub("b", "holidays.ics"), try sub("c", "other.ics"),
                try sub("d", "holidays.ics", refresh: 7200),
            ],
            states: [:], now: t0, random: { jitters.next() }
        ) { SyncReport(subscription: $0.id) }
        _ = await scheduler.start(now: t0)
        // They finish a few seconds apart, each drawing another jitter (±10% of the hour).
        for (i, id) in ["a", "b", "c", "d"].enumerated() {
            await scheduler.finish(SyncReport(subscription: id), now: t0.addingTimeInterval(Double(i)))
        }
        let due = { (id: String) in await scheduler.schedule(id)!.nextDue.timeIntervalSince(t0) }
        #expect(await due("a") == 3600 * (0.9 + 0.2 * 0.1), "jitter 0.1: -8%")
        #expect(await due("b") == 3600 * (0.9 + 0.2 * 0.1), "b is due with a, not at its own 1 s + 108%")
        #expect(await due("c") == 2 + 3600, "another feed keeps its own time")
        #expect(await due("d") == 3 + 7200 * (0.9 + 0.2 * 0.3), "another interval keeps its own time")
    }

    @Test func startAndFinishKeepTheBoundAndReportTheQueueLag() async throws {
        let scheduler = Scheduler(
            subscriptions: try subscriptions(3), states: [:], now: t0, maxParallel: 2, random: { 0.5 }
        ) { SyncReport(subscription: $0.id) }
        let first = await scheduler.start(now: t0.addingTimeInterval(4))
        #expect(first.map(\.subscription.id) == ["s0", "s1"], "earliest due first, as many as there are slots")
        #expect(first.map(\.lag) == [4, 4], "due at t0, started 4 s later")
        #expect(await scheduler.nextWake() == nil, "every slot busy: only a finishing pass wakes the loop")
        #expect(await scheduler.start(now: t0.addingTimeInterval(5)).isEmpty)
        await scheduler.finish(SyncReport(subscription: "s0"), now: t0.addingTimeInterval(6))
        #expect(await scheduler.nextWake() == t0, "a free slot and s2 overdue")
        #expect(await scheduler.start(now: t0.addingTimeInterval(7)).map(\.subscription.id) == ["s2"])
        #expect(await scheduler.schedule("s0")?.nextDue == t0.addingTimeInterval(6 + 900))
    }

    @Test func aTriggerDuringARunningPassRunsItAgainRightAfter() async throws {
        let scheduler = Scheduler(subscriptions: try subscriptions(1), states: [:], now: t0, random: { 0.5 }) {
            SyncReport(subscription: $0.id)
        }
        #expect(await scheduler.start(now: t0).count == 1)
        #expect(await scheduler.trigger("s0", now: t0.addingTimeInterval(1)) == .queuedAfterRunningPass)
        #expect(await scheduler.start(now: t0.addingTimeInterval(1)).isEmpty, "never two passes of one subscription")
        await scheduler.finish(SyncReport(subscription: "s0"), now: t0.addingTimeInterval(2))
        #expect(await scheduler.schedule("s0")?.nextDue == t0.addingTimeInterval(2), "due again at once")
        #expect(await scheduler.start(now: t0.addingTimeInterval(2)).count == 1)
        await scheduler.finish(SyncReport(subscription: "s0"), now: t0.addingTimeInterval(3))
        #expect(await scheduler.schedule("s0")?.nextDue == t0.addingTimeInterval(903), "and then its interval as usual")
    }

    @Test func theWatcherReloadsAChangeOnceItHasSettled() {
        var w = ConfigWatcher(directories: [], interval: 1)
        let a: ConfigWatcher.Fingerprint = [:]
        let b: ConfigWatcher.Fingerprint = ["s.yaml": [10, 1]]
        let c: ConfigWatcher.Fingerprint = ["s.yaml": [20, 2]]
        // (what the files look like at each poll, whether that poll reloads)
        let steps: [(ConfigWatcher.Fingerprint, Bool)] = [
            (a, false),  // unchanged
            (b, false),  // changed: wait one interval, it may still be being written
            (c, false),  // still changing
            (c, true),  // settled: reload
            (c, false),  // once
            (b, false), (c, false),  // changed and changed back before settling: nothing to do
            (c, false),
            (a, false), (a, true),  // a file removed: a change like any other
        ]
        for (n, (f, reload)) in steps.enumerated() {
            #expect(w.observe(f) == reload, "step \(n)")
        }
    }
}

actor Flag {
    var value: Bool
    init(_ v: Bool) { value = v }
    func set(_ v: Bool) { value = v }
}

/// Jitters handed out in turn (the scheduler's random source in a test).
final class Jitters: @unchecked Sendable {
    // Unchecked: `values` and `index` are read and written under `lock`.
    private let lock = NSLock()
    private let values: [Double]
    private var index = 0

    init(_ values: [Double]) { self.values = values }

    func next() -> Double {
        lock.withLock {
            defer { index += 1 }
            return values[index % values.count]
        }
    }
}
