import CalendarModel
import Engine
import EngineAdapters
import EngineTesting
import Filters
import Foundation
import SyncCore
import Testing
import TestSupport

/// Deterministic simulation of passes over the in-memory seams (FoundationDB's and TigerBeetle's
/// way): a seeded schedule of changing feeds, each pass with a fault injected at one of its steps
/// (a crash before or after a call, a lost answer, a refused write, a write that lands late), then
/// one ordinary pass; the target must then hold exactly the feed, item by item, a reconcile must
/// plan nothing, and the status store must agree with the target.
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

    /// How a schedule's faults are chosen.
    enum Faults {
        /// None: the probe that counts each pass's steps.
        case none
        /// One per pass, at a step drawn within the steps a pass takes (the last pass's count);
        /// one that did not fire (its step lay past the pass's end) is armed again in the next
        /// pass, within the steps the last one took.
        case random
        /// Exactly one: of `kind` at step `at` of pass number `pass` (from 0).
        case one(pass: Int, at: Int, kind: Fault, lateBy: Int)
    }

    /// What a schedule did: what went wrong (nil: nothing), the faults armed and fired, and the
    /// names of the steps each pass took.
    struct Outcome {
        var problem: String?
        var tally: FaultTally
        var steps: [[String]]
    }

    /// One seeded schedule: a feed changing (or going back to an earlier export, byte for byte)
    /// between passes, each pass faulted as `faults` says; then the writes still held land, one
    /// ordinary pass runs, and the target must hold exactly the feed, a reconcile (which takes no
    /// shortcut) must find nothing to write, and the status store must agree with the target
    /// item by item. `small`: a short schedule of a few items, for trying every fault at every step.
    ///
    /// `store`: the status store under the faults (default: a new in-memory one); a shared one
    /// keeps each schedule apart by its own subscription id.
    static func run(
        seed: UInt64, faults: Faults, small: Bool = false, store shared: (any ItemStateStore)? = nil
    ) async throws -> Outcome {
        var rng = SplitMix64(seed: seed)
        // Faults are drawn from a generator of their own, so a schedule is the same whatever they are.
        var faultRNG = SplitMix64(seed: seed ^ 0xFA17)
        let plan = FaultPlan()
        let memory = InMemoryTarget()
        let states: any ItemStateStore = shared ?? InMemoryStateStore()
        // Half the schedules fence (as `outboard-target`), half do not (as a CalDAV server); a
        // third of these are CalDAV at both ends: single writes, and a collection read by what
        // changed since its token (each item a resource).
        let caldav = seed % 6 == 1
        let target = FaultyTarget(inner: memory, plan: plan, fences: seed % 2 == 0, batchLimit: caldav ? 1 : 1000)
        let store = FaultyStore(inner: states, plan: plan)
        let source = InMemoryFeed()
        let resources = InMemoryCollection()
        func publish(_ bytes: [UInt8]) throws {
            source.publish(bytes)
            guard caldav else { return }
            var each: [String: [UInt8]] = [:]
            for item in ItemGrouper.items(from: try ICalParser().parse(bytes)).items {
                each["/src/\(item.key).ics"] = ICalWriter.write([item.calendar()])
            }
            resources.replace(with: each)
        }
        var feed = SimulatedFeed(count: Int.random(in: small ? 2...4 : 3...14, using: &rng), rng: &rng)
        var history: [[UInt8]] = []
        var strict = try Self.strict.get()
        var open = try Self.open.get()
        if shared != nil { (strict.id, open.id) = ("sim-\(seed)", "sim-\(seed)") }
        var log: [String] = []
        var steps: [[String]] = []
        func pass(_ s: Subscription, reconcile: Bool = false) async -> SyncReport {
            var p = SyncPass(
                subscription: s, filters: FilterPipeline([]), store: store, target: target,
                source: caldav ? resources : source)
            p.batchSize = Int.random(in: 1...4, using: &rng)
            // One call at a time, so the steps are the same on every run.
            p.batchesInFlight = 1
            p.writesInFlight = 1
            return await p.run(now: Date(timeIntervalSince1970: 1_800_000_000), reconcile: reconcile)
        }
        var rearm: (at: Int, kind: Fault)?
        for _ in 0..<Int.random(in: small ? 2...3 : 2...6, using: &rng) {
            // The next export, or (sometimes) an earlier one again, byte for byte.
            if !history.isEmpty, Int.random(in: 0..<5, using: &rng) == 0 {
                try publish(history[Int.random(in: 0..<history.count, using: &rng)])
            } else {
                feed.evolve(&rng)
                let bytes = feed.bytes
                try publish(bytes)
                history.append(bytes)
            }
            for _ in 0..<Int.random(in: 1...(small ? 1 : 2), using: &rng) {
                let fault: (at: Int, kind: Fault)?
                var lateBy = Int.random(in: 1...30, using: &faultRNG)
                switch faults {
                case .none: fault = nil
                case .random:
                    let span = max(1, steps.last?.count ?? 12)
                    fault =
                        rearm ?? (
                            Int.random(in: 1...span, using: &faultRNG), Fault.allCases.randomElement(using: &faultRNG)!
                        )
                case .one(let number, let at, let kind, let late):
                    fault = steps.count == number ? (at, kind) : nil
                    lateBy = late
                }
                plan.arm(fault, lateBy: lateBy)
                let r = await pass(Bool.random(using: &rng) ? strict : open)
                let (fired, taken) = plan.outcome
                steps.append(taken)
                rearm = nil
                if let fault {
                    log.append("\(fault.kind) at step \(fault.at)\(fired ? "" : " (did not fire)"): \(r.error ?? "ok")")
                    if !fired, case .random = faults {
                        rearm = (Int.random(in: 1...max(1, taken.count), using: &faultRNG), fault.kind)
                    }
                }
            }
        }
        plan.arm(nil)
        // Writes still held land now, before the ordinary pass (one that lands after a pass has
        // looked is found by the passes after it, as long as it may still land).
        for land in plan.landAll() { await land() }
        let tally = plan.counts
        func outcome(_ problem: String?) -> Outcome {
            Outcome(problem: problem.map { $0 + "\n  " + log.joined(separator: "\n  ") }, tally: tally, steps: steps)
        }
        let final = await pass(open)
        guard final.succeeded else { return outcome("the ordinary pass failed: \(final.error ?? "?")") }
        if let diff = try compare(memory.entities(collection), with: source.published) { return outcome(diff) }
        let again = await pass(open, reconcile: true)
        guard again.succeeded, again.added.isEmpty, again.updated.isEmpty, again.deleted.isEmpty else {
            return outcome(
                "a reconcile after the ordinary pass still wrote: +\(again.added) ~\(again.updated.map(\.key)) -\(again.deleted) \(again.error ?? "")"
            )
        }
        return outcome(try await compare(store: states.items(open.id), with: memory))
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

    /// How the status store differs from the target, item by item: each state must name an
    /// entity of the target by href and current change token, with the hash of what it holds,
    /// and each entity must have its state.
    static func compare(store: [String: ItemState], with target: InMemoryTarget) async throws -> String? {
        let listed = try await target.list(collection: collection, withData: true)
        var problems: [String] = []
        var seen = Set<String>()
        for e in listed {
            guard let calendar = e.calendar,
                let item = ItemGrouper.items(from: ICalDocument(calendars: [calendar])).items.first
            else { continue }
            seen.insert(item.key)
            guard let state = store[item.key] else {
                problems.append("\(item.key): on the target, unknown to the store")
                continue
            }
            if state.href != e.href || state.changeToken != e.version {
                problems.append(
                    "\(item.key): the store says \(state.href) \(state.changeToken), the target \(e.href) \(e.version)"
                )
            }
            if state.hash != ItemHasher.hashes(of: [item])[0] {
                problems.append("\(item.key): the store's hash is not that of the target's content")
            }
        }
        for key in store.keys where !seen.contains(key) { problems.append("\(key): in the store, not on the target") }
        return problems.isEmpty
            ? nil : "the status store and the target disagree: " + problems.sorted().joined(separator: "; ")
    }

    /// Runs `work` for each seed on every core (the schedules are independent worlds; threads of
    /// their own, not the cooperative pool, which the other tests need meanwhile); returns the
    /// problems found (three per core at most) and the faults armed and fired.
    static func each<Seed: Sendable>(
        _ seeds: [Seed], _ work: @escaping @Sendable (Seed) async throws -> Outcome,
        name: @escaping @Sendable (Seed) -> String
    ) async -> (problems: [String], tally: FaultTally) {
        let width = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let executors = (0..<width).map { _ in BackgroundExecutor() }
        defer { for e in executors { e.shutdown() } }
        return await withTaskGroup(of: ([String], FaultTally).self) { group in
            for part in 0..<width {
                group.addTask(executorPreference: executors[part]) {
                    var found: [String] = []
                    var tally = FaultTally()
                    for seed in seeds.enumerated().filter({ $0.offset % width == part }).map(\.element)
                    where found.count < 3 {
                        do {
                            let outcome = try await work(seed)
                            tally.add(outcome.tally)
                            if let problem = outcome.problem { found.append("\(name(seed)): \(problem)") }
                        } catch {
                            found.append("\(name(seed)): the schedule could not run: \(error)")
                        }
                    }
                    return (found, tally)
                }
            }
            return await group.reduce(into: ([], FaultTally())) {
                $0.0 += $1.0
                $0.1.add($1.1)
            }
        }
    }

    /// The schedules' seeds: `OUTBOARD_SIM_SEED=N` alone, or `OUTBOARD_SIM_RUNS` (default 1,500)
    /// from `OUTBOARD_SIM_BASE` (default 1) and three more that change with every run (printed,
    /// so that a failure replays).
    static var seeds: [UInt64] {
        let env = ProcessInfo.processInfo.environment
        if let one = env["OUTBOARD_SIM_SEED"].flatMap(UInt64.init) { return [one] }
        let runs = env["OUTBOARD_SIM_RUNS"].flatMap(Int.init) ?? 1500
        let base = env["OUTBOARD_SIM_BASE"].flatMap(UInt64.init) ?? 1
        var clock = SplitMix64(seed: UInt64(Date().timeIntervalSince1970 * 1000))
        let rotating = (0..<3).map { _ in clock.next() >> 16 }
        print("crash simulation: rotating seeds \(rotating.map(String.init).joined(separator: ", "))")
        return (0..<UInt64(runs)).map { base + $0 } + rotating
    }

    @available(macOS 15.0, *)
    @Test func randomFaultsInEverySchedulesPassesEndExactAfterOneOrdinaryPass() async throws {
        let (failures, tally) = await Self.each(
            Self.seeds, { try await Self.run(seed: $0, faults: .random) },
            name: { "seed \($0) (replay: OUTBOARD_SIM_SEED=\($0) swift test --filter CrashSimulationTests)" })
        print("crash simulation, random faults:\n\(tally)")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        // Every fault fired at the steps a pass takes that can have it.
        for kind in Fault.allCases {
            #expect((tally.fired[kind] ?? [:]).values.reduce(0, +) > 0, "\(kind) never fired")
        }
    }

    /// The same schedules on the PostgreSQL store (a real server): its transactions, leases and
    /// fencing under the same faults end exact too.
    @Test func randomFaultsOnThePostgresStoreEndExact() async throws {
        let server = try PostgresProcess.start()
        defer { server.remove() }
        let store = try PostgresStore(try PostgresStoreURL.parse(try server.newDatabase()).get())
        let (failures, tally) = await Self.each(
            Array(Self.seeds.prefix(60)), { try await Self.run(seed: $0, faults: .random, store: store) },
            name: { "seed \($0) on PostgreSQL" })
        print("crash simulation on PostgreSQL, random faults:\n\(tally)")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Small schedules, each replayed with every fault at every step of every pass (counted by a
    /// fault-free run of the same schedule).
    @available(macOS 15.0, *)
    @Test func everyFaultAtEveryStepOfSmallSchedulesEndsExact() async throws {
        struct Case: Sendable {
            var seed: UInt64
            var pass: Int
            var at: Int
            var kind: Fault
        }
        var cases: [Case] = []
        var stepNames = Set<String>()
        for seed in UInt64(1)...4 {
            let probe = try await Self.run(seed: seed, faults: .none, small: true)
            #expect(probe.problem == nil, "seed \(seed) without faults: \(probe.problem ?? "")")
            for (number, steps) in probe.steps.enumerated() {
                stepNames.formUnion(steps)
                for at in steps.indices {
                    for kind in Fault.allCases { cases.append(Case(seed: seed, pass: number, at: at + 1, kind: kind)) }
                }
            }
        }
        let (failures, tally) = await Self.each(
            cases,
            { c in
                try await Self.run(
                    seed: c.seed, faults: .one(pass: c.pass, at: c.at, kind: c.kind, lateBy: 1 + c.at % 7), small: true)
            }, name: { "small seed \($0.seed), pass \($0.pass), \($0.kind) at step \($0.at)" })
        print("crash simulation, every fault at every step of \(cases.count) cases:\n\(tally)")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        // Each kind of step the passes took was faulted (a crash at least; a write, every kind).
        #expect(
            stepNames.isSubset(of: tally.stepsFaulted), "never faulted: \(stepNames.subtracting(tally.stepsFaulted))")
        for name in stepNames where tally.fired[.crashBefore]?[name] == nil {
            Issue.record("\(name): no crash before it")
        }
    }
}
