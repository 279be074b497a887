import CalendarModel
import CalWS
import Engine
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
    func comment(_ uid: String, in collection: String, _ text: String) async throws -> EntityInfo {
        let e = try #require(try await memory.fetch(uid: uid, in: collection))
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
        _ s: Subscription, etag: String?, lastModified: String?,
        onBody: (@Sendable (UnsafeBufferPointer<UInt8>) -> Void)?
    ) async throws(FetchError) -> FeedFetcher.Result {
        let name = String(s.sourceURL.split(separator: "/").last ?? "")
        guard let feed = lock.withLock({ feeds[name] }) else {
            throw .http(subscription: s.id, host: s.sourceHost, status: 404, retryAfter: nil)
        }
        return try await feed.fetch(s, etag: etag, lastModified: lastModified, onBody: onBody)
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

    func check() throws(TargetClientError) {
        if isDown {
            throw .transport(
                endpoint: "http://target.test/calws", .curl(code: 7, message: "Couldn't connect to server"))
        }
    }

    /// Refuses an add of a UID in `refusing`.
    func check(adding calendar: ICalComponent) throws(TargetClientError) {
        guard let uid = calendar.components.first(where: { $0.uid != nil })?.uid, refusing.contains(uid) else { return }
        throw .calws(
            .exceedsMaxResourceSize, status: .error, message: "the entity \(uid) is over the target's limit",
            about: "http://target.test/calws")
    }

    func list(collection: String, allData: Bool) async throws(TargetClientError) -> [EntityInfo] {
        try check()
        return try await inner.list(collection: collection, allData: allData)
    }

    func fetch(uid: String, in collection: String) async throws(TargetClientError) -> EntityInfo? {
        try check()
        return try await inner.fetch(uid: uid, in: collection)
    }

    func fetchItem(href: String) async throws(TargetClientError) -> EntityInfo {
        try check()
        return try await inner.fetchItem(href: href)
    }

    func multiget(collection: String, hrefs: [String], allData: Bool) async throws(TargetClientError) -> [EntityInfo] {
        try check()
        return try await inner.multiget(collection: collection, hrefs: hrefs, allData: allData)
    }

    func addItem(collection: String, calendar: ICalComponent) async throws(TargetClientError) -> (
        href: String, changeToken: String
    ) {
        try check()
        try check(adding: calendar)
        return try await inner.addItem(collection: collection, calendar: calendar)
    }

    func updateItem(href: String, changeToken: String, update: ComponentUpdate) async throws(TargetClientError)
        -> String
    {
        try check()
        return try await inner.updateItem(href: href, changeToken: changeToken, update: update)
    }

    func deleteItem(href: String) async throws(TargetClientError) {
        try check()
        try await inner.deleteItem(href: href)
    }

    func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetClientError) {
        try check()
        try await inner.reportFreshness(freshness)
    }

    func properties(href: String) async throws(TargetClientError) -> CollectionProperties? {
        try check()
        return try await inner.properties(href: href)
    }

    func multiOp(_ operations: [CalWSRequest]) async throws(TargetClientError) -> [CalWSResponse] {
        try check()
        for case .addItem(_, let calendar) in operations.map(\.body) { try check(adding: calendar) }
        return try await inner.multiOp(operations)
    }
}
