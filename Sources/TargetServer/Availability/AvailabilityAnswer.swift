import Recurrence

/// The JSON answer of `POST /availability`: one of `available_periods`, `available_slots` or
/// `busy`, times in UTC with `Z`. (A later slice adds `sources`, each member's freshness, beside
/// them; clients should ignore keys they do not know.)
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

    enum CodingKeys: String, CodingKey {
        case availablePeriods = "available_periods"
        case availableSlots = "available_slots"
        case busy
    }

    /// The answer the query's `response_format` asks for.
    init(_ solver: AvailabilitySolver) {
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

    init(_ problems: [AvailabilityProblem]) {
        error = problems.map(\.description).joined(separator: "; ")
        errors = problems.map { Problem(field: $0.field, message: $0.message) }
    }
}
