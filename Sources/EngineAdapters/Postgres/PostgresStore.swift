import CalendarModel
import Engine
import Foundation
import PostgresNIO
import SyncCore

/// The status store in a PostgreSQL database that several engines share (`--store postgres://…`):
/// the same rows as SQLite's `StatusStore`, versioned migrations, and the cluster's part
/// (`ClusterStore`, in `PostgresStore+Cluster.swift`): one schedule for every engine, leases with
/// fencing numbers, the engines and the digests of their configuration.
///
/// A pass's lock is its subscription's lease: every write a pass makes checks, in its own
/// transaction, that the lease is still this engine's under the same fencing number, and is
/// refused (`StateStoreError.fenced`) when another engine took it over.
public final class PostgresStore: ClusterStore, @unchecked Sendable {
    // Unchecked: the mutable state (`held`, `joined`, `lastDigests`, `observer`, `heartbeatTimer`)
    // is guarded by `lock`.
    let connections: PostgresConnections
    public let url: PostgresStoreURL
    public let writer: String
    public let engine: String
    public var leaseSeconds: Double { url.leaseSeconds }
    let lock = NSLock()
    /// The leases this process holds, by subscription.
    var held: [String: Held] = [:]
    /// Whether this process registered as an engine (`join`), so the heartbeat renews it.
    var joined = false
    /// The digests this engine last joined with (it joins again with them if it was forgotten).
    var lastDigests: [String: String] = [:]
    var observer: (@Sendable (ClusterEvent) -> Void)?
    var heartbeatTimer: (any DispatchSourceTimer)?

    struct Held {
        var fence: Int64
        /// Claimed by the daemon's schedule (given back by `release`), rather than taken by a pass.
        var claimed: Bool
        var inPass: Bool
    }

    /// Connects (waiting up to 30 s for the server) and migrates the schema.
    public init(_ url: PostgresStoreURL, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.url = url
        connections = PostgresConnections(configuration: try url.configuration(environment: environment))
        let host = ProcessInfo.processInfo.hostName
        engine = "\(host):\(ProcessInfo.processInfo.processIdentifier):\(RandomToken.hex(bytes: 3))"
        do {
            try Self.migrate(connections)
            writer = try connections.query("SELECT id FROM store_writer").all.first?.decode(String.self) ?? ""
        } catch {
            throw StateStoreError.unavailable("the store \(url) cannot be opened: \(Self.describe(error))")
        }
        startHeartbeat()
    }

    deinit { close() }

    /// Stops the heartbeat and closes the connections.
    public func close() {
        lock.withLock { heartbeatTimer }?.cancel()
        connections.close()
    }

    /// A PostgreSQL error in words: the server's message and its SQLSTATE, else the error.
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                return "\(message) (SQLSTATE \(e.serverInfo?[.sqlState] ?? "?"))"
            }
            return "\(e.code)" + (e.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }

    /// Runs `body` in a transaction; a database error becomes `StateStoreError.unavailable`.
    func transaction<T>(_ body: (PostgresConnections.Session) throws -> T) throws -> T {
        do { return try connections.transaction(body) } catch let e as StateStoreError { throw e } catch {
            throw StateStoreError.unavailable("the store \(url): \(Self.describe(error))")
        }
    }

    func query(_ q: PostgresQuery) throws -> [PostgresRow] {
        try transaction { try $0.query(q).all }
    }

    // MARK: The migrations

    /// The schema's versions, in order; each runs once, in one transaction with its record.
    static let migrations: [(String, String)] = [
        (
            "v1: feeds, items, intents, doubts, traces; engines, leases and configuration digests",
            """
            CREATE TABLE store_writer (id text NOT NULL);
            INSERT INTO store_writer (id) VALUES (md5(random()::text || clock_timestamp()::text));
            CREATE TABLE feed (
                subscription text PRIMARY KEY,
                etag text, last_modified text, body_hash text, sync_token text,
                last_attempt timestamptz, last_success timestamptz, last_error text,
                failures integer NOT NULL DEFAULT 0, next_due timestamptz, last_reconcile timestamptz,
                pass_open timestamptz, feed_refresh integer, feed_zone text, pass_number bigint NOT NULL DEFAULT 0,
                lease_owner text, lease_expiry timestamptz, fence bigint NOT NULL DEFAULT 0,
                rerun boolean NOT NULL DEFAULT false, retired timestamptz
            );
            CREATE INDEX feed_due ON feed (next_due);
            CREATE TABLE item (
                subscription text NOT NULL, key text NOT NULL, hash text NOT NULL, href text NOT NULL,
                change_token text NOT NULL, last_modified text, content text, source text, origin text,
                PRIMARY KEY (subscription, key)
            );
            CREATE TABLE intent (
                subscription text NOT NULL, key text NOT NULL, operation text NOT NULL, href text,
                PRIMARY KEY (subscription, key)
            );
            CREATE TABLE doubt (
                subscription text NOT NULL, key text NOT NULL, until timestamptz NOT NULL,
                PRIMARY KEY (subscription, key)
            );
            CREATE TABLE trace_pass (subscription text PRIMARY KEY, pass timestamptz NOT NULL);
            CREATE TABLE trace (
                subscription text NOT NULL, key text NOT NULL, outcome text NOT NULL,
                rules text[] NOT NULL, edits text[] NOT NULL, answer text,
                PRIMARY KEY (subscription, key)
            );
            CREATE TABLE engine (
                name text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, started timestamptz NOT NULL,
                seen timestamptz NOT NULL, lease_seconds double precision NOT NULL
            );
            CREATE TABLE engine_config (
                engine text NOT NULL, subscription text NOT NULL, digest text NOT NULL,
                PRIMARY KEY (engine, subscription)
            );
            CREATE INDEX engine_config_subscription ON engine_config (subscription);
            """
        )
    ]

    /// Brings the schema up to date; engines starting together take turns (an advisory lock).
    static func migrate(_ connections: PostgresConnections) throws {
        try connections.transaction { s in
            try s.run("SELECT pg_advisory_xact_lock(7263911)")
            try s.run(
                "CREATE TABLE IF NOT EXISTS outboard_migration (version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())"
            )
            let done = try s.query("SELECT coalesce(max(version), 0) FROM outboard_migration").all.first?.decode(
                Int.self)
            for (index, (name, sql)) in migrations.enumerated() where index + 1 > (done ?? 0) {
                try s.run(sql)
                try s.query("INSERT INTO outboard_migration (version, name) VALUES (\(index + 1), \(name))")
            }
        }
    }

    // MARK: Feed states

    static let feedColumns = """
        etag, last_modified, body_hash, sync_token, last_attempt, last_success, last_error, failures, next_due, \
        last_reconcile, pass_open, feed_refresh, feed_zone, pass_number
        """

    /// A feed state from `feedColumns`, read from column `o` on.
    static func feedState(_ row: PostgresRow, from o: Int = 0) throws -> FeedState {
        let r = row.makeRandomAccess()
        func cell<T: PostgresDecodable>(_ i: Int, _: T.Type = T.self) throws -> T { try r[o + i].decode(T.self) }
        var state = FeedState(
            etag: try cell(0), lastModified: try cell(1), bodyHash: try cell(2), lastAttempt: try cell(4),
            lastSuccess: try cell(5), lastError: try cell(6), failures: try cell(7), nextDue: try cell(8),
            lastReconcile: try cell(9), passOpen: try cell(10), feedRefresh: try cell(11), feedZone: try cell(12),
            passNumber: try cell(13))
        state.syncToken = try cell(3)
        return state
    }

    public func feed(_ id: String) throws -> FeedState {
        let q: PostgresQuery = "SELECT \(unescaped: Self.feedColumns) FROM feed WHERE subscription = \(id)"
        return try query(q).first.map { try Self.feedState($0) } ?? FeedState()
    }

    public func feeds() throws -> [String: FeedState] {
        let q: PostgresQuery = "SELECT subscription, \(unescaped: Self.feedColumns) FROM feed"
        var out: [String: FeedState] = [:]
        for row in try query(q) {
            out[try row.makeRandomAccess()[0].decode(String.self)] = try Self.feedState(row, from: 1)
        }
        return out
    }

    /// Writes a pass's feed state (not the schedule's `next_due`), in the caller's transaction.
    func upsert(_ id: String, _ s: FeedState, _ session: PostgresConnections.Session) throws {
        try session.query(
            """
            INSERT INTO feed (subscription, etag, last_modified, body_hash, sync_token, last_attempt, last_success,
                last_error, failures, last_reconcile, pass_open, feed_refresh, feed_zone, pass_number)
            VALUES (\(id), \(s.etag), \(s.lastModified), \(s.bodyHash), \(s.syncToken), \(s.lastAttempt),
                \(s.lastSuccess), \(s.lastError), \(s.failures), \(s.lastReconcile), \(s.passOpen), \(s.feedRefresh),
                \(s.feedZone), \(s.passNumber))
            ON CONFLICT (subscription) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                body_hash = excluded.body_hash, sync_token = excluded.sync_token, last_attempt = excluded.last_attempt,
                last_success = excluded.last_success, last_error = excluded.last_error, failures = excluded.failures,
                last_reconcile = excluded.last_reconcile, pass_open = excluded.pass_open,
                feed_refresh = excluded.feed_refresh, feed_zone = excluded.feed_zone, pass_number = excluded.pass_number
            """)
    }

    public func save(_ id: String, _ state: FeedState) throws {
        try transaction { s in
            try guardLease(id, s)
            try upsert(id, state, s)
        }
    }

    public func schedule(_ id: String, nextDue: Date) throws {
        _ = try query(
            """
            INSERT INTO feed (subscription, next_due) VALUES (\(id), \(nextDue))
            ON CONFLICT (subscription) DO UPDATE SET next_due = excluded.next_due
            """)
    }

    // MARK: Items and batches

    public func itemCounts() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try query("SELECT subscription, count(*)::bigint FROM item GROUP BY subscription") {
            let (id, n) = try row.decode((String, Int).self)
            out[id] = n
        }
        return out
    }

    public func items(_ id: String) throws -> [String: ItemState] {
        var out: [String: ItemState] = [:]
        let q: PostgresQuery = """
            SELECT key, hash, href, change_token, last_modified, content, source, origin FROM item
            WHERE subscription = \(id)
            """
        for row in try query(q) {
            let (key, hash, href, token, lastModified, content, source, origin) = try row.decode(
                (String, String, String, String, String?, String?, String?, String?).self)
            out[key] = ItemState(
                key: key, hash: hash, href: href, changeToken: token, lastModified: lastModified, content: content,
                source: source, origin: origin)
        }
        return out
    }

    public func commit(_ id: String, put: [ItemState], remove: [String], trace: [ItemTrace]) throws {
        guard !put.isEmpty || !remove.isEmpty || !trace.isEmpty else { return }
        try transaction { s in
            try guardLease(id, s)
            try insertTrace(id, trace, s)
            try s.insert(
                "item",
                [
                    "subscription", "key", "hash", "href", "change_token", "last_modified", "content", "source",
                    "origin",
                ],
                rows: put.map {
                    [id, $0.key, $0.hash, $0.href, $0.changeToken, $0.lastModified, $0.content, $0.source, $0.origin]
                },
                then: """
                    ON CONFLICT (subscription, key) DO UPDATE SET hash = excluded.hash, href = excluded.href,
                        change_token = excluded.change_token, last_modified = excluded.last_modified,
                        content = excluded.content, source = excluded.source, origin = excluded.origin
                    """)
            if !remove.isEmpty {
                try s.query("DELETE FROM item WHERE subscription = \(id) AND key = ANY(\(remove))")
            }
            try s.query("DELETE FROM intent WHERE subscription = \(id) AND key = ANY(\(put.map(\.key) + remove))")
        }
    }

    func insertTrace(_ id: String, _ trace: [ItemTrace], _ s: PostgresConnections.Session) throws {
        for t in trace {
            try s.query(
                """
                INSERT INTO trace (subscription, key, outcome, rules, edits, answer)
                VALUES (\(id), \(t.key), \(t.outcome.rawValue), \(t.rules), \(t.edits), \(t.answer))
                ON CONFLICT (subscription, key) DO UPDATE SET outcome = excluded.outcome, rules = excluded.rules,
                    edits = excluded.edits, answer = excluded.answer
                """)
        }
    }

    // MARK: Intents, doubts, traces

    public func intents(_ id: String) throws -> [WriteIntent] {
        try query("SELECT key, operation, href FROM intent WHERE subscription = \(id) ORDER BY key").compactMap { row in
            let (key, operation, href) = try row.decode((String, String, String?).self)
            return WriteIntent.Operation(rawValue: operation).map { WriteIntent(key: key, operation: $0, href: href) }
        }
    }

    public func begin(_ id: String, _ state: FeedState, intents: [WriteIntent]) throws {
        try transaction { s in
            try guardLease(id, s)
            try upsert(id, state, s)
            try s.insert(
                "intent", ["subscription", "key", "operation", "href"],
                rows: intents.map { [id, $0.key, $0.operation.rawValue, $0.href] },
                then:
                    "ON CONFLICT (subscription, key) DO UPDATE SET operation = excluded.operation, href = excluded.href"
            )
        }
    }

    public func doubts(_ id: String) throws -> [String: Date] {
        var out: [String: Date] = [:]
        for row in try query("SELECT key, until FROM doubt WHERE subscription = \(id)") {
            let (key, until) = try row.decode((String, Date).self)
            out[key] = until
        }
        return out
    }

    public func recordDoubts(_ id: String, keys: [String], until: Date) throws {
        guard !keys.isEmpty else { return }
        try transaction { s in
            try guardLease(id, s)
            try s.query(
                """
                INSERT INTO doubt (subscription, key, until) SELECT \(id), unnest(\(keys)), \(until)
                ON CONFLICT (subscription, key) DO UPDATE SET until = greatest(doubt.until, excluded.until)
                """)
        }
    }

    public func forgetDoubts(_ id: String, keys: [String]) throws {
        guard !keys.isEmpty else { return }
        try transaction { s in
            try guardLease(id, s)
            try s.query("DELETE FROM doubt WHERE subscription = \(id) AND key = ANY(\(keys))")
        }
    }

    public func startTrace(_ id: String, pass: Date, items: [ItemTrace]) throws {
        try transaction { s in
            try guardLease(id, s)
            try s.query("DELETE FROM trace WHERE subscription = \(id)")
            try s.query(
                """
                INSERT INTO trace_pass (subscription, pass) VALUES (\(id), \(pass))
                ON CONFLICT (subscription) DO UPDATE SET pass = excluded.pass
                """)
            try insertTrace(id, items, s)
        }
    }

    public func trace(_ id: String, key: String) throws -> PassTrace? {
        try transaction { s in
            guard let pass = try s.query("SELECT pass FROM trace_pass WHERE subscription = \(id)").all.first else {
                return nil
            }
            let item = try s.query(
                "SELECT outcome, rules, edits, answer FROM trace WHERE subscription = \(id) AND key = \(key)"
            ).all.first.map { row in
                let (outcome, rules, edits, answer) = try row.decode((String, [String], [String], String?).self)
                return ItemTrace(
                    key: key, outcome: ItemTrace.Outcome(rawValue: outcome) ?? .failed, rules: rules, edits: edits,
                    answer: answer)
            }
            return PassTrace(pass: try pass.decode(Date.self), item: item)
        }
    }
}
