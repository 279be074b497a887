import CalendarModel
import Engine
import Filters
import Foundation
import Testing
import TestSupport

/// Deterministic simulation of passes over the in-memory seams (FoundationDB's and TigerBeetle's
/// way): a seeded schedule of changing feeds, each pass with a fault injected at one of its steps
/// (a crash before or after a call, a lost answer, a refused write, a write that lands late), then
/// one ordinary pass; the target must then hold exactly the feed, item by item, and a second pass
/// must plan nothing.
/// A failing seed is printed; `OUTBOARD_SIM_SEED=N` replays it alone, `OUTBOARD_SIM_RUNS=N`
/// runs more schedules.
@Suite struct CrashSimulationTests {
    static let collection = "/sim"

    static func subscription(maxDeleteFraction: Double) throws -> Subscription {
        let yaml = """
            source:
              url: http://127.0.0.1:9/feed.ics
            target:
              url: http://127.0.0.1:9/calws
              collection: \(collection)
              token-env: SIM_TOKEN
            guard:
              max-delete-fraction: \(maxDeleteFraction)
              allow-empty: true
            """
        return try SubscriptionLoader.load(
            id: "sim", text: yaml, file: "sim.yaml", filters: [:], environment: ["SIM_TOKEN": "t"]
        ).get()
    }

    /// The two subscriptions every schedule uses, read once (not once per schedule).
    static let strict = Result { try subscription(maxDeleteFraction: 0.4) }
    static let open = Result { try subscription(maxDeleteFraction: 1) }

    /// One seeded schedule; returns what went wrong, or nil.
    static func run(seed: UInt64) async throws -> String? {
        var rng = SplitMix64(seed: seed)
        let plan = FaultPlan()
        let memory = InMemoryTarget()
        let states = InMemoryStateStore()
        let target = FaultyTarget(inner: memory, plan: plan)
        let store = FaultyStore(inner: states, plan: plan)
        let source = InMemoryFeed()
        var feed = SimulatedFeed(count: Int.random(in: 3...14, using: &rng), rng: &rng)
        var history: [[UInt8]] = []
        let strict = try Self.strict.get()
        let open = try Self.open.get()
        var log: [String] = []
        func pass(_ s: Subscription) async -> SyncReport {
            var p = SyncPass(subscription: s, filters: FilterPipeline([]), store: store, target: target, source: source)
            p.batchSize = Int.random(in: 1...4, using: &rng)
            p.batchesInFlight = 1  // one call at a time, so the steps are the same on every run
            p.releasesFreeMemory = false  // 20,000 trims, madvise and TLB shootdowns: a tenth of the suite's CPU
            return await p.run(now: Date(timeIntervalSince1970: 1_800_000_000))
        }
        for _ in 0..<Int.random(in: 2...6, using: &rng) {
            // The next export, or (sometimes) an earlier one again, byte for byte.
            if !history.isEmpty, Int.random(in: 0..<5, using: &rng) == 0 {
                source.publish(history[Int.random(in: 0..<history.count, using: &rng)])
            } else {
                feed.evolve(&rng)
                let bytes = feed.bytes
                source.publish(bytes)
                history.append(bytes)
            }
            for _ in 0..<Int.random(in: 1...2, using: &rng) {
                let fault = (at: Int.random(in: 1...24, using: &rng), kind: Fault.allCases.randomElement(using: &rng)!)
                plan.arm(fault, lateBy: Int.random(in: 1...30, using: &rng))
                let r = await pass(Bool.random(using: &rng) ? strict : open)
                log.append("\(fault.kind) at step \(fault.at): \(r.error ?? "ok")")
            }
        }
        plan.arm(nil)
        // Writes still held land now, before the ordinary pass (one that lands after a pass has
        // looked is found by the passes after it, as long as it may still land).
        for land in plan.landAll() { await land() }
        let final = await pass(open)
        guard final.succeeded else {
            return "the ordinary pass failed: \(final.error ?? "?")\n  " + log.joined(separator: "\n  ")
        }
        if let diff = try compare(memory.entities(collection), with: source.published) {
            return diff + "\n  " + log.joined(separator: "\n  ")
        }
        let again = await pass(open)
        if !again.notModified && (!again.added.isEmpty || !again.updated.isEmpty || !again.deleted.isEmpty) {
            return "a second pass still wrote: +\(again.added) ~\(again.updated.map(\.key)) -\(again.deleted)"
        }
        return nil
    }

    /// How the target differs from the feed, item by item (by canonical hash), or nil.
    static func compare(_ entities: [String: ICalComponent], with body: [UInt8]) throws -> String? {
        let expected = ItemGrouper.items(from: try ICalParser().parse(body)).items
        let want = Dictionary(zip(expected.map(\.key), ItemHasher.hashes(of: expected))) { $1 }
        var held: [ICalItem] = []
        var hrefs: [String: String] = [:]
        for (href, calendar) in entities {
            for item in ItemGrouper.items(from: ICalDocument(calendars: [calendar])).items {
                if hrefs[item.key] != nil { return "the target holds \(item.key) twice (\(href))" }
                hrefs[item.key] = href
                held.append(item)
            }
        }
        let have = Dictionary(uniqueKeysWithValues: zip(held.map(\.key), ItemHasher.hashes(of: held)))
        let missing = want.keys.filter { have[$0] == nil }.sorted()
        let extra = have.keys.filter { want[$0] == nil }.sorted()
        let other = want.keys.filter { have[$0] != nil && have[$0] != want[$0] }.sorted()
        if missing.isEmpty, extra.isEmpty, other.isEmpty { return nil }
        return "diverged: missing \(missing), extra \(extra), other content \(other)"
    }

    @available(macOS 15.0, *)
    @Test func everyFaultAtEveryStepEndsExactAfterOneOrdinaryPass() async throws {
        let env = ProcessInfo.processInfo.environment
        let seeds: [UInt64]
        if let one = env["OUTBOARD_SIM_SEED"].flatMap(UInt64.init) {
            seeds = [one]
        } else {
            let runs = env["OUTBOARD_SIM_RUNS"].flatMap(Int.init) ?? 2000
            let base = env["OUTBOARD_SIM_BASE"].flatMap(UInt64.init) ?? 1
            seeds = (0..<UInt64(runs)).map { base + $0 }
        }
        // The schedules are independent worlds: they run on every core, a share each, on threads
        // of their own (not on the cooperative pool, which the other tests need meanwhile).
        let width = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let executors = (0..<width).map { _ in BackgroundExecutor() }
        defer { for e in executors { e.shutdown() } }
        let failures = await withTaskGroup(of: [String].self) { group in
            for part in 0..<width {
                group.addTask(executorPreference: executors[part]) {
                    var found: [String] = []
                    for seed in seeds.enumerated().filter({ $0.offset % width == part }).map(\.element)
                    where found.count < 3 {
                        let problem: String?
                        do { problem = try await Self.run(seed: seed) } catch {
                            problem = "the schedule could not run: \(error)"
                        }
                        if let problem {
                            found.append(
                                "seed \(seed) (replay: OUTBOARD_SIM_SEED=\(seed) swift test --filter CrashSimulationTests): \(problem)"
                            )
                        }
                    }
                    return found
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
