import CalendarModel
import Foundation
@testable import Recurrence

/// Helpers shared by the tests: fixtures, calendars built from a few lines, and expansion into
/// written forms that read like the feed.
enum Support {
    static func fixture(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw FixtureMissing(name: name)
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    struct FixtureMissing: Error { var name: String }

    /// A VCALENDAR around the given lines (components and calendar properties), with CRLF.
    static func calendar(_ lines: [String]) -> String {
        (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Outboard//Recurrence tests//EN"] + lines + ["END:VCALENDAR"])
            .joined(separator: "\r\n") + "\r\n"
    }

    /// A VEVENT with UID `test` and the given property lines.
    static func event(_ lines: [String], uid: String = "test") -> [String] {
        ["BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20260101T000000Z"] + lines + ["END:VEVENT"]
    }

    static func expander(_ text: String, options: ExpansionOptions = ExpansionOptions()) throws -> CalendarExpander {
        CalendarExpander(document: try ICalParser().parse(text), options: options)
    }

    /// UTC epoch seconds of `YYYYMMDDTHHMMSSZ` (or a DATE, at midnight UTC).
    static func utc(_ s: String) -> Int64 {
        switch ICalValue.parse(s, as: .dateTime) ?? ICalValue.parse(s, as: .date) {
        case .dateTime(let dt)?: return Civil.seconds(dt)
        case .date(let d)?: return Civil.seconds(d)
        default: return 0
        }
    }

    /// `YYYYMMDDTHHMMSSZ` of UTC epoch seconds.
    static func utcText(_ t: Int64) -> String {
        WrittenTime(local: t, form: TimeForm(isDate: false, isUTC: true, tzid: nil)).description
    }

    /// Instances of a calendar text in a window, as written starts (`20260105T090000`).
    static func starts(
        _ text: String, from: String = "19000101T000000Z", to: String = "22000101T000000Z",
        limit: Int = .max, options: ExpansionOptions = ExpansionOptions()
    ) throws -> [String] {
        let e = try expander(text, options: options)
        return e.instances(from: utc(from), to: utc(to)).prefix(limit).map(\.writtenStart.description)
    }

    /// Instances of a calendar text in a window, as UTC start texts.
    static func utcStarts(
        _ text: String, from: String = "19000101T000000Z", to: String = "22000101T000000Z",
        options: ExpansionOptions = ExpansionOptions()
    ) throws -> [String] {
        let e = try expander(text, options: options)
        return e.instances(from: utc(from), to: utc(to)).map { utcText($0.start) }
    }
}
