import CalendarModel
import Foundation
import GRDB

/// Keeps the instance index covering its horizon as time passes: each round indexes the entities
/// that are not indexed at all (a store from before the index) over the horizon around `now`, and
/// extends those whose window ends before `now` + the horizon's days ahead; both up to `step`
/// beyond the horizon, so an entity is expanded again about once a step rather than every day.
/// Rows of instances that ended before the horizon are then forgotten (the windows start at the
/// horizon: a query before it is answered by expanding on the fly), and each collection's window
/// is set to what all its entities cover.
///
/// Works in transactions of `batchSize` entities, so the server's writes wait for one batch at
/// most; an entity written meanwhile is indexed by its write and left alone.
public struct IndexUpkeep: Sendable {
    public let store: TargetStore
    public var horizon: IndexHorizon
    /// How far beyond the horizon an entity is extended (default 30 days).
    public var step: Int64 = 30 * 86_400
    public var batchSize = 200
    /// How many past rows one transaction forgets at most.
    public var pruneBatch = 5_000
    /// Told of each stored entity that cannot be read back (its href and why): it is indexed
    /// with no instances, as a query on the fly leaves it out.
    public var onUnreadable: @Sendable (_ href: String, _ reason: String) -> Void

    public init(
        store: TargetStore, horizon: IndexHorizon = .standard,
        onUnreadable: @escaping @Sendable (_ href: String, _ reason: String) -> Void = { _, _ in }
    ) {
        self.store = store
        self.horizon = horizon
        self.onUnreadable = onUnreadable
    }

    /// What one round did.
    public struct Report: Sendable, Hashable {
        /// Entities indexed for the first time (stored before the index existed).
        public var indexed = 0
        /// Entities whose window was extended.
        public var extended = 0
        /// Index rows written.
        public var rows = 0
        /// Collections looked at.
        public var collections = 0
        /// Index rows forgotten: their instances ended before the horizon.
        public var pruned = 0
    }

    /// One round at `now`.
    public func run(now: Date) async throws -> Report {
        let t = Int64(now.timeIntervalSince1970.rounded(.down))
        let wanted = horizon.window(at: t)
        let extended = IndexWindow(from: wanted.from, to: wanted.to + step)
        let collections = try await store.db.read { db in
            try String.fetchAll(db, sql: "SELECT path FROM collection ORDER BY path")
        }
        var report = Report()
        for collection in collections {
            report.collections += 1
            var after = ""
            while true {
                let (last, batch) = try await store.db.write { [batchSize, onUnreadable, after] db in
                    let due = try StoredEntity.fetchAll(
                        db,
                        sql: """
                            SELECT e.*, v.indexed_from, v.indexed_to FROM entity e
                            LEFT JOIN coverage v ON v.collection = e.collection AND v.name = e.name
                            WHERE e.collection = ? AND e.name > ? AND (v.indexed_to IS NULL OR v.indexed_to < ?)
                            ORDER BY e.name LIMIT ?
                            """, arguments: [collection, after, wanted.to, batchSize])
                    var batch = Report()
                    let zones = SharedZones()
                    for e in due {
                        if let covered = e.indexed {
                            let instances =
                                InstanceIndex.derive(
                                    e, over: IndexWindow(from: covered.to, to: extended.to), zones: zones,
                                    onUnreadable: onUnreadable) ?? []
                            try InstanceIndex.extend(
                                db, collection: collection, name: e.name, from: covered, instances: instances,
                                to: extended.to)
                            batch.extended += 1
                            batch.rows += instances.count { $0.start >= covered.to }
                        } else {
                            let instances =
                                InstanceIndex.derive(e, over: extended, zones: zones, onUnreadable: onUnreadable) ?? []
                            try InstanceIndex.write(
                                db, collection: collection, name: e.name, instances: instances, window: extended)
                            batch.indexed += 1
                            batch.rows += instances.count
                        }
                    }
                    return (due.count < batchSize ? nil : due.last?.name, batch)
                }
                report.indexed += batch.indexed
                report.extended += batch.extended
                report.rows += batch.rows
                guard let last else { break }
                after = last
            }
            while true {
                let forgotten = try await store.db.write { [pruneBatch] db in
                    try InstanceIndex.prune(db, collection, before: wanted.from, limit: pruneBatch)
                }
                report.pruned += forgotten
                if forgotten < pruneBatch { break }
            }
            try await store.db.write { db in try InstanceIndex.coverCollection(db, collection) }
        }
        return report
    }
}

extension InstanceIndex {
    /// A stored entity's busy and tentative instances over `window`, as a write indexes them; nil
    /// (reported) when the entity cannot be read back.
    static func derive(
        _ e: StoredEntity, over window: IndexWindow, zones: SharedZones, onUnreadable: (String, String) -> Void
    ) -> [BusyInstance]? {
        guard let calendar = Entities.readable(e, zones: zones, onUnreadable) else { return nil }
        return BusyRules.instances(of: calendar, from: window.from, to: window.to)
    }
}

extension InstanceIndex {
    /// Forgets up to `limit` rows of the collection's instances that ended at or before `cutoff`,
    /// and starts its entities' windows there (rows of instances that reach past it stay); returns
    /// how many rows it forgot.
    static func prune(_ db: Database, _ collection: String, before cutoff: Int64, limit: Int) throws -> Int {
        try db.execute(
            sql: """
                DELETE FROM instance WHERE rowid IN (
                    SELECT rowid FROM instance WHERE collection = ? AND end_at <= ? LIMIT ?)
                """, arguments: [collection, cutoff, limit])
        let forgotten = db.changesCount
        try db.execute(
            sql: "UPDATE coverage SET indexed_from = ? WHERE collection = ? AND indexed_from < ?",
            arguments: [cutoff, collection, cutoff])
        return forgotten
    }
}
