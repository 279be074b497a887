import CalendarModel
import Foundation
import Recurrence

/// One thing wrong with an availability request: the field (`participants[0].required`) and why.
struct AvailabilityProblem: Error, Sendable, Hashable, CustomStringConvertible {
    var field: String
    var message: String

    var description: String { "\(field): \(message)" }
}

/// Every problem of a refused request.
struct AvailabilityProblems: Error, Sendable, Hashable {
    var all: [AvailabilityProblem]
}

/// Reads the JSON body of `POST /availability` into an `AvailabilityQuery`, collecting every
/// problem with the field it is in. Pure but for the zone lookup it is given.
struct AvailabilityRequestReader {
    /// Most groups, members (over all groups), query periods and slots one request may ask for.
    static let maxGroups = 10
    static let maxMembers = 50
    static let maxPeriods = 50
    static let maxSlots = 10_000
    /// The longest span from the first query period's start to the last one's end.
    static let maxSpan: Int64 = 366 * 86_400
    static let keys = [
        "participants", "query_periods", "required_duration", "buffer", "start_interval", "zone", "response_format",
        "max_staleness", "require_fresh",
    ]

    /// Whether a zone name is known (an IANA name, an alias or a Windows name).
    var zoneIsKnown: (String) -> Bool
    private var problems: [AvailabilityProblem] = []

    init(zoneIsKnown: @escaping (String) -> Bool) {
        self.zoneIsKnown = zoneIsKnown
    }

    /// The request, or every problem found in it.
    static func read(_ body: [UInt8], zoneIsKnown: @escaping (String) -> Bool) -> Result<
        AvailabilityQuery, AvailabilityProblems
    > {
        var reader = AvailabilityRequestReader(zoneIsKnown: zoneIsKnown)
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), case .object(let fields) = json
        else {
            return .failure(
                AvailabilityProblems(all: [
                    AvailabilityProblem(
                        field: "body",
                        message: "expected a JSON object such as {\"participants\": …, \"query_periods\": …}")
                ]))
        }
        let query = reader.query(fields)
        return reader.problems.isEmpty ? .success(query) : .failure(AvailabilityProblems(all: reader.problems))
    }

    private mutating func problem(_ field: String, _ message: String) {
        problems.append(AvailabilityProblem(field: field, message: message))
    }

    private mutating func query(_ fields: [String: JSONValue]) -> AvailabilityQuery {
        for key in fields.keys.sorted() where !Self.keys.contains(key) {
            problem(key, "unknown key; the keys are \(Self.keys.joined(separator: ", "))")
        }
        let groups = participants(fields["participants"])
        let periods = queryPeriods(fields["query_periods"])
        let length =
            fields["required_duration"].map { self.duration($0, field: "required_duration", positive: true) } ?? 0
        let (before, after) = buffer(fields["buffer"])
        var format = AvailabilityQuery.Format.periods
        if let f = fields["response_format"] {
            if case .string(let s) = f, let known = AvailabilityQuery.Format(rawValue: s) {
                format = known
            } else {
                problem(
                    "response_format",
                    "expected one of \(AvailabilityQuery.Format.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))"
                )
            }
        }
        var interval = length
        if let i = fields["start_interval"] {
            interval = self.duration(i, field: "start_interval", positive: true)
            if interval > 0, interval < 60 { problem("start_interval", "must be at least one minute (PT1M)") }
        }
        var zone = "UTC"
        if let z = fields["zone"] {
            if case .string(let s) = z, zoneIsKnown(s) {
                zone = s
            } else {
                problem(
                    "zone",
                    "expected a time zone name such as Europe/Berlin (floating and all-day times are placed in it)")
            }
        }
        let maxStaleness = fields["max_staleness"].map { self.duration($0, field: "max_staleness", positive: true) }
        var requireFresh = false
        if let r = fields["require_fresh"] {
            if case .bool(let b) = r { requireFresh = b } else { problem("require_fresh", "expected true or false") }
        }
        var query = AvailabilityQuery(
            groups: groups, periods: periods, requiredDuration: length, bufferBefore: before,
            bufferAfter: after, startInterval: interval, zone: zone, format: format)
        query.maxStaleness = maxStaleness
        query.requireFresh = requireFresh
        if format == .slots { checkSlots(query, fields) }
        return query
    }

    private mutating func checkSlots(_ q: AvailabilityQuery, _ fields: [String: JSONValue]) {
        guard fields["required_duration"] != nil else {
            problem("required_duration", "response_format \"slots\" needs a required_duration such as PT30M")
            return
        }
        guard q.requiredDuration > 0, q.startInterval >= 60 else { return }
        let count = q.periods.reduce(Int64(0)) { n, p in
            let room = p.end - p.start - q.requiredDuration
            return n + (room < 0 ? 0 : room / q.startInterval + 1)
        }
        if count > Self.maxSlots {
            problem(
                "start_interval",
                "the query has \(count) slots, more than \(Self.maxSlots): choose a longer start_interval or shorter query_periods"
            )
        }
    }

    // MARK: participants

    private mutating func participants(_ value: JSONValue?) -> [AvailabilityQuery.Group] {
        guard case .array(let list)? = value, !list.isEmpty else {
            problem(
                "participants",
                "expected a list of groups such as [{\"members\": [\"/people/alice\"], \"required\": \"all\"}]")
            return []
        }
        if list.count > Self.maxGroups { problem("participants", "at most \(Self.maxGroups) groups") }
        let groups = list.enumerated().compactMap { i, g in group(g, field: "participants[\(i)]") }
        let members = Set(groups.flatMap(\.members)).count
        if members > Self.maxMembers { problem("participants", "\(members) members, more than \(Self.maxMembers)") }
        return groups
    }

    private mutating func group(_ value: JSONValue, field: String) -> AvailabilityQuery.Group? {
        guard case .object(let g) = value else {
            problem(
                field,
                "expected a group such as {\"members\": [\"/people/alice\"], \"required\": \"all\"}, not \(value.kind)")
            return nil
        }
        for key in g.keys.sorted() where key != "members" && key != "required" {
            problem("\(field).\(key)", "unknown key; a group has members and required")
        }
        guard case .array(let list)? = g["members"], !list.isEmpty else {
            problem("\(field).members", "expected a non-empty list of collection paths such as \"/people/alice\"")
            return nil
        }
        var members: [String] = []
        for (j, m) in list.enumerated() {
            let f = "\(field).members[\(j)]"
            guard case .string(let path) = m else {
                problem(
                    f,
                    "expected a collection path such as \"/people/alice\" or a view such as \"views/team\", not \(m.kind)"
                )
                continue
            }
            if path.hasPrefix("views/") ? View.name(ofTarget: path) == nil : !Paths.isCollection(path) {
                problem(
                    f, "\"\(path)\" is not a collection path such as \"/people/alice\" or a view such as \"views/team\""
                )
            } else if members.contains(path) {
                problem(f, "\(path) is already a member of this group")
            } else {
                members.append(path)
            }
        }
        var required = members.count
        switch g["required"] {
        case nil, .string("all")?:
            break
        case .number(let n)? where n == n.rounded() && n >= 1 && n <= Double(list.count):
            required = min(Int(n), members.count)
        default:
            problem(
                "\(field).required", "expected \"all\" or a whole number from 1 to \(list.count) (the group's members)")
        }
        return AvailabilityQuery.Group(members: members, required: required)
    }

    // MARK: periods and durations

    private mutating func queryPeriods(_ value: JSONValue?) -> [TimeSpan] {
        guard case .array(let list)? = value, !list.isEmpty else {
            problem(
                "query_periods",
                "expected a list of periods such as [{\"start\": \"2026-03-02T09:00:00Z\", \"end\": \"2026-03-02T17:00:00Z\"}]"
            )
            return []
        }
        if list.count > Self.maxPeriods { problem("query_periods", "at most \(Self.maxPeriods) periods") }
        var spans: [TimeSpan] = []
        for (i, p) in list.enumerated() {
            let field = "query_periods[\(i)]"
            guard case .object(let o) = p else {
                problem(field, "expected {\"start\": …, \"end\": …}, not \(p.kind)")
                continue
            }
            let start = instant(o["start"], field: "\(field).start")
            let end = instant(o["end"], field: "\(field).end")
            guard let start, let end else { continue }
            if end <= start {
                problem("\(field).end", "must be after \(field).start")
            } else {
                spans.append(TimeSpan(start: start, end: end))
            }
        }
        let merged = TimeSpan.merged(spans)
        if let first = merged.first, let last = merged.last, last.end - first.start > Self.maxSpan {
            problem(
                "query_periods",
                "they span more than \(Self.maxSpan / 86_400) days from the first start to the last end")
        }
        return merged
    }

    private mutating func instant(_ value: JSONValue?, field: String) -> Int64? {
        if case .string(let s)? = value, let t = Self.rfc3339(s) { return t }
        problem(
            field,
            "expected an RFC 3339 date-time with its offset, such as \"2026-03-02T09:00:00Z\" or \"2026-03-02T10:00:00+01:00\""
        )
        return nil
    }

    private mutating func buffer(_ value: JSONValue?) -> (Int64, Int64) {
        guard let value else { return (0, 0) }
        guard case .object(let o) = value else {
            problem("buffer", "expected {\"before\": \"PT15M\", \"after\": \"PT15M\"}, not \(value.kind)")
            return (0, 0)
        }
        for key in o.keys.sorted() where key != "before" && key != "after" {
            problem("buffer.\(key)", "unknown key; a buffer has before and after")
        }
        return (
            o["before"].map { duration($0, field: "buffer.before", positive: false) } ?? 0,
            o["after"].map { duration($0, field: "buffer.after", positive: false) } ?? 0
        )
    }

    /// An ISO 8601 duration in seconds: weeks, days, hours, minutes and seconds (`PT30M`, `P1D`,
    /// `PT1H30M`; years and months have no fixed length and are refused), at most a year.
    private mutating func duration(_ value: JSONValue, field: String, positive: Bool) -> Int64 {
        if case .string(let s) = value, let seconds = ISODuration.seconds(s) {
            if seconds > Self.maxSpan {
                problem(field, "at most \(Self.maxSpan / 86_400) days")
            } else if positive, seconds == 0 {
                problem(field, "must be longer than zero")
            } else {
                return seconds
            }
            return 0
        }
        problem(
            field,
            "expected an ISO 8601 duration such as \"PT30M\", \"PT1H\" or \"P1D\" (weeks, days, hours, minutes, seconds)"
        )
        return 0
    }

    /// UTC epoch seconds of an RFC 3339 date-time (`2026-03-02T09:00:00Z`, `…+01:00`, fractions of
    /// a second dropped), or nil.
    static func rfc3339(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func number(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var n = 0
            for i in at..<(at + count) {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                n = n * 10 + Int(b[i] - 0x30)
            }
            return n
        }
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A, b[16] == 0x3A,
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), day >= 1, day <= daysIn(month, of: year), hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19
        if b[i] == 0x2E {
            i += 1
            let digits = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard i > digits else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            guard i + 1 == b.count else { return nil }
        } else {
            guard b[i] == 0x2B || b[i] == 0x2D, i + 6 == b.count, b[i + 3] == 0x3A,
                let oh = number(i + 1, 2), let om = number(i + 4, 2), oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 0x2D ? -1 : 1)
        }
        return RFC3339.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
            - Int64(offset)
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
