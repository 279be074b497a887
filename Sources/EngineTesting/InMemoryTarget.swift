import CalendarModel
import CalWS
import Engine
import Foundation
import SyncCore

/// A calendar target in memory, with the semantics PROTOCOL.md gives the reference target: one UID
/// per entity, a change token that changes on every write and guards every update, atomic
/// `multiOp`, fences against the writes of older passes. For fast tests and the crash
/// simulation; it passes the same contract suite as the CalWS-SOAP client talking to
/// `outboard-target`.
public final class InMemoryTarget: CalendarTarget, @unchecked Sendable {
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

    public convenience init() { self.init(storage: Storage(), pass: nil) }

    private init(storage: Storage, pass: PassStamp?) {
        self.storage = storage
        self.pass = pass
    }

    public func fenced(by pass: PassStamp) -> InMemoryTarget { InMemoryTarget(storage: storage, pass: pass) }

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
    /// touched (`staleWriter`), else raises their fences.
    private func admit(_ writes: [CalWSRequest]) throws(TargetClientError) {
        guard let pass else { return }
        let touched = Set(
            writes.compactMap { r -> String? in
                switch r.body {
                case .addItem(let c, _): c
                case .updateItem(let href, _, _), .deleteItem(let href): Self.split(href)?.0
                default: nil
                }
            })
        for c in touched.sorted() {
            if let later = storage.fences[c + "\n" + pass.writer], later > pass.number {
                throw Self.refusal(
                    .staleWriter, "pass \(pass.number) is older than pass \(later), which has touched \(c)", c)
            }
        }
        for c in touched { reading(c) }
    }

    /// `body` under the lock (NSLock.withLock rethrows untyped errors).
    private func locked<T>(_ body: () throws(TargetClientError) -> T) throws(TargetClientError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Every entity of a collection, by href (for tests that compare what the target holds).
    public func entities(_ collection: String) -> [String: ICalComponent] {
        lock.withLock { (collections[collection] ?? [:]).mapValues(\.calendar) }
    }

    /// How many writes of each operation (`addItem`, `updateItem`, `deleteItem`) were applied,
    /// those inside a `multiOp` included.
    public var operations: [String: Int] {
        lock.withLock { applied }
    }

    /// The last freshness reported for each collection.
    public var freshness: [String: CollectionFreshness] {
        lock.withLock { reported }
    }

    public func reportFreshness(_ freshness: CollectionFreshness) async throws(TargetClientError) {
        lock.withLock { reported[freshness.href] = freshness }
    }

    /// A collection's properties: its zone is the one last reported with its freshness.
    public func properties(href: String) async throws(TargetClientError) -> CollectionProperties? {
        try locked { () throws(TargetClientError) -> CollectionProperties? in
            guard collections[href] != nil else {
                throw Self.refusal(.targetDoesNotExist, "no collection \(href)", href)
            }
            return CollectionProperties(
                href: href, displayName: String(href.split(separator: "/").last ?? ""),
                timezone: reported[href]?.timezone)
        }
    }

    /// Replaces an entity's calendar as another client would (a new change token).
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

    public func list(collection: String, allData: Bool) async throws(TargetClientError) -> [EntityInfo] {
        try locked { () throws(TargetClientError) -> [EntityInfo] in
            reading(collection)
            guard let entities = collections[collection] else {
                throw Self.refusal(.targetDoesNotExist, "no collection \(collection)", collection)
            }
            return entities.keys.sorted().map { Self.info($0, entities[$0]!, allData: allData) }
        }
    }

    public func fetch(uid: String, in collection: String) async throws(TargetClientError) -> EntityInfo? {
        try locked { () throws(TargetClientError) -> EntityInfo? in
            reading(collection)
            guard let entities = collections[collection] else {
                throw Self.refusal(.targetDoesNotExist, "no collection \(collection)", collection)
            }
            return entities.first { $0.value.uid == uid }.map { Self.info($0.key, $0.value, allData: true) }
        }
    }

    public func fetchItem(href: String) async throws(TargetClientError) -> EntityInfo {
        try locked { () throws(TargetClientError) -> EntityInfo in
            if let (c, _) = Self.split(href) { reading(c) }
            guard let (c, _) = Self.split(href), let e = collections[c]?[href] else {
                throw Self.refusal(.targetDoesNotExist, "no entity \(href)", href)
            }
            return Self.info(href, e, allData: true)
        }
    }

    public func multiget(collection: String, hrefs: [String], allData: Bool) async throws(TargetClientError)
        -> [EntityInfo]
    {
        lock.withLock {
            reading(collection)
            return hrefs.compactMap { h in collections[collection]?[h].map { Self.info(h, $0, allData: allData) } }
        }
    }

    public func addItem(collection: String, calendar: ICalComponent) async throws(TargetClientError) -> (
        href: String, changeToken: String
    ) {
        let r = try locked { () throws(TargetClientError) -> CalWSResponse in
            try apply(CalWSRequest(.addItem(href: collection, calendar: calendar)))
        }
        guard case .addItem(let href?, let token?) = r.body else {
            throw .malformed(endpoint: "memory", message: "no href")
        }
        return (href, token)
    }

    public func updateItem(href: String, changeToken: String, update: ComponentUpdate) async throws(TargetClientError)
        -> String
    {
        let r = try locked { () throws(TargetClientError) -> CalWSResponse in
            try apply(CalWSRequest(.updateItem(href: href, changeToken: changeToken, update: update)))
        }
        guard case .updateItem(let token?) = r.body else { throw .malformed(endpoint: "memory", message: "no token") }
        return token
    }

    public func deleteItem(href: String) async throws(TargetClientError) {
        _ = try locked { () throws(TargetClientError) -> CalWSResponse in
            try apply(CalWSRequest(.deleteItem(href: href)))
        }
    }

    public func multiOp(_ operations: [CalWSRequest]) async throws(TargetClientError) -> [CalWSResponse] {
        try locked { () throws(TargetClientError) -> [CalWSResponse] in
            try admit(operations)
            let saved = (storage.collections, storage.revision, storage.applied)
            var out: [CalWSResponse] = []
            for (i, op) in operations.enumerated() {
                do throws(TargetClientError) { out.append(try apply(op, id: i + 1)) } catch {
                    (storage.collections, storage.revision, storage.applied) = saved
                    throw error
                }
            }
            return out
        }
    }

    /// One write, under the lock.
    private func apply(_ r: CalWSRequest, id: Int = 0) throws(TargetClientError) -> CalWSResponse {
        try admit([r])
        let response = try write(r, id: id)
        applied[r.operation, default: 0] += 1
        return response
    }

    private func write(_ r: CalWSRequest, id: Int) throws(TargetClientError) -> CalWSResponse {
        switch r.body {
        case .addItem(let collection, let calendar):
            guard let uid = calendar.components.first(where: { PropertyTypes.isItemComponent($0.name) })?.uid,
                !uid.isEmpty
            else {
                throw Self.refusal(.invalidCalendarObjectResource, "every component needs a UID", collection)
            }
            if let existing = collections[collection]?.first(where: { $0.value.uid == uid }) {
                throw Self.refusal(
                    .uidConflict(href: existing.key), "UID \(uid) is already in \(collection)", collection)
            }
            let href = collection + "/" + Self.name(uid)
            revision += 1
            collections[collection, default: [:]][href] = Entity(
                uid: uid, calendar: calendar, changeToken: "m\(revision)", lastModified: revision)
            return CalWSResponse(id: id, .addItem(href: href, changeToken: "m\(revision)"))
        case .updateItem(let href, let token, let update):
            guard let (c, _) = Self.split(href), var e = collections[c]?[href] else {
                throw Self.refusal(.targetDoesNotExist, "no entity \(href)", href)
            }
            guard token == e.changeToken else {
                throw Self.refusal(.mismatchedChangeToken, "\(href) has changed", href)
            }
            do { e.calendar = try Applier.apply(update, to: e.calendar) } catch {
                throw Self.refusal(.targetDoesNotExist, "\(href): \(error)", href)
            }
            revision += 1
            e.changeToken = "m\(revision)"
            e.lastModified = revision
            collections[c]?[href] = e
            return CalWSResponse(id: id, .updateItem(changeToken: e.changeToken))
        case .deleteItem(let href):
            guard let (c, _) = Self.split(href), collections[c]?[href] != nil else {
                throw Self.refusal(.targetDoesNotExist, "no entity \(href)", href)
            }
            collections[c]?[href] = nil
            revision += 1
            return CalWSResponse(id: id, .deleteItem)
        default:
            throw Self.refusal(.forbidden, "not a write", "multiOp")
        }
    }

    static func refusal(_ kind: CalWSErrorKind, _ message: String, _ about: String) -> TargetClientError {
        .calws(kind, status: kind == .targetDoesNotExist ? .notFound : .error, message: message, about: about)
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

    /// As the reference target answers: whole, or reduced to UID, RECURRENCE-ID and LAST-MODIFIED.
    static func info(_ href: String, _ e: Entity, allData: Bool) -> EntityInfo {
        guard !allData else { return EntityInfo(href: href, changeToken: e.changeToken, calendar: e.calendar) }
        let stamp = ICalProperty("LAST-MODIFIED", .dateTime(.utc(Date(timeIntervalSince1970: Double(e.lastModified)))))
        let comps = e.calendar.components.filter { PropertyTypes.isItemComponent($0.name) }.map { c in
            ICalComponent(name: c.name, properties: ["UID", "RECURRENCE-ID"].compactMap { c.property($0) } + [stamp])
        }
        return EntityInfo(
            href: href, changeToken: e.changeToken, calendar: ICalComponent(name: "VCALENDAR", components: comps))
    }
}
