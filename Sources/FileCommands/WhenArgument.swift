#if canImport(FoundationEssentials)
    import FoundationEssentials
    import FoundationInternationalization  // the zones of --zone (see FoundationZoneDatabase)
#else
    import Foundation
#endif
import Recurrence

/// A WHEN argument (`--from`, `--to` of `ics expand` and `verify`): a date (midnight in a zone,
/// or UTC) or an RFC 3339 date-time.
package enum WhenArgument {
    /// Midnight today in `zone` (or UTC), as epoch seconds.
    package static func today(zone: String?) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        return Int64(calendar.startOfDay(for: Date()).timeIntervalSince1970)
    }

    /// A date (midnight in `zone`, or UTC) or an RFC 3339 date-time, as epoch seconds.
    package static func instant(_ text: String, zone: String?) -> Int64? {
        if let seconds = plainInstant(text, zone: zone) { return seconds }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            return calendar.date(from: DateComponents(year: y, month: m, day: d)).map {
                Int64($0.timeIntervalSince1970)
            }
        }
        for fractions in [false, true] {
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: fractions).parse(text) {
                return Int64(date.timeIntervalSince1970.rounded(.down))
            }
        }
        return nil
    }

    /// The usual shapes of `instant` read without Foundation's formatters (which load ICU's
    /// calendars: a few milliseconds of a command that takes about a hundred): a date in UTC
    /// (`2026-01-05`) and an RFC 3339 date-time without fractions. Anything else is nil.
    package static func plainInstant(_ text: String, zone: String?) -> Int64? {
        if text.utf8.count == 10 { return zone == nil ? RFC3339.instant(text + "T00:00:00Z") : nil }
        return RFC3339.instant(text)
    }
}
