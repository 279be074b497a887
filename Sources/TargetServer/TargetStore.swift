import CalendarModel
import Foundation
import GRDB
import ServerSupport

/// The reference target's storage: collections and their entities in one SQLite file (WAL mode,
/// so a write that was acknowledged survives the process being killed), with versioned migrations.
public final class TargetStore: Sendable {
    let db: DatabasePool
    /// The secret that busy-only feeds hash into each event's UID (see `BusyFeed.uid`), made with
    /// the store and kept in it, so a UID stays the same across restarts and tells nothing even
    /// to someone who guesses the original UID.
    let busyKey: String

    /// Opens (or creates) `directory/target.sqlite`, created with mode 0600.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("target.sqlite")
        try PrivateFile.create(atPath: path)
        var config = Configuration()
        config.foreignKeysEnabled = true
        // Another process may write the same file (`outboard-target reindex` beside a running
        // server): a writer waits for the other's transaction instead of failing at once.
        config.busyMode = .timeout(15)
        // Reads through a memory map: an availability query touches index pages of many
        // collections, which would otherwise each be copied in by a read(2) call.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = 1073741824") }
        db = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(db)
        busyKey = try db.read { db in try ServerKey.fetchOne(db, key: ServerKey.busyUID)?.value } ?? ""
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: collections and entities") { db in
            try db.execute(
                sql: """
                    CREATE TABLE collection (
                        path TEXT PRIMARY KEY NOT NULL,
                        revision INTEGER NOT NULL DEFAULT 0,
                        secret TEXT,
                        created TEXT NOT NULL
                    );
                    CREATE TABLE entity (
                        collection TEXT NOT NULL REFERENCES collection(path) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        uid TEXT NOT NULL,
                        data TEXT NOT NULL,
                        change_token TEXT NOT NULL,
                        last_modified TEXT NOT NULL,
                        PRIMARY KEY (collection, name),
                        UNIQUE (collection, uid)
                    );
                    """)
        }
        m.registerMigration("v2: the instance index") { db in
            // Entities stored before the index existed are not in it: their collections get an
            // empty indexed window, so every query expands them on the fly.
            try db.execute(
                sql: """
                    CREATE TABLE instance (
                        collection TEXT NOT NULL,
                        name TEXT NOT NULL,
                        start_at INTEGER NOT NULL,
                        end_at INTEGER NOT NULL,
                        floating INTEGER NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('busy', 'tentative')),
                        FOREIGN KEY (collection, name) REFERENCES entity (collection, name) ON DELETE CASCADE
                    );
                    CREATE INDEX instance_by_start ON instance (collection, start_at);
                    CREATE INDEX instance_by_entity ON instance (collection, name);
                    ALTER TABLE collection ADD COLUMN indexed_from INTEGER;
                    ALTER TABLE collection ADD COLUMN indexed_to INTEGER;
                    ALTER TABLE collection ADD COLUMN longest_instance INTEGER NOT NULL DEFAULT 0;
                    UPDATE collection SET indexed_from = 9223372036854775807, indexed_to = -9223372036854775808;
                    """)
        }
        m.registerMigration("v3: freshness of collections") { db in
            // What the subscription writing a collection last reported (Outboard's reportFreshness);
            // kept apart from `collection`, which a failing first pass may not have created yet.
            try db.execute(
                sql: """
                    CREATE TABLE freshness (
                        collection TEXT PRIMARY KEY NOT NULL,
                        subscription TEXT NOT NULL,
                        refresh_interval INTEGER NOT NULL,
                        last_success INTEGER,
                        last_attempt INTEGER,
                        last_error TEXT,
                        reported_at INTEGER NOT NULL
                    );
                    """)
        }
        m.registerMigration("v4: index coverage") { db in
            // The window each entity is indexed over, so the daily upkeep extends only what falls
            // short (a table of its own: it is scanned daily, and the entity rows are large). An
            // entity indexed before this migration covers at least its collection's window (the
            // intersection of its writes' windows); one stored before the index existed has no
            // row, and is indexed by the upkeep.
            try db.execute(
                sql: """
                    CREATE TABLE coverage (
                        collection TEXT NOT NULL,
                        name TEXT NOT NULL,
                        indexed_from INTEGER NOT NULL,
                        indexed_to INTEGER NOT NULL,
                        PRIMARY KEY (collection, name),
                        FOREIGN KEY (collection, name) REFERENCES entity (collection, name) ON DELETE CASCADE
                    ) WITHOUT ROWID;
                    INSERT INTO coverage (collection, name, indexed_from, indexed_to)
                        SELECT e.collection, e.name, c.indexed_from, c.indexed_to FROM entity e
                        JOIN collection c ON c.path = e.collection WHERE c.indexed_from < c.indexed_to;
                    """)
        }
        m.registerMigration("v5: view secret links") { db in
            // Views live in the views file, not in the store; only their secret links are kept here.
            try db.execute(sql: "CREATE TABLE view_secret (name TEXT PRIMARY KEY NOT NULL, secret TEXT NOT NULL)")
        }
        m.registerMigration("v6: a covering instance index") { db in
            // An availability query reads every column it needs from the index alone, with no
            // look-up of each row in the table.
            try db.execute(
                sql: """
                    DROP INDEX instance_by_start;
                    CREATE INDEX instance_by_start ON instance (collection, start_at, end_at, floating, status);
                    """)
        }
        m.registerMigration("v7: the key of busy-only UIDs") { db in
            try db.execute(sql: "CREATE TABLE server_key (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
            try ServerKey(name: ServerKey.busyUID, value: RandomToken.hex(bytes: 32)).insert(db)
        }
        m.registerMigration("v8: the zone of a collection") { db in
            // Reported with the freshness (the subscription's zone, or its feed's X-WR-TIMEZONE).
            // The index keeps floating and DATE instances as wall-clock times and places them when
            // asked, so a change of zone re-indexes nothing.
            try db.execute(sql: "ALTER TABLE freshness ADD COLUMN zone TEXT")
        }
        m.registerMigration("v9: fences against late writes") { db in
            // The highest pass number (`O:pass`) each writer has sent for each collection (`Fence`).
            try db.execute(
                sql: """
                    CREATE TABLE fence (
                        collection TEXT NOT NULL, writer TEXT NOT NULL, pass INTEGER NOT NULL,
                        PRIMARY KEY (collection, writer)
                    ) WITHOUT ROWID
                    """)
        }
        m.registerMigration("v10: deleted entities, for sync-collection") { db in
            // The revision each entity was deleted at, so that WebDAV sync can report deletions
            // since a token (entities deleted before this migration are not known).
            try db.execute(
                sql: """
                    CREATE TABLE tombstone (
                        collection TEXT NOT NULL REFERENCES collection(path) ON DELETE CASCADE,
                        name TEXT NOT NULL, revision INTEGER NOT NULL,
                        PRIMARY KEY (collection, name)
                    ) WITHOUT ROWID
                    """)
        }
        return m
    }
}

// The store's rows are GRDB records (`StoredEntity`, `NewCollection`, `ViewSecret`, and the
// index's `InstanceRow` and `Coverage`); what changes a set of rows at once (a collection's
// revision, its index window, an entity's instance rows) stays a query in `StoreSQL` and
// `InstanceIndex`.

/// One stored entity: a row of the `entity` table (its index window is read from `coverage`
/// when a query joins it, and is not written with it).
struct StoredEntity: FetchableRecord, BulkRecord {
    static let databaseTableName = "entity"
    static let columns = ["collection", "name", "uid", "data", "change_token", "last_modified"]
    static let upsert = upsertSQL(key: ["collection", "name"])
    static let delete = deleteSQL(key: ["collection", "name"])

    var collection: String
    var name: String
    var uid: String
    var data: String
    var changeToken: String
    var lastModified: String
    /// The window the instance index holds the entity's instances over (from the `coverage`
    /// table, when a query joins it); nil when not read or not indexed.
    var indexed: IndexWindow?

    var href: String { collection + "/" + name }

    init(row: Row) {
        collection = row["collection"]
        name = row["name"]
        uid = row["uid"]
        data = row["data"]
        changeToken = row["change_token"]
        lastModified = row["last_modified"]
        if let from: Int64 = row["indexed_from"], let to: Int64 = row["indexed_to"], from < to {
            indexed = IndexWindow(from: from, to: to)
        }
    }

    var values: [(any DatabaseValueConvertible)?] { [collection, name, uid, data, changeToken, lastModified] }
}

/// A `collection` row as its first entity creates it (its revision, secret and index window
/// start at their defaults).
struct NewCollection: BulkRecord {
    static let databaseTableName = "collection"
    static let columns = ["path", "created"]
    static let insertIfNew = insertSQL("INSERT OR IGNORE")
    var path: String
    var created: String
    var values: [(any DatabaseValueConvertible)?] { [path, created] }
}

/// A `server_key` row: a secret the server made for itself.
struct ServerKey: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "server_key"
    /// The key of busy-only UIDs (`TargetStore.busyKey`).
    static let busyUID = "busy-uid"
    var name: String
    var value: String
}

/// A `view_secret` row: a view's secret link key.
struct ViewSecret: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "view_secret"
    var name: String
    var secret: String
}

/// Store queries, run inside a transaction the caller holds.
enum StoreSQL {
    static func collectionExists(_ db: Database, _ path: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM collection WHERE path = ?)"), arguments: [path])
            ?? false
    }

    static func createCollection(_ db: Database, _ path: String, now: String) throws {
        try NewCollection(path: path, created: now).write(db, NewCollection.insertIfNew)
    }

    /// Bumps the collection's revision and returns it: every write gets a new change token and a
    /// new ETag for the published feed.
    static func bump(_ db: Database, _ path: String) throws -> Int64 {
        try db.cachedStatement(sql: "UPDATE collection SET revision = revision + 1 WHERE path = ?").execute(arguments: [
            path
        ])
        return try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT revision FROM collection WHERE path = ?"), arguments: [path]) ?? 0
    }

    /// Records that the entity `name` was deleted at `revision` (for WebDAV sync).
    static func bury(_ db: Database, collection: String, name: String, revision: Int64) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO tombstone (collection, name, revision) VALUES (?, ?, ?)")
            .execute(arguments: [collection, name, revision])
    }

    /// Forgets a deletion: an entity of that name exists again.
    static func unbury(_ db: Database, collection: String, name: String) throws {
        try db.cachedStatement(sql: "DELETE FROM tombstone WHERE collection = ? AND name = ?").execute(arguments: [
            collection, name,
        ])
    }

    /// The names of the entities deleted after `revision`.
    static func deleted(_ db: Database, collection: String, after revision: Int64) throws -> [String] {
        try String.fetchAll(
            db, sql: "SELECT name FROM tombstone WHERE collection = ? AND revision > ? ORDER BY name",
            arguments: [collection, revision])
    }

    /// Every collection's path, in order.
    static func collections(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT path FROM collection ORDER BY path")
    }

    static func revision(_ db: Database, _ path: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT revision FROM collection WHERE path = ?", arguments: [path])
    }

    /// The collection's secret link key, if it has one.
    static func secret(_ db: Database, _ path: String) throws -> String? {
        try String?.fetchOne(db, sql: "SELECT secret FROM collection WHERE path = ?", arguments: [path]) ?? nil
    }

    /// A view's secret link key, if it has one.
    static func viewSecret(_ db: Database, _ name: String) throws -> String? {
        try ViewSecret.fetchOne(db, key: name)?.secret
    }

    static func entity(_ db: Database, collection: String, name: String) throws -> StoredEntity? {
        try StoredEntity.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM entity WHERE collection = ? AND name = ?"),
            arguments: [collection, name])
    }

    static func entity(_ db: Database, collection: String, uid: String) throws -> StoredEntity? {
        try StoredEntity.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM entity WHERE collection = ? AND uid = ?"),
            arguments: [collection, uid])
    }

    static func entities(_ db: Database, collection: String) throws -> [StoredEntity] {
        try StoredEntity.fetchAll(
            db, sql: "SELECT * FROM entity WHERE collection = ? ORDER BY name", arguments: [collection])
    }
}

extension StoredEntity {
    init(collection: String, name: String, uid: String, data: String, changeToken: String, lastModified: String) {
        self.collection = collection
        self.name = name
        self.uid = uid
        self.data = data
        self.changeToken = changeToken
        self.lastModified = lastModified
    }
}

extension TargetStore {
    /// The collection's secret link key, made (or replaced, with `rotate`) when needed.
    public func secret(for collection: String, rotate: Bool = false) throws -> String {
        guard Paths.isCollection(collection) else {
            throw TargetError.config("\(collection) is not a collection path such as /public/holidays")
        }
        return try db.write { db in
            guard try StoreSQL.collectionExists(db, collection) else {
                throw TargetError.config("no collection \(collection) (it is created by its first addItem)")
            }
            if !rotate, let s = try StoreSQL.secret(db, collection) {
                return s
            }
            let s = RandomToken.hex(bytes: 24)
            try db.execute(sql: "UPDATE collection SET secret = ? WHERE path = ?", arguments: [s, collection])
            return s
        }
    }

    /// Sets or (with nil) revokes the secret link key.
    public func setSecret(_ secret: String?, for collection: String) throws {
        try db.write { db in
            try db.execute(sql: "UPDATE collection SET secret = ? WHERE path = ?", arguments: [secret, collection])
        }
    }

    /// A view's secret link key, made (or replaced, with `rotate`) when needed. Views are not in
    /// the store, so any view name is accepted: the key serves only a view the views file has.
    public func viewSecret(for name: String, rotate: Bool = false) throws -> String {
        guard View.isName(name) else {
            throw TargetError.config("\(name) is not a view name (letters, digits, -, _, . or ~)")
        }
        return try db.write { db in
            if !rotate, let s = try StoreSQL.viewSecret(db, name) { return s }
            let s = RandomToken.hex(bytes: 24)
            try ViewSecret(name: name, secret: s).upsert(db)
            return s
        }
    }

    /// Revokes a view's secret link key.
    public func revokeViewSecret(for name: String) throws {
        _ = try db.write { db in try ViewSecret.deleteOne(db, key: name) }
    }
}
