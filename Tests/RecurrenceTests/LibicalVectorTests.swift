import CalendarModel
import Testing
@testable import Recurrence

/// One case of libical's `icalrecur_test.txt`.
struct LibicalVector: Sendable, CustomStringConvertible {
    var line: Int
    var comment: String
    var rrule: String
    var dtstart: String
    var startAt: String?
    /// nil where libical says `*** UNIMPLEMENTED`.
    var instances: [String]?

    var description: String { "line \(line): \(comment)" }

    static let all: [LibicalVector] = {
        guard let text = try? Support.fixture("libical-icalrecur_test.txt") else { return [] }
        var out: [LibicalVector] = []
        var current = LibicalVector(line: 0, comment: "", rrule: "", dtstart: "")
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            if line.hasPrefix("#") {
                current.comment = String(line.dropFirst()).trimmingSpaces
            } else if line.hasPrefix("RRULE:") {
                current.rrule = String(line.dropFirst(6))
                current.line = i + 1
            } else if line.hasPrefix("DTSTART:") {
                current.dtstart = String(line.dropFirst(8))
            } else if line.hasPrefix("START-AT:") {
                current.startAt = String(line.dropFirst(9))
            } else if line.hasPrefix("INSTANCES:") {
                let list = String(line.dropFirst(10))
                current.instances = list.contains("UNIMPLEMENTED") ? nil : list.split(separator: ",").map(String.init)
                out.append(current)
                current = LibicalVector(line: 0, comment: "", rrule: "", dtstart: "")
            }
        }
        return out
    }()

    /// The calendar text of this case: one VEVENT with its DTSTART and RRULE.
    var calendar: String {
        let start = dtstart.count == 8 ? "DTSTART;VALUE=DATE:\(dtstart)" : "DTSTART:\(dtstart)"
        return Support.calendar(Support.event([start, "RRULE:\(rrule)"]))
    }

    var hasCount: Bool { rrule.uppercased().contains("COUNT=") }

    var count: Int? {
        guard case .recur(let r)? = ICalValue.parse(rrule, as: .recur) else { return nil }
        return r.count
    }
}

/// libical's RRULE vectors, run through the whole recurrence set (parser, zones, series).
struct LibicalVectorTests {
    /// The cases where libical's list does not start with DTSTART because the rule does not
    /// produce it. RFC 5545 §3.8.5 makes DTSTART the first instance of the set whatever the rule
    /// says, and §3.3.10 counts it as the first of COUNT; so the expectation is DTSTART, then
    /// libical's instances (the first COUNT − 1 of them under COUNT). Keyed by the RRULE's line.
    static let dtstartNotProducedByRule: [Int: String] = [
        38: "Monday of week 20 with WKST=FR: DTSTART 1997-05-12 is in week 19 when weeks start on Friday",
        113: "Friday the 13th: DTSTART 1997-09-02 is a Tuesday (RFC 5545 adds an EXDATE for it in its own example)",
        354: "every 13 months in May: DTSTART 2010-02-12 is in February",
        359: "WEEKLY on WE,FR: DTSTART 2019-01-01 is a Tuesday",
        369: "53rd ISO week: DTSTART 2013-01-01 is in week 1",
        415: "BYYEARDAY=360,-2: DTSTART 2025-12-20 is day 354",
        590: "monthly by BYSETPOS: DTSTART 2024-01-02 14:39 is not among the selected positions",
        661: "BYWEEKNO=53, COUNT=1: DTSTART 2023-01-01 is in week 52, so the set is DTSTART alone",
        671: "BYWEEKNO=53;BYDAY=TH, COUNT=1: DTSTART 2027-01-03 is a Sunday, so the set is DTSTART alone",
        681: "BYWEEKNO=53;INTERVAL=6;BYDAY=TH, COUNT=1: DTSTART 2027-01-03 is a Sunday, so the set is DTSTART alone",
        686: "BYWEEKNO=53;INTERVAL=5;BYDAY=TH, COUNT=1: DTSTART 2027-01-03 is a Sunday, so the set is DTSTART alone",
    ]

    /// Cases libical itself marks as unimplemented; their own expectations are in `RuleEdgeTests`.
    static let unimplemented: Set<Int> = [405]

    @Test("every libical vector case was read")
    func vectorsWereRead() {
        #expect(LibicalVector.all.count == 146)
    }

    @Test("each vector gives exactly its instances (DTSTART first, as RFC 5545 says)", arguments: LibicalVector.all)
    func vector(_ v: LibicalVector) throws {
        guard let libical = v.instances else {
            #expect(Self.unimplemented.contains(v.line), "unexpected UNIMPLEMENTED case")
            return
        }
        #expect(
            (libical.first != v.dtstart) == (Self.dtstartNotProducedByRule[v.line] != nil),
            "DTSTART in libical's list and the list of RFC exceptions disagree")
        let expected = Self.expected(v, libical)
        let got = try Support.starts(
            v.calendar, from: "16000101T000000Z", to: "24000101T000000Z", limit: expected.count + 1)
        let bounded = v.hasCount || v.rrule.uppercased().contains("UNTIL=")
        #expect(Array(got.prefix(bounded ? got.count : expected.count)) == expected)
    }

    /// What the set is: libical's instances, or (where the rule does not produce DTSTART) DTSTART
    /// and then libical's, the first COUNT − 1 of them under COUNT.
    static func expected(_ v: LibicalVector, _ libical: [String]) -> [String] {
        guard libical.first != v.dtstart else { return libical }
        return [v.dtstart] + (v.count.map { Array(libical.prefix($0 - 1)) } ?? libical)
    }

    @Test(
        "starting a query in the middle of each vector gives the same tail (the jump ahead)",
        arguments: LibicalVector.all.filter { $0.instances != nil })
    func vectorFromTheMiddle(_ v: LibicalVector) throws {
        let expected = Self.expected(v, try #require(v.instances))
        let middle = expected.count / 2
        let isUTC = expected[middle].hasSuffix("Z")
        let dateOnly = expected[middle].count == 8
        // Floating times are placed in UTC here, so the written start is the UTC start.
        let from = dateOnly ? expected[middle] + "T000000Z" : (isUTC ? expected[middle] : expected[middle] + "Z")
        let got = try Support.starts(v.calendar, from: from, to: "24000101T000000Z", limit: expected.count - middle)
        #expect(got == Array(expected[middle...]))
    }
}
