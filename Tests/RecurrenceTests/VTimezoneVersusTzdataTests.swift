import CalendarModel
import Testing
@testable import Recurrence

/// The embedded-VTIMEZONE path (our own recurrence engine over STANDARD/DAYLIGHT) against tzdata
/// for the same zones. The VTIMEZONEs carry today's rules only, so each zone is compared over the
/// years those rules held: Berlin (EU rules since 1996) over 2000–2040, New York (US rules since
/// 2007) over 2007–2040, Sydney (rules since 2008) over 2008–2040.
struct VTimezoneVersusTzdataTests {
    struct Pair: Sendable, CustomStringConvertible {
        var embedded: String
        var iana: String
        var fromYear: Int
        var description: String { "\(embedded) vs \(iana) from \(fromYear)" }
    }

    static let pairs = [
        Pair(embedded: "Test/Berlin", iana: "Europe/Berlin", fromYear: 2000),
        Pair(embedded: "Test/New_York", iana: "America/New_York", fromYear: 2007),
        Pair(embedded: "Test/Sydney", iana: "Australia/Sydney", fromYear: 2008),
        Pair(embedded: "Southern Custom Time", iana: "Australia/Sydney", fromYear: 2008),
    ]

    static func zones() throws -> [ICalComponent] {
        let doc = try ICalParser().parse(try Support.fixture("zones-current-rules.ics"))
        return doc.calendars.flatMap(\.components)
    }

    @Test("the same transitions and the same local-time readings as tzdata, through 2040", arguments: pairs)
    func sameAsTzdata(_ p: Pair) throws {
        let resolver = ZoneResolver(timezones: try Self.zones(), calendarZone: nil, options: ExpansionOptions())
        let embedded = try #require(resolver.zone(named: p.embedded))
        let tzdata = try #require(resolver.zone(named: p.iana))
        #expect(embedded.source == .vtimezone)
        #expect(tzdata.source == .database(p.iana))
        let from = Civil.seconds(year: p.fromYear, month: 1, day: 1)
        let to = Civil.seconds(year: 2041, month: 1, day: 1)
        func transitions(_ z: ZoneRules) -> [String] {
            z.transitions.indices.filter { z.transitions[$0] >= from && z.transitions[$0] < to }
                .map { "\(Support.utcText(z.transitions[$0])) \(z.offsets[$0 + 1])" }
        }
        let expected = transitions(tzdata)
        #expect(expected.count == 2 * (2041 - p.fromYear))
        #expect(transitions(embedded) == expected)
        // Every day, every half hour between 00:00 and 04:00 local (where gaps and overlaps fall),
        // and noon: the same instant from both.
        var mismatches: [String] = []
        var local = from
        while local < to {
            for minutes in stride(from: 0, through: 240, by: 30) + [720] {
                let t = local + Int64(minutes * 60)
                if embedded.utc(fromLocal: t) != tzdata.utc(fromLocal: t) { mismatches.append(Support.utcText(t)) }
            }
            local += 86_400
        }
        #expect(mismatches.isEmpty)
    }
}
