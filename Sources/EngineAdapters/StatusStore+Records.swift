import Engine
import Foundation
import GRDB
import ServerSupport
import SyncCore

// The status store's rows as GRDB records: every row is read and written through its record
// type (the tables are created by the migrations in `StatusStore.migrator`). What changes a set
// of rows at once (forgetting a subscription's trace, counting items) stays a query.

/// A `feed` row as a pass writes it. `next_due` belongs to the schedule (`FeedSchedule`), so a
/// pass's upsert does not set it.
struct FeedRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "feed"
    var subscription: String
    var state: FeedState

    init(subscription: String, state: FeedState) {
        self.subscription = subscription
        self.state = state
    }

    init(row: Row) {
        subscription = row["subscription"]
        state = FeedState(row: row)
    }

    func encode(to c: inout PersistenceContainer) {
        c["subscription"] = subscription
        c["etag"] = state.etag
        c["last_modified"] = state.lastModified
        c["body_hash"] = state.bodyHash
        c["last_attempt"] = state.lastAttempt
        c["last_success"] = state.lastSuccess
        c["last_error"] = state.lastError
        c["failures"] = state.failures
        c["last_reconcile"] = state.lastReconcile
        c["pass_open"] = state.passOpen
        c["feed_refresh"] = state.feedRefresh
        c["feed_zone"] = state.feedZone
        c["pass_number"] = state.passNumber
        c["sync_token"] = state.syncToken
    }
}

/// A feed state is read from the whole `feed` row, `next_due` included.
extension FeedState: FetchableRecord {
    public init(row r: Row) {
        self.init(
            etag: r["etag"], lastModified: r["last_modified"], bodyHash: r["body_hash"], lastAttempt: r["last_attempt"],
            lastSuccess: r["last_success"], lastError: r["last_error"], failures: r["failures"], nextDue: r["next_due"],
            lastReconcile: r["last_reconcile"], passOpen: r["pass_open"], feedRefresh: r["feed_refresh"],
            feedZone: r["feed_zone"], passNumber: r["pass_number"])
        syncToken = r["sync_token"]
    }
}

/// The schedule's part of a `feed` row: when the daemon runs the subscription next.
struct FeedSchedule: PersistableRecord {
    static let databaseTableName = "feed"
    var subscription: String
    var nextDue: Date

    func encode(to c: inout PersistenceContainer) {
        c["subscription"] = subscription
        c["next_due"] = nextDue
    }
}

/// An `item` row: a mirrored item's state.
struct ItemRecord: FetchableRecord, BulkRecord {
    static let databaseTableName = "item"
    static let columns = [
        "subscription", "key", "hash", "href", "change_token", "last_modified", "content", "source", "origin",
    ]
    /// Read by position in `init(row:)`, in this order: a pass reads every item of its feed.
    static var databaseSelection: [any SQLSelectable] { columns.dropFirst().map { Column($0) } }
    static let upsert = upsertSQL(key: ["subscription", "key"])
    static let delete = deleteSQL(key: ["subscription", "key"])
    var subscription: String
    var state: ItemState

    init(subscription: String, state: ItemState) {
        self.subscription = subscription
        self.state = state
    }

    /// A row of `databaseSelection` (it has no subscription: the query names it).
    init(row r: Row) {
        subscription = ""
        state = ItemState(
            key: r[0], hash: r[1], href: r[2], changeToken: r[3], lastModified: r[4], content: r[5], source: r[6],
            origin: r[7])
    }

    var values: [(any DatabaseValueConvertible)?] {
        [
            subscription, state.key, state.hash, state.href, state.changeToken, state.lastModified, state.content,
            state.source, state.origin,
        ]
    }

    static func of(_ subscription: String) -> QueryInterfaceRequest<ItemRecord> {
        filter(Column("subscription") == subscription)
    }
}

/// An `intent` row: a write about to be sent (`WriteIntent`).
struct IntentRecord: FetchableRecord, BulkRecord {
    static let databaseTableName = "intent"
    static let columns = ["subscription", "key", "operation", "href"]
    static let upsert = upsertSQL(key: ["subscription", "key"])
    /// Forgets an item's intent (with each of a batch's outcomes).
    static let delete = deleteSQL(key: ["subscription", "key"])
    var subscription: String
    var intent: WriteIntent

    init(subscription: String, intent: WriteIntent) {
        self.subscription = subscription
        self.intent = intent
    }

    init(row: Row) {
        subscription = row["subscription"]
        intent = WriteIntent(
            key: row["key"], operation: WriteIntent.Operation(rawValue: row["operation"]) ?? .update, href: row["href"])
    }

    var values: [(any DatabaseValueConvertible)?] {
        [subscription, intent.key, intent.operation.rawValue, intent.href]
    }
}

/// A `doubt` row: a key whose unanswered write may still land, looked up until `until`.
struct DoubtRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "doubt"
    var subscription: String
    var key: String
    var until: Date
}

/// A `trace_pass` row: when the subscription's traced pass began.
struct TracePassRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "trace_pass"
    var subscription: String
    var pass: Date
}

/// A `trace` row: what the traced pass did with one item; lists are kept one line each.
struct TraceRecord: FetchableRecord, BulkRecord {
    static let databaseTableName = "trace"
    static let columns = ["subscription", "key", "outcome", "rules", "edits", "answer"]
    static let insertOrReplace = insertSQL("INSERT OR REPLACE")
    var subscription: String
    var trace: ItemTrace

    init(subscription: String, trace: ItemTrace) {
        self.subscription = subscription
        self.trace = trace
    }

    init(row: Row) {
        func lines(_ s: String?) -> [String] { s.map { $0.components(separatedBy: "\n") } ?? [] }
        subscription = row["subscription"]
        trace = ItemTrace(
            key: row["key"], outcome: ItemTrace.Outcome(rawValue: row["outcome"]) ?? .failed,
            rules: lines(row["rules"]), edits: lines(row["edits"]), answer: row["answer"])
    }

    var values: [(any DatabaseValueConvertible)?] {
        func lines(_ l: [String]) -> String? { l.isEmpty ? nil : l.joined(separator: "\n") }
        return [subscription, trace.key, trace.outcome.rawValue, lines(trace.rules), lines(trace.edits), trace.answer]
    }
}
