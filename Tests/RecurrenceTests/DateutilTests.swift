import Foundation
import Testing
@testable import Recurrence

/// Expectations computed by python-dateutil with zoneinfo (`Fixtures/make-dateutil-expectations.py`
/// wrote `Fixtures/dateutil-expectations.json`): an implementation that shares no code with ours.
struct DateutilCase: Decodable, Sendable, CustomStringConvertible {
    var name: String
    var tzid: String
    var dtstart: String
    var rrule: String
    var utc: [String]

    var description: String { name }

    static let all: [DateutilCase] = {
        guard let text = try? Support.fixture("dateutil-expectations.json") else { return [] }
        return (try? JSONDecoder().decode([DateutilCase].self, from: Data(text.utf8))) ?? []
    }()
}

struct DateutilTests {
    @Test("every dateutil case was read")
    func casesWereRead() {
        #expect(DateutilCase.all.count == 14)
    }

    @Test("each rule gives the instants dateutil gives", arguments: DateutilCase.all)
    func sameAsDateutil(_ c: DateutilCase) throws {
        let start = c.tzid == "UTC" ? "DTSTART:\(c.dtstart)Z" : "DTSTART;TZID=\(c.tzid):\(c.dtstart)"
        let text = Support.calendar(Support.event([start, "RRULE:\(c.rrule)"]))
        #expect(try Support.utcStarts(text, from: "19000101T000000Z", to: "22000101T000000Z") == c.utc)
    }
}
