import CalendarModel
import Engine
import Foundation
import SyncCore

/// A calendar target in memory, with the semantics PROTOCOL.md gives the reference target: one UID
/// per entity, a version that changes on every write and guards every update, atomic batches,
/// fences against the writes of older passes. For fast tests and the crash simulation; it passes
/// the same contract suite (`TargetContract`) as `CalWSTarget` talking to `outboard-target`.
public final class InMemoryTarget: CalendarTarget, @unchecked Sendable {
    public var capabilities: TargetCapabilities {
        TargetCapabilities(batchLimit: 1000, freshnessReports: true, fencing: true)
    }

    // Unchecked: every field of `storage` is read and written under its lock.
    struct Entity: Hashable {
        var uid: String
        var calendar: ICalComponent
        var changeToken: String
        var lastModified: Int
    }

    /// What the target holds, shared by its fenced views (`fenced(by:)`).
    private final class Storage: @unchecked Sendable {
        let lock = NSLock()
        var collections: [String: [String: Entity]] = [:]
        var revision = 0
        var applied: [String: Int] = [:]
        var reported: [String: CollectionFreshness] = [:]
        /// The highest pass number each writer has sent for each collection (`collection writer`).
        var fences: [String: Int] = [:]
    }

    private let storage: Storage
    /// The pass this view reads and writes as; nil for none (never refused, never fencing).
    private let pass: PassStamp?
    /// False for a view whose credentials may only read (`reader`).
    private let mayWrite: Bool
    /// The largest entity it takes, in iCalendar bytes (the reference target's limit).
    public static let maxEntityBytes = 1 << 20

    public convenience init() { self.init(storage: Storage(), pass: nil, mayWrite: true) }

    private init(storage: Storage, pass: PassStamp?, mayWrite: Bool) {
        self.storage = storage
        self.pass = pass
        self.mayWrite = mayWrite
    }

    public func fenced(by pass: PassStamp) -> InMemoryTarget {
        InMemoryTarget(storage: storage, pass: pass, mayWrite: mayWrite)
    }

    /// The same target as credentials that may read but not write see it.
    public func reader() -> InMemoryTarget { InMemoryTarget(storage: storage, pass: pass, mayWrite: false) }

    private var lock: NSLock { storage.lock }
    private var collections: [String: [String: Entity]] {
        get { storage.collections }
        _modify { yield &storage.collections }
    }
    private var revision: Int {
        get { storage.revision }
        _modify { yield &storage.revision }
    }
    private var applied: [String: Int] {
        get { storage.applied }
        _modify { yield &storage.applied }
    }
    private var reported: [String: CollectionFreshness] {
        get { storage.reported }
        _modify { yield &storage.reported }
    }

    /// Under the lock: a read of this view's pass raises the collection's fence.
    private func reading(_ collection: String) {
        guard let pass else { return }
        let key = collection + "\n" + pass.writer
        storage.fences[key] = max(storage.fences[key] ?? .min, pass.number)
    }

    /// Under the lock: refuses writes of this view's pass to collections a later pass has
    /// touched (`.fenced`), else raises their fences.
    private func admit(_ writes: [TargetWrite]) throws(TargetError) {
        guard mayWrite else { throw TargetError(.forbidden, "these credentials may not write") }
        guard let pass else { return }
        let touched = Set(
            writes.compactMap { w -> String? in
                switch w {
                case .add(let c, _): c
                case .update(let href, _, _), .delete(let href, _): Self.split(href)?.0
                }
            })
        for c in touched.sorted() {
            if let later = storage.fences[c + "\n" + pass.writer], later > pass.number {
                throw TargetError(
                    .fenced, "\(c): pass \(pass.number) is older than pass \(later), which has touched it")
            }
        }
        for c in touched { reading(c) }
    }

    /// `body` under the lock (NSLock.withLock rethrows untyped errors).
    private func locked<T>(_ body: () throws(TargetError) -> T) throws(TargetError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Every entity of a collection, by href (for tests that compare what the target holds).
    public func entities(_ collection: String) -> [String: ICalComponent] {
        lock.withLock { (collections[collection] ?? [:]).mapValues(\.calendar) }
    }

    /// How many writes of each kind (`add`, `update`, `delete`) were applied, and how many
    /// batches of more than one (`batch`).
    public var operations: [String: Int] {
        lock.withLock { applied }
    }

    /// The last freshness reported for each collection.
    public var freshness: [String: CollectionFreshness] {
        lock.withLock { reported }
    }

    public func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetError) {
        lock.withLock { reported[freshness.href] = freshness }
    }

    /// A collection's description: its zone is the one last reported with its freshness.
    public func describe(collection: String) async throws(TargetError) -> CollectionDescription? {
        try locked { () throws(TargetError) -> CollectionDescription? in
            guard collections[collection] != nil else { throw TargetError(.notFound, "no collection \(collection)") }
            return CollectionDescription(
                href: collection, displayName: String(collection.split(separator: "/").last ?? ""),
                timezone: reported[collection]?.timezone)
        }
    }

    /// Replaces an entity's calendar as another client would (a new version).
    public func edit(href: String, _ change: (inout ICalComponent) -> Void) {
        lock.withLock {
            guard let (c, _) = Self.split(href), var e = collections[c]?[href] else { return }
            change(&e.calendar)
            revision += 1
            e.changeToken = "m\(revision)"
            e.lastModified = revision
            collections[c]?[href] = e
        }
    }

    public func list(collection: String, withData: Bool) async throws(TargetError) -> [TargetEntry] {
        try locked { () throws(TargetError) -> [TargetEntry] in
            reading(collection)
            guard let entities = collections[collection] else {
                throw TargetError(.notFound, "no collection \(collection)")
            }
            return entities.keys.sorted().map { Self.entry($0, entities[$0]!, whole: withData) }
        }
    }

    public func find(uid: String, in collection: String) async throws(TargetError) -> TargetEntry? {
        try locked { () throws(TargetError) -> TargetEntry? in
            reading(collection)
            guard let entities = collections[collection] else {
                throw TargetError(.notFound, "no collection \(collection)")
            }
            return entities.first { $0.value.uid == uid }.map { Self.entry($0.key, $0.value, whole: true) }
        }
    }

    public func entry(href: String) async throws(TargetError) -> TargetEntry {
        try locked { () throws(TargetError) -> TargetEntry in
            guard let (c, _) = Self.split(href) else { throw TargetError(.notFound, "no entity \(href)") }
            reading(c)
            guard let e = collections[c]?[href] else { throw TargetError(.notFound, "no entity \(href)") }
            return Self.entry(href, e, whole: true)
        }
    }

    public func entries(collection: String, hrefs: [String], withData: Bool) async throws(TargetError) -> [TargetEntry]
    {
        lock.withLock {
            reading(collection)
            return hrefs.compactMap { h in collections[collection]?[h].map { Self.entry(h, $0, whole: withData) } }
        }
    }

    /// Applies a batch atomically, as CalWS's multiOp does; a batch refused as a whole is redone
    /// one write at a time, so every write has an outcome of its own.
    public func write(_ writes: [TargetWrite]) async -> [WriteOutcome] {
        lock.withLock {
            if writes.count > 1 {
                let saved = (storage.collections, storage.revision, storage.applied)
                do throws(TargetError) {
                    try admit(writes)
                    let outcomes = try writes.map { w throws(TargetError) in try apply(w) }
                    applied["batch", default: 0] += 1
                    return outcomes
                } catch {
                    (storage.collections, storage.revision, storage.applied) = saved
                }
            }
            return writes.map { w in
                do throws(TargetError) { return try apply(w) } catch { return .refused(error) }
            }
        }
    }

    /// One write, under the lock.
    private func apply(_ w: TargetWrite) throws(TargetError) -> WriteOutcome {
        try admit([w])
        let outcome = try change(w)
        switch w {
        case .add: applied["add", default: 0] += 1
        case .update: applied["update", default: 0] += 1
        case .delete: applied["delete", default: 0] += 1
        }
        return outcome
    }

    private func change(_ w: TargetWrite) throws(TargetError) -> WriteOutcome {
        switch w {
        case .add(let collection, let calendar):
            guard let uid = calendar.components.first(where: { PropertyTypes.isItemComponent($0.name) })?.uid,
                !uid.isEmpty
            else { throw TargetError(.invalid, "\(collection): every component needs a UID") }
            if let existing = collections[collection]?.first(where: { $0.value.uid == uid }) {
                throw TargetError(.uidExists(href: existing.key), "UID \(uid) is already in \(collection)")
            }
            try Self.admitSize(calendar, uid)
            let href = collection + "/" + Self.name(uid)
            revision += 1
            collections[collection, default: [:]][href] = Entity(
                uid: uid, calendar: calendar, changeToken: "m\(revision)", lastModified: revision)
            return .applied(href: href, version: "m\(revision)")
        case .update(let href, let version, let changes):
            guard let (c, _) = Self.split(href), var e = collections[c]?[href] else {
                throw TargetError(.notFound, "no entity \(href)")
            }
            guard version == e.changeToken else { throw TargetError(.versionStale, "\(href) has changed") }
            do { e.calendar = try Applier.apply(changes, to: e.calendar) } catch {
                throw TargetError(.invalid, "\(href): \(error)")
            }
            try Self.admitSize(e.calendar, e.uid)
            revision += 1
            e.changeToken = "m\(revision)"
            e.lastModified = revision
            collections[c]?[href] = e
            return .applied(href: href, version: e.changeToken)
        case .delete(let href, let version):
            guard let (c, _) = Self.split(href), let e = collections[c]?[href] else {
                throw TargetError(.notFound, "no entity \(href)")
            }
            if let version, version != e.changeToken { throw TargetError(.versionStale, "\(href) has changed") }
            collections[c]?[href] = nil
            revision += 1
            return .applied(href: href, version: nil)
        }
    }

    static func admitSize(_ calendar: ICalComponent, _ uid: String) throws(TargetError) {
        let n = ICalWriter.string([calendar]).utf8.count
        guard n > maxEntityBytes else { return }
        throw TargetError(.tooLarge, "the entity \(uid) is \(n) bytes, over the limit of \(maxEntityBytes)")
    }

    static func split(_ href: String) -> (String, String)? {
        guard let slash = href.lastIndex(of: "/") else { return nil }
        return (String(href[..<slash]), String(href[href.index(after: slash)...]))
    }

    static func name(_ uid: String) -> String {
        String(
            uid.unicodeScalars.map {
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.@".unicodeScalars.contains($0)
                    ? Character($0) : "_"
            }) + ".ics"
    }

    /// As the reference target answers: whole, or as a listing (UID and LAST-MODIFIED).
    static func entry(_ href: String, _ e: Entity, whole: Bool) -> TargetEntry {
        guard !whole else { return TargetEntry(href: href, version: e.changeToken, whole: e.calendar) }
        let stamp = ValueFormatter.icalString(.dateTime(.utc(Date(timeIntervalSince1970: Double(e.lastModified)))))
        let count = e.calendar.components.count { PropertyTypes.isItemComponent($0.name) }
        return TargetEntry(
            href: href, version: e.changeToken, uid: e.uid,
            lastModified: Array(repeating: stamp, count: count).joined(separator: ","))
    }
}
