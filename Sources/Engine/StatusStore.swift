import Foundation
import GRDB

/// What the engine remembers about a subscription between passes.
public struct FeedState: Sendable, Hashable {
    public var etag: String?
    public var lastModified: String?
    /// SHA-256 of the last body applied, for feeds without validators.
    public var bodyHash: String?
    public var lastAttempt: Date?
    public var lastSuccess: Date?
    public var lastError: String?
    public var failures: Int
    public var nextDue: Date?
    /// When every target item was last compared with the feed.
    public var lastReconcile: Date?

    public init(etag: String? = nil, lastModified: String? = nil, bodyHash: String? = nil, lastAttempt: Date? = nil,
                lastSuccess: Date? = nil, lastError: String? = nil, failures: Int = 0, nextDue: Date? = nil, lastReconcile: Date? = nil) {
        self.etag = etag
        self.lastModified = lastModified
        self.bodyHash = bodyHash
        self.lastAttempt = lastAttempt
        self.lastSuccess = lastSuccess
        self.lastError = lastError
        self.failures = failures
        self.nextDue = nextDue
        self.lastReconcile = lastReconcile
    }
}

/// What the engine remembers about one item it mirrored.
public struct ItemState: Sendable, Hashable {
    public var key: String
    /// The canonical hash of the item after filters.
    public var hash: String
    public var href: String
    public var changeToken: String
    public var lastModified: String?
    /// The iCalendar text of what was last applied (after filters): with trust-lastmod, changes
    /// are diffed against it instead of a fetched copy.
    public var content: String?
    /// The hex SHA-256 of the feed's bytes that `hash` was computed from, with the filters and
    /// the rest of the calendar (see `FeedScan`): while they are the same, the item is the same.
    public var source: String?

    public init(key: String, hash: String, href: String, changeToken: String, lastModified: String? = nil, content: String? = nil, source: String? = nil) {
        self.key = key
        self.hash = hash
        self.href = href
        self.changeToken = changeToken
        self.lastModified = lastModified
        self.content = content
        self.source = source
    }
}

/// The status store: one SQLite file in the state directory (mode 0600, versioned migrations).
public final class StatusStore: Sendable {
    let db: DatabasePool

    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = (directory as NSString).appendingPathComponent("status.sqlite")
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        db = try DatabasePool(path: path)
        var m = DatabaseMigrator()
        m.registerMigration("v1: feeds and items") { db in
            try db.execute(sql: """
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
        try m.migrate(db)
    }

    public func feed(_ id: String) throws -> FeedState {
        try db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM feed WHERE subscription = ?", arguments: [id]).map(Self.feedState) ?? FeedState()
        }
    }

    /// Every stored feed state, by subscription id.
    public func feeds() throws -> [String: FeedState] {
        try db.read { db in
            var out: [String: FeedState] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT * FROM feed") { out[r["subscription"]] = Self.feedState(r) }
            return out
        }
    }

    /// How many items each subscription has mirrored.
    public func itemCounts() throws -> [String: Int] {
        try db.read { db in
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT subscription, COUNT(*) AS n FROM item GROUP BY subscription") { out[r["subscription"]] = r["n"] }
            return out
        }
    }

    static func feedState(_ r: Row) -> FeedState {
        FeedState(etag: r["etag"], lastModified: r["last_modified"], bodyHash: r["body_hash"], lastAttempt: r["last_attempt"],
                  lastSuccess: r["last_success"], lastError: r["last_error"], failures: r["failures"], nextDue: r["next_due"],
                  lastReconcile: r["last_reconcile"])
    }

    public func save(_ id: String, _ s: FeedState) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO feed (subscription, etag, last_modified, body_hash, last_attempt, last_success, last_error, failures, next_due, last_reconcile)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (subscription) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                    body_hash = excluded.body_hash, last_attempt = excluded.last_attempt, last_success = excluded.last_success,
                    last_error = excluded.last_error, failures = excluded.failures, next_due = excluded.next_due,
                    last_reconcile = excluded.last_reconcile
                """, arguments: [id, s.etag, s.lastModified, s.bodyHash, s.lastAttempt, s.lastSuccess, s.lastError, s.failures, s.nextDue, s.lastReconcile])
        }
    }

    public func items(_ id: String) throws -> [String: ItemState] {
        try db.read { db in
            // Read by column position through a cursor: a pass reads every item of its feed.
            var out: [String: ItemState] = [:]
            let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT key, hash, href, change_token, last_modified, content, source FROM item WHERE subscription = ?"),
                                           arguments: [id])
            while let r = try rows.next() {
                let s = ItemState(key: r[0], hash: r[1], href: r[2], changeToken: r[3], lastModified: r[4], content: r[5], source: r[6])
                out[s.key] = s
            }
            return out
        }
    }

    /// Records items and forgets others in one transaction (a batch's outcome).
    public func commit(_ id: String, put: [ItemState], remove: [String] = []) throws {
        guard !put.isEmpty || !remove.isEmpty else { return }
        try db.write { db in
            // One compiled statement for the whole batch.
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO item (subscription, key, hash, href, change_token, last_modified, content, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (subscription, key) DO UPDATE SET hash = excluded.hash, href = excluded.href,
                    change_token = excluded.change_token, last_modified = excluded.last_modified, content = excluded.content,
                    source = excluded.source
                """)
            for s in put {
                try upsert.execute(arguments: [id, s.key, s.hash, s.href, s.changeToken, s.lastModified, s.content, s.source])
            }
            let delete = try db.cachedStatement(sql: "DELETE FROM item WHERE subscription = ? AND key = ?")
            for key in remove {
                try delete.execute(arguments: [id, key])
            }
        }
    }
}
