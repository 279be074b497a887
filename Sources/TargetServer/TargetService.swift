import CalendarModel
import CalWS
import Foundation
import GRDB
import SyncCore

/// Applies CalWS-SOAP requests to the store, following the rules in docs of PROTOCOL.md:
/// `updateItem` needs the current change token and applies its change set all or nothing;
/// `multiOp` runs in one transaction and stops at the first failure, which rolls everything back.
public struct TargetService: Sendable {
    public let store: TargetStore
    /// Told of each stored entity that cannot be read back (its href and why), which answers
    /// leave out: the application logs it and counts it.
    public var onUnreadable: @Sendable (_ href: String, _ reason: String) -> Void
    /// How far around each write the instance index expands the entity written.
    public var horizon: IndexHorizon
    /// The views a `freebusyReport` may name (`/views/NAME`).
    public var views: ViewSet

    public init(
        store: TargetStore, horizon: IndexHorizon = .standard, views: ViewSet = ViewSet(),
        onUnreadable: @escaping @Sendable (_ href: String, _ reason: String) -> Void = { _, _ in }
    ) {
        self.store = store
        self.horizon = horizon
        self.views = views
        self.onUnreadable = onUnreadable
    }

    /// Handles one request for a caller holding `grants`.
    public func handle(_ request: CalWSRequest, grants: Grants, now: Date = Date()) async -> CalWSResponse {
        let stamp = Self.stamp(now)
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let window = horizon.window(at: seconds)
        do {
            switch request.body {
            case .getProperties, .calendarQuery, .calendarMultiget, .fetchItem, .freebusyReport:
                // A numbered pass that reads raises the fences first (`Fence`), once per pass.
                if let pass = request.pass {
                    let touched = Fence.collections(of: request, grants: grants)
                    if try await store.db.read({ db in try Fence.isBehind(db, touched, pass: pass) }) {
                        try await store.db.write { db in try Fence.raise(db, touched, to: pass) }
                    }
                }
                return try await store.db.read { [onUnreadable, views] db in
                    try Operation.read(
                        request, grants: grants, db: db, now: seconds, views: views, onUnreadable: onUnreadable)
                }
            case .multiOp(let ops):
                // What needs no store (checking and writing out each new entity) is done before
                // the write transaction, which every writer waits for in turn.
                let batch = Batch(window: window, now: seconds, views: views, onUnreadable: onUnreadable)
                let prepared = ops.map { PreparedAdd.of($0, zones: batch.written, window: window) }
                return await transaction(request, now: now, batch: batch) { db, batch in
                    if let pass = request.pass, let stale = try Fence.admit(db, request, pass: pass, grants: grants) {
                        return stale
                    }
                    var responses: [CalWSResponse] = []
                    for (i, op) in ops.enumerated() {
                        let r = try Operation.run(
                            op, prepared: prepared[i], grants: grants, db: db, stamp: stamp, batch: batch)
                        responses.append(r)
                        guard r.result.status == .ok else {
                            return CalWSResponse(
                                id: request.id,
                                result: .init(
                                    status: .error,
                                    message:
                                        "operation \(i + 1) (\(op.operation)) failed: \(r.result.message ?? r.result.status.rawValue); nothing was applied",
                                    error: r.result.error), .multiOp(responses))
                        }
                    }
                    return CalWSResponse(id: request.id, .multiOp(responses))
                }
            default:
                let prepared = PreparedAdd.of(request, window: window)
                return await transaction(request, now: now) { db, batch in
                    if let pass = request.pass, let stale = try Fence.admit(db, request, pass: pass, grants: grants) {
                        return stale
                    }
                    return try Operation.run(
                        request, prepared: prepared, grants: grants, db: db, stamp: stamp, batch: batch)
                }
            }
        } catch {
            return CalWSResponse(
                id: request.id, result: .init(status: .error, message: "the store failed: \(error)"),
                Operation.emptyBody(request))
        }
    }

    struct Rollback: Error {
        var response: CalWSResponse
    }

    /// Runs `body` in one write transaction, with `batch` (one of its own when nil): an answer
    /// that is not OK rolls back whatever it wrote; a store failure is answered as one.
    func transaction(
        _ request: CalWSRequest, now: Date, batch: Batch? = nil,
        _ body: @escaping @Sendable (Database, Batch) throws -> CalWSResponse
    ) async -> CalWSResponse {
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let window = horizon.window(at: seconds)
        do {
            return try await store.db.write { [views, onUnreadable] db in
                let batch = batch ?? Batch(window: window, now: seconds, views: views, onUnreadable: onUnreadable)
                let r = try body(db, batch)
                if r.result.status != .ok { throw Rollback(response: r) }
                try batch.finish(db)
                return r
            }
        } catch let rollback as Rollback {
            return rollback.response
        } catch {
            return CalWSResponse(
                id: request.id, result: .init(status: .error, message: "the store failed: \(error)"),
                Operation.emptyBody(request))
        }
    }

    /// What a CalDAV PUT asks for besides the entity: only if there is none at the name
    /// (`If-None-Match: *`), only if the one there has this change token (`If-Match`).
    public enum Precondition: Sendable, Hashable {
        case none
        case absent
        case version(String)
    }

    /// A CalDAV PUT: the entity `name` of an existing `collection` made, or replaced whole, by
    /// the same operations as CalWS's `addItem` and `updateItem` (replaced: the changes from the
    /// stored copy to `calendar` applied), in one transaction. A precondition that does not hold
    /// is `mismatchedChangeToken`, with nothing written.
    public func put(
        collection: String, name: String, calendar: ICalComponent, precondition: Precondition, grants: Grants,
        now: Date = Date()
    ) async -> CalWSResponse {
        let stamp = Self.stamp(now)
        let href = "\(collection)/\(name)"
        let add = CalWSRequest(.addItem(href: collection, calendar: calendar))
        return await transaction(add, now: now) { db, batch in
            guard try StoreSQL.collectionExists(db, collection) else {
                return Operation.failure(add, .targetDoesNotExist, "no collection \(collection)", status: .notFound)
            }
            let existing = try StoreSQL.entity(db, collection: collection, name: name)
            switch (precondition, existing) {
            case (.absent, _?), (.version, nil):
                return Operation.failure(add, .mismatchedChangeToken, "\(href): the precondition failed")
            case (.version(let v), let e?) where v != e.changeToken:
                return Operation.failure(
                    add, .mismatchedChangeToken, "\(href) has changed: its change token is no longer \(v)")
            case (_, nil):
                return try Operation.add(
                    add, href: collection, calendar: calendar, prepared: nil, grants: grants, db: db, stamp: stamp,
                    batch: batch, name: name)
            case (_, let e?):
                guard let current = Entities.readable(e, zones: batch.zones, { _, _ in }) else {
                    return Operation.failure(
                        add, .invalidCalendarData, "the stored entity \(href) cannot be read back")
                }
                // Nothing skipped: the client's object replaces the stored one whole. The same
                // object again writes nothing, so its ETag changes exactly when its content does.
                let update = Differ.diff(source: calendar, target: current, skip: SkipList())
                if update.isEmpty { return CalWSResponse(.updateItem(changeToken: e.changeToken)) }
                return try Operation.applyUpdate(
                    CalWSRequest(.updateItem(href: href, changeToken: e.changeToken, update: update)), href: href,
                    token: e.changeToken, update: update, grants: grants, db: db, stamp: stamp, batch: batch)
            }
        }
    }

    /// A CalDAV DELETE: CalWS's `deleteItem` of `href`, only if the entity still has the change
    /// token `ifMatch` (when given), in one transaction.
    public func delete(href: String, ifMatch: String?, grants: Grants, now: Date = Date()) async -> CalWSResponse {
        let request = CalWSRequest(.deleteItem(href: href))
        return await transaction(request, now: now) { db, batch in
            if let ifMatch, let (collection, name) = Paths.entity(href),
                let e = try StoreSQL.entity(db, collection: collection, name: name), e.changeToken != ifMatch
            {
                return Operation.failure(
                    request, .mismatchedChangeToken, "\(href) has changed: its change token is no longer \(ifMatch)")
            }
            return try Operation.delete(request, href: href, grants: grants, db: db, batch: batch)
        }
    }

    /// A CalDAV MKCALENDAR: a new, empty collection at `path` (the grants must write it).
    /// `nil` when made; otherwise why not.
    public func makeCollection(_ path: String, grants: Grants, now: Date = Date()) async -> MakeRefusal? {
        guard Paths.isCollection(path) else { return .notACollectionPath }
        guard grants.allows(.write, path) else { return .forbidden }
        do {
            return try await store.db.write { db in
                if try StoreSQL.collectionExists(db, path) { return .exists }
                try StoreSQL.createCollection(db, path, now: Self.stamp(now))
                return nil
            }
        } catch {
            return .store("\(error)")
        }
    }

    public enum MakeRefusal: Sendable, Hashable {
        case notACollectionPath, forbidden, exists
        case store(String)
    }

    /// `20260105T090000Z` for now.
    static func stamp(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year!)\(two(c.month!))\(two(c.day!))T\(two(c.hour!))\(two(c.minute!))\(two(c.second!))Z"
    }
}

/// What the operations of one transaction share: each collection's revision, bumped once per
/// transaction (a multiOp of 200 adds is one new revision, one new ETag), however many writes it
/// holds; the zones its entities were read with and written with, each read and written once; and
/// the window the instance index expands its entities over.
/// Used by one request at a time (first outside its transaction, then inside), never at once.
final class Batch: @unchecked Sendable {
    private var bumped: [String: Int64] = [:]
    let zones = SharedZones()
    let written = ICalWriter.WrittenZones()
    let window: IndexWindow
    /// Epoch seconds of the request.
    let now: Int64
    /// What a read among the operations (a `freebusyReport` of a view) needs.
    let views: ViewSet
    let onUnreadable: @Sendable (_ href: String, _ reason: String) -> Void

    init(
        window: IndexWindow, now: Int64, views: ViewSet = ViewSet(),
        onUnreadable: @escaping @Sendable (_ href: String, _ reason: String) -> Void = { _, _ in }
    ) {
        self.window = window
        self.now = now
        self.views = views
        self.onUnreadable = onUnreadable
    }

    func next(_ db: Database, _ collection: String) throws -> Int64 {
        if let r = bumped[collection] { return r }
        let r = try StoreSQL.bump(db, collection)
        bumped[collection] = r
        return r
    }

    /// The longest instance indexed in each collection by this transaction.
    private var indexed: [String: Int64] = [:]

    /// Writes an entity's index rows (`new`: it had none); its collection's window is narrowed
    /// once, by `finish`.
    func index(_ db: Database, collection: String, name: String, _ instances: [BusyInstance], new: Bool) throws {
        let longest = try InstanceIndex.rows(
            db, collection: collection, name: name, instances: instances, window: window, new: new)
        indexed[collection] = max(indexed[collection] ?? 0, longest)
    }

    /// Before the transaction commits: each collection indexed into gets its window narrowed.
    func finish(_ db: Database) throws {
        for (collection, longest) in indexed {
            try InstanceIndex.narrow(db, collection: collection, to: window, longest: longest)
        }
    }
}

/// An `addItem`'s calendar checked, written out as the entity's text and expanded into its busy
/// instances over the index's window, none of which needs the store.
struct PreparedAdd {
    var uid: Result<String, Entities.Failure>
    var data: String
    var instances: [BusyInstance]

    /// `zones`: those written for the request's other entities.
    init(_ calendar: ICalComponent, zones: ICalWriter.WrittenZones? = nil, window: IndexWindow) {
        uid = Entities.validate(calendar)
        let valid = (try? uid.get()) != nil
        data = valid ? ICalWriter.string([calendar], zones: zones) : ""
        instances = valid ? BusyRules.instances(of: calendar, from: window.from, to: window.to) : []
    }

    /// Nil for any other request.
    static func of(_ r: CalWSRequest, zones: ICalWriter.WrittenZones? = nil, window: IndexWindow) -> PreparedAdd? {
        guard case .addItem(_, let calendar) = r.body else { return nil }
        return PreparedAdd(calendar, zones: zones, window: window)
    }
}

/// The single operations.
enum Operation {
    static func emptyBody(_ r: CalWSRequest) -> CalWSResponse.Body {
        switch r.body {
        case .getProperties: .getProperties(nil)
        case .calendarQuery, .calendarMultiget: .calendarQuery([])
        case .fetchItem: .fetchItem(nil)
        case .freebusyReport: .freebusyReport(nil)
        case .reportFreshness: .reportFreshness
        case .addItem: .addItem(href: nil, changeToken: nil)
        case .updateItem: .updateItem(changeToken: nil)
        case .deleteItem: .deleteItem
        case .multiOp: .multiOp([])
        }
    }

    static func failure(_ r: CalWSRequest, _ error: CalWSErrorKind, _ message: String, status: CalWSStatus = .error)
        -> CalWSResponse
    {
        CalWSResponse(id: r.id, result: .failure(error, message, status: status), emptyBody(r))
    }

    /// The CalWS `forbidden` answer when `grants` do not reach `target` at `level` (naming the
    /// level that would), or nil.
    static func refusal(_ r: CalWSRequest, _ grants: Grants, _ level: AccessLevel, _ target: String)
        -> CalWSResponse?
    {
        grants.refusal(level, target, for: r.operation).map { failure(r, .forbidden, $0, status: .noAccess) }
    }

    // MARK: Reads

    static func read(
        _ r: CalWSRequest, grants: Grants, db: Database, now: Int64, views: ViewSet = ViewSet(),
        onUnreadable: (String, String) -> Void = { _, _ in }
    ) throws -> CalWSResponse {
        switch r.body {
        case .getProperties(let href):
            return try getProperties(r, href: href, grants: grants, db: db)
        case .fetchItem(let href):
            return try fetchItem(r, href: href, grants: grants, db: db, onUnreadable: onUnreadable)
        case .calendarQuery(let q):
            return try calendarQuery(r, q: q, grants: grants, db: db, onUnreadable: onUnreadable)
        case .freebusyReport(let href, let range):
            return try freebusyReport(
                r, href: href, range: range, grants: grants, db: db, now: now, views: views, onUnreadable: onUnreadable)
        case .calendarMultiget(let href, let hrefs, let allData):
            return try calendarMultiget(
                r, href: href, hrefs: hrefs, allData: allData, grants: grants, db: db, onUnreadable: onUnreadable)
        default:
            return failure(r, .forbidden, "not a read")
        }
    }

    static func getProperties(_ r: CalWSRequest, href: String, grants: Grants, db: Database) throws -> CalWSResponse {
        if href == "/" {
            return CalWSResponse(
                id: r.id, .getProperties(CollectionProperties(href: "/", resourceType: "collection")))
        }
        if let refused = refusal(r, grants, .freebusy, href) { return refused }
        guard try StoreSQL.collectionExists(db, href) else {
            return failure(r, .targetDoesNotExist, "no collection \(href)", status: .notFound)
        }
        return CalWSResponse(
            id: r.id,
            .getProperties(
                CollectionProperties(
                    href: href, displayName: String(href.split(separator: "/").last ?? ""),
                    timezone: try Freshness.zoneName(db, collection: href))))
    }

    static func fetchItem(
        _ r: CalWSRequest, href: String, grants: Grants, db: Database, onUnreadable: (String, String) -> Void
    ) throws -> CalWSResponse {
        guard let (collection, name) = Paths.entity(href) else {
            if Paths.isCollection(href), try StoreSQL.collectionExists(db, href) {
                return failure(r, .targetNotEntity, "\(href) is a collection, not an entity")
            }
            return failure(r, .targetDoesNotExist, "no entity \(href)", status: .notFound)
        }
        if let refused = refusal(r, grants, .read, collection) { return refused }
        guard let e = try StoreSQL.entity(db, collection: collection, name: name) else {
            return failure(r, .targetDoesNotExist, "no entity \(href)", status: .notFound)
        }
        guard let cal = Entities.readable(e, zones: SharedZones(), onUnreadable) else {
            return failure(r, .invalidCalendarData, "the stored entity \(href) cannot be read back")
        }
        return CalWSResponse(
            id: r.id, .fetchItem(EntityInfo(href: e.href, changeToken: e.changeToken, calendar: cal)))
    }

    static func calendarQuery(
        _ r: CalWSRequest, q: CalendarQuery, grants: Grants, db: Database, onUnreadable: (String, String) -> Void
    ) throws -> CalWSResponse {
        if let refused = refusal(r, grants, .read, q.href) { return refused }
        guard try StoreSQL.collectionExists(db, q.href) else {
            return failure(r, .targetDoesNotExist, "no collection \(q.href)", status: .notFound)
        }
        var stored: [StoredEntity]
        if case .uid(let uid) = q.filter {
            stored = try StoreSQL.entity(db, collection: q.href, uid: uid).map { [$0] } ?? []
        } else {
            stored = try StoreSQL.entities(db, collection: q.href)
        }
        var out: [EntityInfo] = []
        let zones = SharedZones()
        let collectionZone = q.expand == nil ? nil : try Freshness.zoneName(db, collection: q.href)
        for e in stored {
            guard var cal = Entities.readable(e, zones: zones, onUnreadable) else { continue }
            if case .timeRange(let start, let end) = q.filter, !TimeRange.overlaps(cal, start: start, end: end) {
                continue
            }
            if q.allData, let range = q.expand {
                // Expanded, an entity of events is answered only when one of its instances
                // overlaps the range.
                guard let expanded = CalendarReports.expanded(cal, over: range, collectionZone: collectionZone)
                else { continue }
                cal = expanded
            }
            out.append(
                EntityInfo(
                    href: e.href, changeToken: e.changeToken,
                    calendar: q.allData ? cal : Entities.listing(cal, lastModified: e.lastModified)))
        }
        return CalWSResponse(id: r.id, .calendarQuery(out))
    }

    static func freebusyReport(
        _ r: CalWSRequest, href: String, range: UTCRange, grants: Grants, db: Database, now: Int64, views: ViewSet,
        onUnreadable: (String, String) -> Void
    ) throws -> CalWSResponse {
        // A collection, or a view of several (`/views/NAME`).
        let target = View.target(ofHref: href)
        if let refused = grants.refusal(.freebusy, target, views: views, for: r.operation) {
            return failure(r, .forbidden, refused, status: .noAccess)
        }
        let collections: [String]
        if let name = View.name(ofTarget: target) {
            guard let view = views[name] else {
                return failure(r, .targetDoesNotExist, "no view \(name) in the views file", status: .notFound)
            }
            collections = view.collections
        } else {
            guard Paths.isCollection(href), try StoreSQL.collectionExists(db, href) else {
                return failure(r, .targetDoesNotExist, "no collection \(href)", status: .notFound)
            }
            collections = [href]
        }
        // Floating and DATE times are placed in each collection's zone; in one without a
        // zone, in UTC (the server's choice, RFC 4791 §7.10).
        let periods = try collections.flatMap { c in
            try InstanceIndex.periods(
                db, collection: c, in: .utc, from: range.start.utcSeconds, to: range.end.utcSeconds,
                onUnreadable: onUnreadable)
        }
        return CalWSResponse(
            id: r.id, .freebusyReport(CalendarReports.freebusy(periods, href: href, range: range, now: now)))
    }

    static func calendarMultiget(
        _ r: CalWSRequest, href: String, hrefs: [String], allData: Bool, grants: Grants, db: Database,
        onUnreadable: (String, String) -> Void
    ) throws -> CalWSResponse {
        if let refused = refusal(r, grants, .read, href) { return refused }
        var out: [EntityInfo] = []
        let zones = SharedZones()
        for h in hrefs {
            guard let (collection, name) = Paths.entity(h), collection == href || href == "/",
                grants.allows(.read, collection)
            else { continue }
            if let e = try StoreSQL.entity(db, collection: collection, name: name),
                let cal = Entities.readable(e, zones: zones, onUnreadable)
            {
                out.append(
                    EntityInfo(
                        href: e.href, changeToken: e.changeToken,
                        calendar: allData ? cal : Entities.listing(cal, lastModified: e.lastModified)))
            }
        }
        return CalWSResponse(id: r.id, .calendarQuery(out))
    }

    // MARK: Writes

    static func run(
        _ r: CalWSRequest, prepared: PreparedAdd?, grants: Grants, db: Database, stamp: String, batch: Batch
    ) throws -> CalWSResponse {
        switch r.body {
        case .getProperties, .calendarQuery, .calendarMultiget, .fetchItem, .freebusyReport:
            return try read(
                r, grants: grants, db: db, now: batch.now, views: batch.views, onUnreadable: batch.onUnreadable)
        case .reportFreshness(let f):
            guard Paths.isCollection(f.href) else {
                return failure(
                    r, .invalidCalendarCollectionLocation, "\(f.href) is not a collection path such as /public/holidays"
                )
            }
            if let refused = refusal(r, grants, .write, f.href) { return refused }
            try Freshness(f, reportedAt: batch.now).save(db)
            return CalWSResponse(id: r.id, .reportFreshness)
        case .addItem(let href, let calendar):
            return try add(
                r, href: href, calendar: calendar, prepared: prepared, grants: grants, db: db, stamp: stamp,
                batch: batch)
        case .updateItem(let href, let token, let update):
            return try applyUpdate(
                r, href: href, token: token, update: update, grants: grants, db: db, stamp: stamp, batch: batch)
        case .deleteItem(let href):
            return try delete(r, href: href, grants: grants, db: db, batch: batch)
        case .multiOp:
            return failure(r, .forbidden, "multiOp cannot hold another multiOp")
        }
    }

    /// `addItem`: a new entity of one UID in a collection (created if needed), indexed.
    static func add(
        _ r: CalWSRequest, href: String, calendar: ICalComponent, prepared: PreparedAdd?, grants: Grants, db: Database,
        stamp: String, batch: Batch, name: String? = nil
    ) throws -> CalWSResponse {
        guard Paths.isCollection(href) else {
            return failure(
                r, .invalidCalendarCollectionLocation, "\(href) is not a collection path such as /public/holidays")
        }
        if let refused = refusal(r, grants, .write, href) { return refused }
        let prepared = prepared ?? PreparedAdd(calendar, window: batch.window)
        let uid: String
        switch prepared.uid {
        case .success(let u): uid = u
        case .failure(let f): return failure(r, f.kind, f.message)
        }
        if let tooLarge = Entities.checkSize(prepared.data, uid: uid) {
            return failure(r, tooLarge.kind, tooLarge.message)
        }
        try StoreSQL.createCollection(db, href, now: stamp)
        if let existing = try StoreSQL.entity(db, collection: href, uid: uid) {
            return failure(
                r, .uidConflict(href: existing.href), "UID \(uid) is already in \(href) as \(existing.href)")
        }
        let revision = try batch.next(db, href)
        let e = StoredEntity(
            collection: href, name: name ?? Paths.name(forUID: uid), uid: uid, data: prepared.data,
            changeToken: "r\(revision)", lastModified: stamp)
        try e.write(db, StoredEntity.upsert)
        try StoreSQL.unbury(db, collection: href, name: e.name)
        try batch.index(db, collection: href, name: e.name, prepared.instances, new: true)
        return CalWSResponse(id: r.id, .addItem(href: e.href, changeToken: e.changeToken))
    }

    /// `updateItem`: a change set applied to an entity whose change token is the current one.
    static func applyUpdate(
        _ r: CalWSRequest, href: String, token: String, update: ComponentUpdate, grants: Grants, db: Database,
        stamp: String, batch: Batch
    ) throws -> CalWSResponse {
        guard let (collection, name) = Paths.entity(href) else {
            return failure(r, .targetDoesNotExist, "no entity \(href)", status: .notFound)
        }
        if let refused = refusal(r, grants, .write, collection) { return refused }
        guard var e = try StoreSQL.entity(db, collection: collection, name: name) else {
            return failure(r, .targetDoesNotExist, "no entity \(href)", status: .notFound)
        }
        guard !token.isEmpty else {
            return failure(r, .missingChangeToken, "updateItem needs the entity's change token")
        }
        guard token == e.changeToken else {
            return failure(r, .mismatchedChangeToken, "\(href) has changed: its change token is no longer \(token)")
        }
        guard let current = Entities.readable(e, zones: batch.zones, { _, _ in }) else {
            return failure(
                r, .invalidCalendarData, "the stored entity \(href) cannot be read back; delete it and add it again"
            )
        }
        let updated: ICalComponent
        do {
            updated = try Applier.apply(update, to: current)
        } catch {
            switch error {
            case .noMatch: return failure(r, .targetDoesNotExist, "\(href): \(error)")
            case .ambiguous: return failure(r, .invalidCalendarData, "\(href): \(error)")
            }
        }
        switch Entities.validate(updated) {
        case .success(let uid) where uid == e.uid: break
        case .success(let uid):
            return failure(
                r, .invalidCalendarObjectResource, "the update would change the UID from \(e.uid) to \(uid)")
        case .failure(let f): return failure(r, f.kind, f.message)
        }
        let data = ICalWriter.string([updated], zones: batch.written)
        if let tooLarge = Entities.checkSize(data, uid: e.uid) {
            return failure(r, tooLarge.kind, tooLarge.message)
        }
        e.data = data
        e.changeToken = "r\(try batch.next(db, collection))"
        e.lastModified = stamp
        try e.write(db, StoredEntity.upsert)
        let instances = BusyRules.instances(of: updated, from: batch.window.from, to: batch.window.to)
        try batch.index(db, collection: collection, name: name, instances, new: false)
        return CalWSResponse(id: r.id, .updateItem(changeToken: e.changeToken))
    }

    /// `deleteItem`: an entity and its index rows.
    static func delete(_ r: CalWSRequest, href: String, grants: Grants, db: Database, batch: Batch) throws
        -> CalWSResponse
    {
        guard let (collection, name) = Paths.entity(href) else {
            if Paths.isCollection(href), try StoreSQL.collectionExists(db, href) {
                return failure(r, .targetNotEntity, "\(href) is a collection: only entities are deleted")
            }
            return failure(r, .targetDoesNotExist, "no entity \(href)", status: .notFound)
        }
        if let refused = refusal(r, grants, .write, collection) { return refused }
        guard try StoreSQL.entity(db, collection: collection, name: name) != nil else {
            return failure(r, .targetDoesNotExist, "no entity \(href)", status: .notFound)
        }
        try InstanceIndex.remove(db, collection: collection, name: name)
        try db.cachedStatement(sql: StoredEntity.delete).execute(arguments: [collection, name])
        try StoreSQL.bury(db, collection: collection, name: name, revision: try batch.next(db, collection))
        return CalWSResponse(id: r.id, .deleteItem)
    }
}
