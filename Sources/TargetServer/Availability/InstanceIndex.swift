import CalendarModel
import GRDB
import Recurrence
import ServerSupport

/// The instance index: every busy or tentative instance of every entity, expanded over the
/// horizon of its write and stored in the same transaction as the entity.
///
/// Each entity records the window it is indexed over (the `coverage` table), and each collection
/// the window all its entities are indexed over (`indexed_from`, `indexed_to`: a write narrows it
/// to the latest start and the earliest end of the windows; the upkeep, `IndexUpkeep`, extends the
/// entities that fall short of the horizon and widens it again with `coverCollection`) and its
/// longest instance (so a query reads the rows by start alone). A query inside that window reads
/// the index; one outside it expands the collection's entities on the fly with the same rules.
/// Collections stored before the index existed record an empty window, so they are expanded on
/// the fly until the upkeep has indexed them.
enum InstanceIndex {
    /// Replaces an entity's rows with `instances`, indexed over `window`.
    static func write(_ db: Database, collection: String, name: String, instances: [BusyInstance], window: IndexWindow)
        throws
    {
        let longest = try rows(db, collection: collection, name: name, instances: instances, window: window, new: false)
        try narrow(db, collection: collection, to: window, longest: longest)
    }

    /// Writes an entity's rows and its coverage, without the collection's window: the rows it
    /// had are removed first unless it is `new`. Returns its longest instance's length, for
    /// `narrow` (called once per collection and transaction by a batch of writes).
    static func rows(
        _ db: Database, collection: String, name: String, instances: [BusyInstance], window: IndexWindow, new: Bool
    ) throws -> Int64 {
        if !new { try remove(db, collection: collection, name: name) }
        let longest = try insert(db, collection: collection, name: name, instances)
        try setCoverage(db, collection: collection, name: name, window)
        return longest
    }

    /// Narrows the collection's window to `window` (the latest start, the earliest end) and
    /// raises its longest instance to `longest`.
    static func narrow(_ db: Database, collection: String, to window: IndexWindow, longest: Int64) throws {
        try db.cachedStatement(
            sql: """
                UPDATE collection SET indexed_from = MAX(COALESCE(indexed_from, ?1), ?1), indexed_to = MIN(COALESCE(indexed_to, ?2), ?2),
                    longest_instance = MAX(longest_instance, ?3) WHERE path = ?4
                """
        ).execute(arguments: [window.from, window.to, longest, collection])
    }

    /// Extends an entity indexed up to `window.from` to `window.to`: its rows that start at or
    /// after `window.from` are replaced by `instances` (those of `window`), which start there
    /// too. An instance starting before `window.from` that reaches into it is already a row,
    /// since it overlaps the window the entity was indexed over. The collection's window is left
    /// as it is (`coverCollection` widens it once every entity is extended).
    static func extend(
        _ db: Database, collection: String, name: String, from coverage: IndexWindow, instances: [BusyInstance],
        to end: Int64
    ) throws {
        try db.cachedStatement(sql: "DELETE FROM instance WHERE collection = ? AND name = ? AND start_at >= ?")
            .execute(arguments: [collection, name, coverage.to])
        let longest = try insert(db, collection: collection, name: name, instances.filter { $0.start >= coverage.to })
        try setCoverage(db, collection: collection, name: name, IndexWindow(from: coverage.from, to: end))
        try db.cachedStatement(sql: "UPDATE collection SET longest_instance = MAX(longest_instance, ?) WHERE path = ?")
            .execute(arguments: [longest, collection])
    }

    /// Sets the collection's window to what every one of its entities covers (empty while one
    /// is not indexed), and its longest instance to the longest of its rows.
    static func coverCollection(_ db: Database, _ collection: String) throws {
        try db.execute(
            sql: """
                UPDATE collection SET
                    (indexed_from, indexed_to) = (
                        SELECT CASE WHEN COUNT(*) = COUNT(v.name) THEN MAX(v.indexed_from) ELSE 9223372036854775807 END,
                            CASE WHEN COUNT(*) = COUNT(v.name) THEN MIN(v.indexed_to) ELSE -9223372036854775808 END
                        FROM entity e LEFT JOIN coverage v ON v.collection = e.collection AND v.name = e.name
                        WHERE e.collection = ?1),
                    longest_instance = (
                        SELECT COALESCE(MAX(end_at - start_at), 0) FROM instance WHERE instance.collection = ?1)
                WHERE path = ?1
                """, arguments: [collection])
    }

    /// Inserts rows; returns the longest instance's length.
    private static func insert(_ db: Database, collection: String, name: String, _ instances: [BusyInstance]) throws
        -> Int64
    {
        var longest: Int64 = 0
        for i in instances {
            try InstanceRow(collection: collection, name: name, instance: i).write(db, InstanceRow.insert)
            longest = max(longest, i.end - i.start)
        }
        return longest
    }

    private static func setCoverage(_ db: Database, collection: String, name: String, _ window: IndexWindow) throws {
        try Coverage(collection: collection, name: name, indexedFrom: window.from, indexedTo: window.to).write(
            db, Coverage.insertOrReplace)
    }

    /// An entity's rows, in start order.
    static func rows(_ db: Database, collection: String, name: String) throws -> [BusyInstance] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT start_at, end_at, floating, status FROM instance WHERE collection = ? AND name = ?
                    ORDER BY start_at, end_at
                    """), arguments: [collection, name]
        ).map(instance)
    }

    static func instance(_ r: Row) -> BusyInstance {
        BusyInstance(start: r[0], end: r[1], isFloating: r[2], status: BusyStatus(rawValue: r[3]) ?? .busy)
    }

    /// Removes an entity's rows.
    static func remove(_ db: Database, collection: String, name: String) throws {
        try db.cachedStatement(sql: "DELETE FROM instance WHERE collection = ? AND name = ?").execute(arguments: [
            collection, name,
        ])
    }

    /// The busy and tentative instances of a collection, as the index or an expansion on the fly
    /// finds them: every one whose numbers overlap `[from, to)`, floating ones still unplaced.
    /// `onUnreadable` is told of each stored entity that cannot be read back (left out).
    static func instances(
        _ db: Database, collection: String, from: Int64, to: Int64,
        onUnreadable: (String, String) -> Void = { _, _ in }
    ) throws -> [BusyInstance] {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT indexed_from, indexed_to, longest_instance FROM collection WHERE path = ?
                        """), arguments: [collection])
        else { return [] }
        let indexedFrom: Int64? = row["indexed_from"]
        let indexedTo: Int64? = row["indexed_to"]
        guard let indexedFrom, let indexedTo, indexedFrom <= from, to <= indexedTo else {
            return try expanded(db, collection: collection, from: from, to: to, onUnreadable: onUnreadable)
        }
        let longest: Int64 = row["longest_instance"]
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT start_at, end_at, floating, status FROM instance
                    WHERE collection = ? AND start_at >= ? AND start_at < ? AND end_at > ?
                    """), arguments: [collection, from - longest, to, from])
        var out: [BusyInstance] = []
        while let r = try rows.next() { out.append(instance(r)) }
        return out
    }

    /// A collection's busy and tentative periods overlapping `[from, to)`, floating instances
    /// (floating times and DATE values) placed in the collection's own zone, or in `zone` (the
    /// query's) when it has none.
    static func periods(
        _ db: Database, collection: String, in zone: ZoneRules, from: Int64, to: Int64,
        onUnreadable: (String, String) -> Void = { _, _ in }
    ) throws -> [BusyPeriod] {
        let instances = try instances(
            db, collection: collection, from: from - BusyRules.floatingSlack, to: to + BusyRules.floatingSlack,
            onUnreadable: onUnreadable)
        let placing = try Freshness.zone(db, collection: collection) ?? zone
        return BusyRules.periods(instances, in: placing, from: from, to: to)
    }

    /// The same instances, expanded from the stored entities.
    static func expanded(
        _ db: Database, collection: String, from: Int64, to: Int64,
        onUnreadable: (String, String) -> Void
    ) throws -> [BusyInstance] {
        let zones = SharedZones()
        return try StoreSQL.entities(db, collection: collection).flatMap { e -> [BusyInstance] in
            guard let calendar = Entities.readable(e, zones: zones, onUnreadable) else { return [] }
            return BusyRules.instances(of: calendar, from: from, to: to)
        }
    }
}

/// An `instance` row: one busy or tentative instance of an entity.
struct InstanceRow: BulkRecord {
    static let databaseTableName = "instance"
    static let columns = ["collection", "name", "start_at", "end_at", "floating", "status"]
    static let insert = insertSQL()
    var collection: String
    var name: String
    var instance: BusyInstance

    var values: [(any DatabaseValueConvertible)?] {
        [collection, name, instance.start, instance.end, instance.isFloating, instance.status.rawValue]
    }
}

/// A `coverage` row: the window an entity's instances are indexed over.
struct Coverage: BulkRecord {
    static let databaseTableName = "coverage"
    static let columns = ["collection", "name", "indexed_from", "indexed_to"]
    static let insertOrReplace = insertSQL("INSERT OR REPLACE")
    var collection: String
    var name: String
    var indexedFrom: Int64
    var indexedTo: Int64

    var values: [(any DatabaseValueConvertible)?] { [collection, name, indexedFrom, indexedTo] }
}
