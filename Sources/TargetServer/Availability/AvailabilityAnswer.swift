import Recurrence

/// How fresh one member's mirror is, in every answer: the subscription that writes it, its last
/// successful pass (`synced-at`, a 304 included) and last attempt, whether that is older than the
/// query's `max_staleness` (default twice the subscription's refresh interval), and its last error.
/// A collection no subscription reports on is its own source: `subscription` null, never stale.
/// A view is as fresh as the least fresh of its collections (a stale one first, else the one
/// synced longest ago).
struct AvailabilitySource: Encodable, Sendable, Hashable {
    var member: String
    var subscription: String?
    var syncedAt: String?
    var attemptedAt: String?
    var refreshInterval: Int64?
    var stale: Bool
    var lastError: String?

    /// `reports`: those of the member's collections that have one.
    init(member: String, freshness reports: [Freshness], now: Int64, maxStaleness: Int64?) {
        let freshness =
            reports.first { $0.isStale(now: now, maxStaleness: maxStaleness) }
            ?? reports.min { ($0.lastSuccess ?? .min) < ($1.lastSuccess ?? .min) }
        self.member = member
        subscription = freshness?.subscription
        syncedAt = freshness?.lastSuccess.map(RFC3339.utc)
        attemptedAt = freshness?.lastAttempt.map(RFC3339.utc)
        refreshInterval = freshness?.refreshInterval
        stale = freshness?.isStale(now: now, maxStaleness: maxStaleness) ?? false
        lastError = freshness?.lastError
    }

    enum CodingKeys: String, CodingKey {
        case member, subscription, stale
        case syncedAt = "synced-at"
        case attemptedAt = "attempted-at"
        case refreshInterval = "refresh-interval"
        case lastError = "last-error"
    }

    /// Every key is written, null when unknown.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(member, forKey: .member)
        try c.encode(subscription, forKey: .subscription)
        try c.encode(syncedAt, forKey: .syncedAt)
        try c.encode(attemptedAt, forKey: .attemptedAt)
        try c.encode(refreshInterval, forKey: .refreshInterval)
        try c.encode(stale, forKey: .stale)
        try c.encode(lastError, forKey: .lastError)
    }

    /// Why a stale member refuses an answer that must be fresh.
    var staleness: String {
        var words = "\(member) is stale: "
        words += syncedAt.map { "last synced \($0)" } ?? "never synced"
        if let subscription { words += " by subscription \(subscription)" }
        if let lastError { words += "; last error: \(lastError)" }
        return words
    }
}

/// The JSON answer of `POST /availability`: one of `available_periods`, `available_slots` or
/// `busy`, times in UTC with `Z`, and `sources`, each member's freshness.
struct AvailabilityAnswer: Encodable, Sendable {
    struct Participant: Encodable, Sendable, Hashable {
        var member: String
    }

    struct Period: Encodable, Sendable, Hashable {
        var start: String
        var end: String
        var participants: [Participant]
    }

    struct BusyLine: Encodable, Sendable, Hashable {
        var member: String
        var start: String
        var end: String
        var status: String
    }

    var availablePeriods: [Period]?
    var availableSlots: [Period]?
    var busy: [BusyLine]?
    var sources: [AvailabilitySource]

    enum CodingKeys: String, CodingKey {
        case availablePeriods = "available_periods"
        case availableSlots = "available_slots"
        case busy, sources
    }

    /// The answer the query's `response_format` asks for.
    init(_ solver: AvailabilitySolver, sources: [AvailabilitySource]) {
        self.sources = sources
        func period(_ a: AvailabilitySolver.Available) -> Period {
            Period(
                start: RFC3339.utc(a.span.start), end: RFC3339.utc(a.span.end),
                participants: a.members.map(Participant.init))
        }
        switch solver.query.format {
        case .periods: availablePeriods = solver.periods().map(period)
        case .slots: availableSlots = solver.slots().map(period)
        case .busy:
            busy = solver.busyPeriods().map {
                BusyLine(
                    member: $0.member, start: RFC3339.utc($0.span.start), end: RFC3339.utc($0.span.end),
                    status: $0.status.rawValue)
            }
        }
    }
}

/// The JSON of a refused availability request: one line naming every field at fault, and each
/// problem on its own.
struct AvailabilityRefusal: Encodable, Sendable {
    struct Problem: Encodable, Sendable {
        var field: String
        var message: String
    }

    var error: String
    var errors: [Problem]
    /// With a 503 for stale members: every member's freshness.
    var sources: [AvailabilitySource]?

    init(_ problems: [AvailabilityProblem], sources: [AvailabilitySource]? = nil) {
        error = problems.map(\.description).joined(separator: "; ")
        errors = problems.map { Problem(field: $0.field, message: $0.message) }
        self.sources = sources
    }
}
