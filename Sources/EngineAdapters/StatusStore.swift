import CalendarModel
import Engine
import Foundation
import GRDB
import ServerSupport
import SyncCore

/// The status store: one SQLite file in the state directory (mode 0600, versioned migrations), and
/// one lock file per subscription in its `locks` folder.
public final class StatusStore: ItemStateStore {
    let db: any DatabaseWriter
    /// Where the per-subscription lock files live (`locks/ID.lock`).
    let directory: String
    public let writer: String

    /// The store of a state directory: `status.sqlite` (WAL, created with mode 0600) and its locks.
    public convenience init(directory: String) throws {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = (directory as NSString).appendingPathComponent("status.sqlite")
        var configuration = Configuration()
        // Another process (a cron `outboard sync` beside the daemon) may hold the write lock for
        // a moment: wait for it instead of failing with SQLITE_BUSY.
        configuration.busyMode = .timeout(15)
        // Switching a new file to WAL and migrating it take locks that SQLite's busy handler does
        // not wait for: two processes opening a new state directory at once are serialized here.
        let opening = try OpeningLock(directory: directory)
        defer { opening.release() }
        try PrivateFile.create(atPath: path)
        try self.init(DatabasePool(path: path, configuration: configuration), lockDirectory: directory)
    }

    /// The store on any GRDB writer (a pool on a file, or a queue in memory for tests), migrated
    /// to the current schema; pass locks are files in `lockDirectory`.
    public init(_ writer: any DatabaseWriter, lockDirectory: String) throws {
        db = writer
        directory = lockDirectory
        try Self.migrator.migrate(writer)
        self.writer = try writer.read { db in try String.fetchOne(db, sql: "SELECT id FROM writer") } ?? ""
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: feeds and items") { db in
            try db.execute(
                sql: """
                    CREATE TABLE feed (
                        subscription TEXT PRIMARY KEY NOT NULL,
                        etag TEXT, last_modified TEXT, body_hash TEXT,
                        last_attempt DATETIME, last_success DATETIME, last_error TEXT,
                        failures INTEGER NOT NULL DEFAULT 0, next_due DATETIME
                    );
                    CREATE TABLE item (
                        subscription TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL, href TEXT NOT NULL,
                        change_token TEXT NOT NULL, last_modified TEXT,
                        PRIMARY KEY (subscription, key)
                    );
                    """)
        }
        m.registerMigration("v2: last reconcile") { db in
            try db.execute(sql: "ALTER TABLE feed ADD COLUMN last_reconcile DATETIME")
        }
        m.registerMigration("v3: applied content") { db in
            try db.execute(sql: "ALTER TABLE item ADD COLUMN content TEXT")
        }
        m.registerMigration("v4: item source digest") { db in
            try db.execute(sql: "ALTER TABLE item ADD COLUMN source TEXT")
        }
        m.registerMigration("v5: open passes and write intents") { db in
            try db.execute(
                sql: """
                    ALTER TABLE feed ADD COLUMN pass_open DATETIME;
                    CREATE TABLE intent (
                        subscription TEXT NOT NULL, key TEXT NOT NULL, operation TEXT NOT NULL, href TEXT,
                        PRIMARY KEY (subscription, key)
                    );
                    """)
        }
        m.registerMigration("v6: the feed's refresh interval") { db in
            try db.execute(sql: "ALTER TABLE feed ADD COLUMN feed_refresh INTEGER")
        }
        // What the last pass did with each item it dropped, compared or wrote (`outboard explain`);
        // a pass that reads its feed replaces its subscription's rows. Without a rowid, a row is
        // one B-tree insert, not two (an initial load writes one per item).
        m.registerMigration("v7: last pass trace") { db in
            try db.execute(
                sql: """
                    CREATE TABLE trace_pass (subscription TEXT PRIMARY KEY NOT NULL, pass DATETIME NOT NULL);
                    CREATE TABLE trace (
                        subscription TEXT NOT NULL, key TEXT NOT NULL, outcome TEXT NOT NULL,
                        rules TEXT, edits TEXT, answer TEXT,
                        PRIMARY KEY (subscription, key)
                    ) WITHOUT ROWID;
                    """)
        }
        // Keys whose unanswered writes may still land, and until when passes look them up again.
        m.registerMigration("v8: writes in doubt") { db in
            try db.execute(
                sql: """
                    CREATE TABLE doubt (
                        subscription TEXT NOT NULL, key TEXT NOT NULL, until DATETIME NOT NULL,
                        PRIMARY KEY (subscription, key)
                    );
                    """)
        }
        m.registerMigration("v9: the feed's zone") { db in
            try db.execute(sql: "ALTER TABLE feed ADD COLUMN feed_zone TEXT")
        }
        m.registerMigration("v10: pass numbers") { db in
            try db.execute(sql: "ALTER TABLE feed ADD COLUMN pass_number INTEGER NOT NULL DEFAULT 0")
            // The name this store's passes carry with their numbers (`ItemStateStore.writer`).
            try db.execute(sql: "CREATE TABLE writer (id TEXT NOT NULL)")
            try db.execute(sql: "INSERT INTO writer (id) VALUES (?)", arguments: [RandomToken.hex(bytes: 16)])
        }
        // A source that reads changes keeps its token; each item the resource it came from.
        m.registerMigration("v11: sync tokens and item origins") { db in
            try db.execute(sql: "ALTER TABLE feed ADD COLUMN sync_token TEXT")
            try db.execute(sql: "ALTER TABLE item ADD COLUMN origin TEXT")
        }
        return m
    }

    public func feed(_ id: String) throws -> FeedState {
        try db.read { db in try FeedRecord.fetchOne(db, key: id)?.state ?? FeedState() }
    }

    public func feeds() throws -> [String: FeedState] {
        try db.read { db in
            Dictionary(try FeedRecord.fetchAll(db).map { ($0.subscription, $0.state) }, uniquingKeysWith: { $1 })
        }
    }

    public func itemCounts() throws -> [String: Int] {
        try db.read { db in
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT subscription, COUNT(*) AS n FROM item GROUP BY subscription") {
                out[r["subscription"]] = r["n"]
            }
            return out
        }
    }

    public func save(_ id: String, _ s: FeedState) throws {
        try db.write { db in try FeedRecord(subscription: id, state: s).upsert(db) }
    }

    public func schedule(_ id: String, nextDue: Date) throws {
        try db.write { db in try FeedSchedule(subscription: id, nextDue: nextDue).upsert(db) }
    }

    public func items(_ id: String) throws -> [String: ItemState] {
        try db.read { db in
            var out: [String: ItemState] = [:]
            let rows = try ItemRecord.of(id).fetchCursor(db)
            while let r = try rows.next() { out[r.state.key] = r.state }
            return out
        }
    }

    public func commit(_ id: String, put: [ItemState], remove: [String], trace: [ItemTrace]) throws {
        guard !put.isEmpty || !remove.isEmpty || !trace.isEmpty else { return }
        try db.write { db in
            for t in trace { try TraceRecord(subscription: id, trace: t).write(db, TraceRecord.insertOrReplace) }
            let forget = try db.cachedStatement(sql: IntentRecord.delete)
            for s in put {
                try ItemRecord(subscription: id, state: s).write(db, ItemRecord.upsert)
                try forget.execute(arguments: [id, s.key])
            }
            let delete = try db.cachedStatement(sql: ItemRecord.delete)
            for key in remove {
                try delete.execute(arguments: [id, key])
                try forget.execute(arguments: [id, key])
            }
        }
    }

    public func startTrace(_ id: String, pass: Date, items: [ItemTrace]) throws {
        try db.write { db in
            try TraceRecord.filter(Column("subscription") == id).deleteAll(db)
            try TracePassRecord(subscription: id, pass: pass).upsert(db)
            for t in items { try TraceRecord(subscription: id, trace: t).write(db, TraceRecord.insertOrReplace) }
        }
    }

    public func trace(_ id: String, key: String) throws -> PassTrace? {
        try db.read { db in
            guard let pass = try TracePassRecord.fetchOne(db, key: id)?.pass else { return nil }
            let item = try TraceRecord.fetchOne(db, key: ["subscription": id, "key": key])?.trace
            return PassTrace(pass: pass, item: item)
        }
    }

    public func intents(_ id: String) throws -> [WriteIntent] {
        try db.read { db in
            try IntentRecord.filter(Column("subscription") == id).order(Column("key")).fetchAll(db).map(\.intent)
        }
    }

    public func begin(_ id: String, _ state: FeedState, intents: [WriteIntent]) throws {
        try db.write { db in
            try FeedRecord(subscription: id, state: state).upsert(db)
            for i in intents { try IntentRecord(subscription: id, intent: i).write(db, IntentRecord.upsert) }
        }
    }

    public func doubts(_ id: String) throws -> [String: Date] {
        try db.read { db in
            let rows = try DoubtRecord.filter(Column("subscription") == id).fetchAll(db)
            return Dictionary(rows.map { ($0.key, $0.until) }, uniquingKeysWith: max)
        }
    }

    public func recordDoubts(_ id: String, keys: [String], until: Date) throws {
        guard !keys.isEmpty else { return }
        try db.write { db in
            for key in keys {
                let earlier = try DoubtRecord.fetchOne(db, key: ["subscription": id, "key": key])?.until
                try DoubtRecord(subscription: id, key: key, until: max(earlier ?? until, until)).upsert(db)
            }
        }
    }

    public func forgetDoubts(_ id: String, keys: [String]) throws {
        guard !keys.isEmpty else { return }
        try db.write { db in
            for key in keys { try DoubtRecord.deleteOne(db, key: ["subscription": id, "key": key]) }
        }
    }

    public func lockPass(_ id: String, wait: Double) async throws(StateStoreError) -> any PassLease {
        let folder = (directory as NSString).appendingPathComponent("locks")
        try? FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = (folder as NSString).appendingPathComponent(id + ".lock")
        let deadline = Date().addingTimeInterval(wait)
        while true {
            switch PassLockFile.take(path) {
            case .success(let lease): return lease
            case .failure(.passRunning(_, let holder)) where Date() >= deadline:
                throw .passRunning(subscription: id, holder: holder)
            case .failure(.passRunning):
                try? await Task.sleep(nanoseconds: 50_000_000)
            case .failure(let e):
                throw e
            }
        }
    }
}
