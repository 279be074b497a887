import CalendarModel
import CalWS
import Engine
import EngineAdapters
import EngineTesting
import Filters
import Foundation
import SyncCore
import Testing

/// A test bed on the in-memory seams: named feeds, the in-memory target (which can be taken
/// down), the in-memory state store. Pass behaviour is tested here in milliseconds; the real
/// servers are kept for the end-to-end tests (`SyncTests`, `DivergenceTests`).
final class MemoryBed: @unchecked Sendable {
    // Unchecked: the fields are set once, or are themselves locked.
    let feeds = NamedFeeds()
    let memory = InMemoryTarget()
    let store = InMemoryStateStore()
    let switchable: SwitchableTarget
    let filters: [String: Filter]

    init() throws {
        switchable = SwitchableTarget(inner: memory)
        let stripAlarms = try FilterLoader.load(
            name: "strip-alarms", text: "stage: input\nrules:\n  - remove-component: VALARM\n",
            file: "strip-alarms.yaml"
        ).get()
        filters = ["strip-alarms": stripAlarms]
    }

    /// The target as the pass sees it.
    var client: any CalendarTarget { switchable }

    func put(_ name: String, _ bytes: [UInt8]) {
        feeds.put(name, bytes)
    }

    /// `source` is more of the source mapping (its lines indented by two spaces); `extra` more
    /// top-level keys.
    func subscription(_ id: String, feed: String, collection: String, source: String = "", extra: String = "") throws
        -> Subscription
    {
        let yaml = """
            source:
              url: http://feeds.test/\(feed)
            \(source)
            target:
              url: http://target.test/calws
              collection: \(collection)
              token-env: TEST_TARGET_TOKEN
            filters:
              input: [strip-alarms]
            \(extra)
            """
        return try SubscriptionLoader.load(
            id: id, text: yaml, file: "\(id).yaml", filters: filters, environment: ["TEST_TARGET_TOKEN": "t"]
        ).get()
    }

    func pass(
        _ s: Subscription, now: Date = Date(), reconcile: Bool = false, batchSize: Int? = nil,
        pipeline: FilterPipeline? = nil
    ) async -> SyncReport {
        let pipeline = pipeline ?? FilterPipeline(input: s.inputFilters.compactMap { filters[$0] }, output: [])
        var pass = SyncPass(subscription: s, filters: pipeline, store: store, target: switchable, source: feeds)
        if let batchSize { pass.batchSize = batchSize }
        return await pass.run(now: now, reconcile: reconcile)
    }

    /// Someone else edits an entity on the target: a COMMENT is added to its first component.
    @discardableResult
    func comment(_ uid: String, in collection: String, _ text: String) async throws -> TargetEntry {
        let e = try #require(try await memory.find(uid: uid, in: collection))
        memory.edit(href: e.href) { $0.components[0].properties.append(ICalProperty("COMMENT", .text(text))) }
        return e
    }

    /// The target's entities of a collection as (UID, summary of the master) pairs.
    func summaries(_ collection: String) -> [String: String] {
        var out: [String: String] = [:]
        for (_, calendar) in memory.entities(collection) {
            let master = calendar.components.first { $0.name == "VEVENT" && $0.recurrenceID == nil }
            out[calendar.components.first { $0.uid != nil }?.uid ?? "?"] =
                master?.property("SUMMARY")?.text ?? "(no master)"
        }
        return out
    }
}

/// Feeds by name (the last segment of the subscription's URL); a name with no feed answers 404.
final class NamedFeeds: FeedSource, @unchecked Sendable {
    // Unchecked: `feeds` is read and written under `lock`.
    private let lock = NSLock()
    private var feeds: [String: InMemoryFeed] = [:]

    func put(_ name: String, _ bytes: [UInt8]) {
        lock.withLock {
            if let f = feeds[name] { f.publish(bytes) } else { feeds[name] = InMemoryFeed(bytes) }
        }
    }

    func fetch(
        _ s: Subscription, from position: FeedPosition?,
        onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedResult {
        let name = String(s.sourceURL.split(separator: "/").last ?? "")
        guard let feed = lock.withLock({ feeds[name] }) else {
            throw .http(subscription: s.id, host: s.sourceHost, status: 404, retryAfter: nil)
        }
        return try await feed.fetch(s, from: position, onBody: onBody)
    }
}

/// A target that can be taken down: while down, every call fails as an unreachable server does.
/// It refuses to add the UIDs in `refusing`, as a target refuses an entity over its size limit.
final class SwitchableTarget: CalendarTarget, @unchecked Sendable {
    // Unchecked: `down` and `refused` are read and written under `lock`.
    let inner: InMemoryTarget
    private let lock = NSLock()
    private var down = false
    private var refused: Set<String> = []

    init(inner: InMemoryTarget) {
        self.inner = inner
    }

    var isDown: Bool {
        get { lock.withLock { down } }
        set { lock.withLock { down = newValue } }
    }

    var refusing: Set<String> {
        get { lock.withLock { refused } }
        set { lock.withLock { refused = newValue } }
    }

    static let unreachable = "cannot reach the target http://target.test/calws: Couldn't connect to server"

    func check() throws(TargetError) {
        if isDown { throw TargetError(.unknown, Self.unreachable) }
    }

    var capabilities: TargetCapabilities { inner.capabilities }

    func list(collection: String, withData: Bool) async throws(TargetError) -> [TargetEntry] {
        try check()
        return try await inner.list(collection: collection, withData: withData)
    }

    func find(uid: String, in collection: String) async throws(TargetError) -> TargetEntry? {
        try check()
        return try await inner.find(uid: uid, in: collection)
    }

    func entry(href: String) async throws(TargetError) -> TargetEntry {
        try check()
        return try await inner.entry(href: href)
    }

    func entries(collection: String, hrefs: [String], withData: Bool) async throws(TargetError) -> [TargetEntry] {
        try check()
        return try await inner.entries(collection: collection, hrefs: hrefs, withData: withData)
    }

    /// Refuses each add of a UID in `refusing`; the others go on as a batch.
    func write(_ writes: [TargetWrite]) async -> [WriteOutcome] {
        if isDown { return writes.map { _ in .unknown(Self.unreachable) } }
        var outcomes = [WriteOutcome?](repeating: nil, count: writes.count)
        var passed: [Int] = []
        for (i, w) in writes.enumerated() {
            if case .add(_, let calendar) = w, let uid = calendar.components.first(where: { $0.uid != nil })?.uid,
                refusing.contains(uid)
            {
                outcomes[i] = .refused(TargetError(.tooLarge, "the entity \(uid) is over the target's limit"))
            } else {
                passed.append(i)
            }
        }
        for (i, outcome) in zip(passed, await inner.write(passed.map { writes[$0] })) { outcomes[i] = outcome }
        return outcomes.map { $0! }
    }

    func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetError) {
        try check()
        try await inner.reportFreshness(freshness)
    }

    func describe(collection: String) async throws(TargetError) -> CollectionDescription? {
        try check()
        return try await inner.describe(collection: collection)
    }
}
