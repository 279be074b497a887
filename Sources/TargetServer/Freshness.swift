import SyncCore
import CalWS
import GRDB
import Recurrence

/// How fresh a collection's mirror is, as the subscription that writes it last reported
/// (Outboard's `reportFreshness`, PROTOCOL.md): a GRDB record of the `freshness` table.
struct Freshness: Sendable, Hashable, Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "freshness"

    var collection: String
    var subscription: String
    /// Seconds between the subscription's passes.
    var refreshInterval: Int64
    /// Epoch seconds of the last completed pass (a 304 included).
    var lastSuccess: Int64?
    var lastAttempt: Int64?
    var lastError: String?
    /// When the report arrived.
    var reportedAt: Int64
    /// The collection's zone, as the subscription gave it (`resourceTimezoneId`): floating and
    /// DATE values are placed in it; nil for none.
    var zone: String?

    enum CodingKeys: String, CodingKey {
        case collection, subscription
        case refreshInterval = "refresh_interval"
        case lastSuccess = "last_success"
        case lastAttempt = "last_attempt"
        case lastError = "last_error"
        case reportedAt = "reported_at"
        case zone
    }

    init(_ report: CollectionFreshness, reportedAt: Int64) {
        collection = report.href
        subscription = report.subscription
        refreshInterval = Int64(report.refreshInterval)
        lastSuccess = report.lastSuccess?.utcSeconds
        lastAttempt = report.lastAttempt?.utcSeconds
        lastError = report.lastError
        self.reportedAt = reportedAt
        zone = report.timezone
    }

    /// The report of a collection, nil when no subscription reported one (a collection written by
    /// something else, whose contents are their own truth).
    static func of(_ db: Database, collection: String) throws -> Freshness? {
        try Freshness.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM freshness WHERE collection = ?"), arguments: [collection])
    }

    /// The zone a collection's floating and DATE values are placed in: the one its subscription
    /// reported, when this server knows it (nil: none, or one it does not know).
    static func zone(_ db: Database, collection: String) throws -> ZoneRules? {
        try zoneName(db, collection: collection).flatMap(AvailabilityEndpoint.zone(named:))
    }

    /// The name of the zone a collection's subscription reported, known to this server or not.
    static func zoneName(_ db: Database, collection: String) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT zone FROM freshness WHERE collection = ?"), arguments: [collection])
    }

    /// Whether the mirror is older than `maxStaleness` seconds at `now` (default: twice the
    /// refresh interval); never synced counts as stale.
    func isStale(now: Int64, maxStaleness: Int64?) -> Bool {
        guard let lastSuccess else { return true }
        return now - lastSuccess > (maxStaleness ?? 2 * refreshInterval)
    }
}
