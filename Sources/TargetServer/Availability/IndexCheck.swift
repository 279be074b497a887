import CalendarModel
import Foundation
import GRDB
import Recurrence

/// Re-derives the instance index of collections from their entities and reports where the stored
/// rows drifted from it (`outboard-target reindex`); unless only checking, writes the derived
/// rows in their place. Each entity is expanded over the window it is recorded as indexed over
/// (one not indexed at all, over the horizon around `now`), and only the stored rows inside that
/// window are compared. Works in transactions of `batchSize` entities, so it runs beside a
/// server using the same store.
public struct IndexCheck: Sendable {
    public let store: TargetStore
    public var horizon: IndexHorizon
    public var batchSize = 200

    public init(store: TargetStore, horizon: IndexHorizon = .standard) {
        self.store = store
        self.horizon = horizon
    }

    /// One entity whose rows differ from what it derives.
    public struct Drift: Sendable, Hashable {
        public var href: String
        public var uid: String
        /// Derived from the entity, not stored (or not indexed at all).
        public var missing: [String]
        /// Stored, not derived from the entity.
        public var stale: [String]
        /// The entity had no index window (stored before the index existed).
        public var notIndexed: Bool
        /// The entity cannot be read back: it derives no instance.
        public var unreadable: String?
    }

    /// What was found in one collection.
    public struct Report: Sendable, Hashable {
        public var collection: String
        public var entities = 0
        public var drifts: [Drift] = []
        /// Whether the derived rows were written.
        public var corrected = false
    }

    /// Checks `collection` (every collection when nil); with `fix`, writes the derived rows of
    /// every entity that drifted and resets each collection's window. Throws for a collection
    /// that does not exist, naming it.
    public func run(collection: String?, fix: Bool, now: Date) async throws -> [Report] {
        let collections = try await store.db.read { db in
            if let collection {
                guard try StoreSQL.collectionExists(db, collection) else {
                    throw TargetError.config("no collection \(collection) in this store")
                }
                return [collection]
            }
            return try String.fetchAll(db, sql: "SELECT path FROM collection ORDER BY path")
        }
        let fallback = horizon.window(at: Int64(now.timeIntervalSince1970.rounded(.down)))
        var reports: [Report] = []
        for c in collections {
            var report = Report(collection: c, corrected: fix)
            var after = ""
            while true {
                let work: @Sendable (Database) throws -> ([Drift], Int, String?) = { [batchSize, after] db in
                    let entities = try StoredEntity.fetchAll(
                        db,
                        sql: """
                            SELECT e.*, v.indexed_from, v.indexed_to FROM entity e
                            LEFT JOIN coverage v ON v.collection = e.collection AND v.name = e.name
                            WHERE e.collection = ? AND e.name > ? ORDER BY e.name LIMIT ?
                            """, arguments: [c, after, batchSize])
                    let zones = SharedZones()
                    var drifts: [Drift] = []
                    for e in entities {
                        guard let d = try Self.drift(db, e, fallback: fallback, zones: zones) else { continue }
                        drifts.append(d.drift)
                        if fix {
                            try InstanceIndex.write(
                                db, collection: c, name: e.name, instances: d.derived, window: d.window)
                        }
                    }
                    return (drifts, entities.count, entities.count < batchSize ? nil : entities.last?.name)
                }
                let (drifts, count, last) = fix ? try await store.db.write(work) : try await store.db.read(work)
                report.drifts += drifts
                report.entities += count
                guard let last else { break }
                after = last
            }
            if fix { try await store.db.write { db in try InstanceIndex.coverCollection(db, c) } }
            reports.append(report)
        }
        return reports
    }

    /// How an entity's stored rows differ from what it derives, with the derived rows and the
    /// window they are for; nil when they do not.
    static func drift(_ db: Database, _ e: StoredEntity, fallback: IndexWindow, zones: SharedZones) throws -> (
        drift: Drift, derived: [BusyInstance], window: IndexWindow
    )? {
        let window = e.indexed ?? fallback
        var unreadable: String?
        let derived = InstanceIndex.derive(e, over: window, zones: zones) { _, reason in unreadable = reason } ?? []
        let stored = try InstanceIndex.rows(db, collection: e.collection, name: e.name).filter {
            $0.start < window.to && $0.end > window.from
        }
        var left = Dictionary(grouping: stored, by: { $0 }).mapValues(\.count)
        var missing: [BusyInstance] = []
        for i in derived {
            if let n = left[i], n > 0 { left[i] = n - 1 } else { missing.append(i) }
        }
        let stale = stored.filter { i in
            guard let n = left[i], n > 0 else { return false }
            left[i] = n - 1
            return true
        }
        guard !missing.isEmpty || !stale.isEmpty || e.indexed == nil || unreadable != nil else { return nil }
        let drift = Drift(
            href: e.href, uid: e.uid, missing: missing.map(describe), stale: stale.map(describe),
            notIndexed: e.indexed == nil, unreadable: unreadable)
        return (drift, derived, window)
    }

    /// `2026-03-09T08:00:00Z/2026-03-09T09:00:00Z busy` (floating: without the `Z`).
    static func describe(_ i: BusyInstance) -> String {
        func time(_ t: Int64) -> String { i.isFloating ? String(RFC3339.utc(t).dropLast()) : RFC3339.utc(t) }
        return "\(time(i.start))/\(time(i.end)) \(i.status.rawValue)" + (i.isFloating ? " (floating)" : "")
    }
}

extension IndexCheck.Report {
    /// What `outboard-target reindex` prints: a line per difference, then the collection's summary.
    public var lines: [String] {
        var out: [String] = []
        for d in drifts {
            let entity = "\(d.href) (UID \(d.uid))"
            if let reason = d.unreadable { out.append("\(entity): unreadable, so it has no instances: \(reason)") }
            if d.notIndexed { out.append("\(entity): not indexed (stored before the index existed)") }
            out += d.missing.map { "\(entity): missing \($0)" }
            out += d.stale.map { "\(entity): stale \($0)" }
        }
        let counted = "\(entities) entit\(entities == 1 ? "y" : "ies")"
        guard !drifts.isEmpty else { return out + ["\(collection): \(counted), the index is right"] }
        let rows = drifts.reduce(0) { $0 + $1.missing.count + $1.stale.count }
        return out + [
            "\(collection): \(counted), \(drifts.count) drifted (\(rows) row\(rows == 1 ? "" : "s") differ); "
                + (corrected ? "corrected" : "nothing written (--check)")
        ]
    }
}
