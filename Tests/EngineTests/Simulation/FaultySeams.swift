import CalendarModel
import Engine
import EngineAdapters
import EngineTesting
import Foundation
import SyncCore

/// What goes wrong at one step of a simulated pass.
enum Fault: CaseIterable, CustomStringConvertible {
    /// The engine dies before the call takes effect: nothing from this step on happens.
    case crashBefore
    /// The engine dies right after the call took effect, before it hears the answer.
    case crashAfter
    /// The target applies the write but its answer is lost (a proxy's 504); the pass goes on.
    case loseAnswer
    /// The target refuses the write (a CalWS error); the pass goes on.
    case refuse
    /// The write is not applied now and its answer is lost; it lands some steps later (a proxy
    /// held it, or the target read it from its socket after the engine died), in a later pass.
    case landLate

    var description: String {
        switch self {
        case .crashBefore: "crash before"
        case .crashAfter: "crash after"
        case .loseAnswer: "lost answer"
        case .refuse: "refused"
        case .landLate: "landed late"
        }
    }
}

/// The steps of a pass that can fail, counted across the target and the store (their writes):
/// the fault is injected at step `at`. Once crashed, every later call fails and applies nothing.
/// A fault a read cannot take (a lost answer, a refusal, a late landing) moves on to the next
/// write. Writes held by `.landLate` land `lateBy` steps later (steps of any later pass), or at
/// `landAll`. The plan counts what it armed and what fired, by fault and by step.
final class FaultPlan: @unchecked Sendable {
    // Unchecked: every field is read and written under `lock`.
    private let lock = NSLock()
    private var step = 0
    private var crashed = false
    private var fault: (at: Int, kind: Fault)?
    private var fired = false
    private var lateBy = 1
    /// Steps counted over the whole schedule, and the held writes with the step they land at.
    private var clock = 0
    private var held: [(at: Int, land: @Sendable () async -> Void)] = []
    /// The steps of the pass since the last `arm`, by name.
    private var steps: [String] = []
    private var tally = FaultTally()

    /// Arms a fault at the `at`-th step from now (1 = the next one), or none.
    func arm(_ fault: (at: Int, kind: Fault)?, lateBy: Int = 1) {
        lock.withLock {
            step = 0
            steps = []
            crashed = false
            fired = false
            self.fault = fault
            self.lateBy = lateBy
            if let fault { tally.armed[fault.kind, default: 0] += 1 }
        }
    }

    /// Whether the armed fault fired, and the names of the steps taken since it was armed.
    var outcome: (fired: Bool, steps: [String]) { lock.withLock { (fired, steps) } }

    /// What was armed and what fired, so far.
    var counts: FaultTally { lock.withLock { tally } }

    /// What to do at the next step (`name`: what it is, such as `target.multiOp`): its fault, if
    /// any; `.crashBefore` for every step after a crash.
    func next(_ name: String, isWrite: Bool) -> Fault? {
        lock.withLock {
            if crashed { return .crashBefore }
            step += 1
            steps.append(name)
            guard let fault, !fired else { return nil }
            let writeOnly = [.loseAnswer, .refuse, .landLate].contains(fault.kind)
            guard writeOnly ? (fault.at <= step && isWrite) : fault.at == step else { return nil }
            if fault.kind == .crashBefore || fault.kind == .crashAfter { crashed = true }
            fired = true
            tally.fired[fault.kind, default: [:]][name, default: 0] += 1
            return fault.kind
        }
    }

    /// Holds a write until `lateBy` steps from now.
    func hold(_ land: @escaping @Sendable () async -> Void) {
        lock.withLock { held.append((clock + lateBy, land)) }
    }

    /// Advances the schedule's clock by a step and returns the held writes due to land.
    func tick() -> [@Sendable () async -> Void] {
        lock.withLock {
            clock += 1
            let due = held.filter { $0.at <= clock }.map(\.land)
            held.removeAll { $0.at <= clock }
            return due
        }
    }

    /// Every held write, to land now.
    func landAll() -> [@Sendable () async -> Void] {
        lock.withLock {
            defer { held = [] }
            return held.map(\.land)
        }
    }
}

/// Faults armed and fired in simulated schedules: armed by kind, fired by kind and step name.
struct FaultTally: Sendable, CustomStringConvertible {
    var armed: [Fault: Int] = [:]
    var fired: [Fault: [String: Int]] = [:]

    mutating func add(_ other: FaultTally) {
        armed.merge(other.armed, uniquingKeysWith: +)
        for (kind, steps) in other.fired { fired[kind, default: [:]].merge(steps, uniquingKeysWith: +) }
    }

    /// Every step name at which some fault fired.
    var stepsFaulted: Set<String> { Set(fired.values.flatMap(\.keys)) }

    var description: String {
        Fault.allCases.map { kind in
            let steps = (fired[kind] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            let total = (fired[kind] ?? [:]).values.reduce(0, +)
            return "\(kind): armed \(armed[kind] ?? 0), fired \(total) (\(steps.joined(separator: ", ")))"
        }.joined(separator: "\n")
    }
}

struct SimulatedCrash: Error {}

/// The in-memory target behind a fault plan.
struct FaultyTarget: CalendarTarget {
    let inner: InMemoryTarget
    let plan: FaultPlan
    /// Whether it fences out older passes' writes (as `outboard-target` does), or not (as a
    /// target that cannot: then the doubts about unanswered writes alone protect the mirror).
    var fences = true
    /// Writes per request: 1 as a CalDAV server (no batches; the pass sends single writes).
    var batchLimit = 1000

    static let lost = "cannot reach the target sim: Empty reply from server"

    var capabilities: TargetCapabilities {
        TargetCapabilities(batchLimit: batchLimit, freshnessReports: fences, fencing: fences)
    }

    func read<T>(_ name: String, _ call: @escaping @Sendable () async throws(TargetError) -> T)
        async throws(TargetError)
        -> T
    {
        for land in plan.tick() { await land() }
        switch plan.next("target." + name, isWrite: false) {
        case nil: return try await call()
        case .crashBefore: throw TargetError(.unknown, Self.lost)
        case .crashAfter, .loseAnswer, .landLate:
            _ = try await call()
            throw TargetError(.unknown, Self.lost)
        case .refuse: throw TargetError(.forbidden, "refused by the simulation")
        }
    }

    func list(collection: String, withData: Bool) async throws(TargetError) -> [TargetEntry] {
        try await read("list") { () async throws(TargetError) in
            try await inner.list(collection: collection, withData: withData)
        }
    }

    func find(uid: String, in collection: String) async throws(TargetError) -> TargetEntry? {
        try await read("find") { () async throws(TargetError) in try await inner.find(uid: uid, in: collection) }
    }

    func entry(href: String) async throws(TargetError) -> TargetEntry {
        try await read("entry") { () async throws(TargetError) in try await inner.entry(href: href) }
    }

    func entries(collection: String, hrefs: [String], withData: Bool) async throws(TargetError) -> [TargetEntry] {
        try await read("entries") { () async throws(TargetError) in
            try await inner.entries(collection: collection, hrefs: hrefs, withData: withData)
        }
    }

    /// A batch is one step, named after what it carries (`write`, or `write.add` for a single add).
    func write(_ writes: [TargetWrite]) async -> [WriteOutcome] {
        for land in plan.tick() { await land() }
        let name = writes.count == 1 ? "write." + Self.kind(writes[0]) : "write"
        let lost = writes.map { _ in WriteOutcome.unknown(Self.lost) }
        switch plan.next("target." + name, isWrite: true) {
        case nil: return await inner.write(writes)
        case .crashBefore: return lost
        case .crashAfter, .loseAnswer:
            _ = await inner.write(writes)
            return lost
        case .refuse: return writes.map { _ in .refused(TargetError(.forbidden, "refused by the simulation")) }
        case .landLate:
            plan.hold { _ = await inner.write(writes) }
            return lost
        }
    }

    static func kind(_ w: TargetWrite) -> String {
        switch w {
        case .add: "add"
        case .update: "update"
        case .delete: "delete"
        }
    }

    /// Not a step: what the mirror holds does not depend on it.
    func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetError) {
        try await inner.reportFreshness(freshness)
    }

    func fenced(by pass: PassStamp) -> FaultyTarget {
        fences ? FaultyTarget(inner: inner.fenced(by: pass), plan: plan, fences: true) : self
    }

    /// Not a step either: only `outboard verify` asks.
    func describe(collection: String) async throws(TargetError) -> CollectionDescription? {
        try await inner.describe(collection: collection)
    }
}

/// The in-memory store behind a fault plan: its writes are steps (reads are not: the pass reads
/// item states in a task of its own, whose timing must not move the steps).
struct FaultyStore: ItemStateStore {
    let inner: any ItemStateStore
    let plan: FaultPlan

    func write(_ name: String, _ call: () throws -> Void) throws {
        switch plan.next("store." + name, isWrite: false) {
        case nil: try call()
        case .crashBefore: throw SimulatedCrash()
        case .crashAfter:
            try call()
            throw SimulatedCrash()
        case .loseAnswer, .refuse, .landLate: try call()
        }
    }

    var writer: String { inner.writer }
    func feed(_ id: String) throws -> FeedState { try inner.feed(id) }
    func feeds() throws -> [String: FeedState] { try inner.feeds() }
    func itemCounts() throws -> [String: Int] { try inner.itemCounts() }
    func items(_ id: String) throws -> [String: ItemState] { try inner.items(id) }
    func intents(_ id: String) throws -> [WriteIntent] { try inner.intents(id) }
    func save(_ id: String, _ state: FeedState) throws { try write("save") { try inner.save(id, state) } }
    func schedule(_ id: String, nextDue: Date) throws {
        try write("schedule") { try inner.schedule(id, nextDue: nextDue) }
    }
    func commit(_ id: String, put: [ItemState], remove: [String], trace: [ItemTrace]) throws {
        try write("commit") { try inner.commit(id, put: put, remove: remove, trace: trace) }
    }
    // The trace is not a step: a pass never fails on it (it records it with `try?`).
    func startTrace(_ id: String, pass: Date, items: [ItemTrace]) throws {
        try inner.startTrace(id, pass: pass, items: items)
    }
    func trace(_ id: String, key: String) throws -> PassTrace? { try inner.trace(id, key: key) }
    func begin(_ id: String, _ state: FeedState, intents: [WriteIntent]) throws {
        try write("begin") { try inner.begin(id, state, intents: intents) }
    }
    func doubts(_ id: String) throws -> [String: Date] { try inner.doubts(id) }
    func recordDoubts(_ id: String, keys: [String], until: Date) throws {
        try write("recordDoubts") { try inner.recordDoubts(id, keys: keys, until: until) }
    }
    func forgetDoubts(_ id: String, keys: [String]) throws {
        try write("forgetDoubts") { try inner.forgetDoubts(id, keys: keys) }
    }
    func lockPass(_ id: String, wait: Double) async throws(StateStoreError) -> any PassLease {
        try await inner.lockPass(id, wait: wait)
    }
}
