import ArgumentParser
import CalendarModel
import Foundation
import Recurrence

/// `outboard ics expand FILE`: every instance of every item that overlaps a window, one JSON
/// object a line, in start order.
struct ExpandCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expand",
        abstract: "Print one JSON object per instance of every series and event that overlaps a window, sorted by start.",
        discussion: """
            WHEN is a date (2026-01-05, midnight in --zone or UTC) or an RFC 3339 date-time (2026-01-05T09:00:00+01:00). \
            Keys, in this order, each left out when it has no value: component, uid, recurrence-id, start, start-tzid, \
            start-utc, end, end-tzid, end-utc, all-day, override, status, transp, summary. \
            Exit status: 0 clean, 1 when the calendar had problems (listed on standard error), 2 for bad usage.
            """
    )
    @Argument(help: "An iCalendar file, or - for standard input.") var file: String
    @Option(help: ArgumentHelp("The window's start (default: today).", valueName: "when")) var from: String?
    @Option(help: ArgumentHelp("The window's end (default: a year after its start).", valueName: "when")) var to: String?
    @Option(help: ArgumentHelp("The zone floating and DATE values are placed in when the calendar has no X-WR-TIMEZONE.", valueName: "iana"))
    var zone: String?

    func validate() throws {
        if let zone, TimeZone(identifier: zone) == nil { throw ValidationError("--zone \(zone) is not a zone the system's time zone database knows") }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Self.instant(value, zone: zone) == nil {
                throw ValidationError("\(name) \(value) is neither a date (2026-01-05) nor an RFC 3339 date-time (2026-01-05T09:00:00Z)")
            }
        }
    }

    func run() throws {
        let input = try InputFile(file)
        let document = try input.parseICalendar()
        let start = from.flatMap { Self.instant($0, zone: zone) } ?? Self.today(zone: zone)
        let end = to.flatMap { Self.instant($0, zone: zone) } ?? start + 366 * 86_400
        guard end > start else { throw CommandExit.usage("the window is empty: --to must be after --from") }
        let expander = CalendarExpander(document: document, options: ExpansionOptions(floatingZone: zone ?? "UTC"))
        let writer = InstanceWriter(document: document, floatingPlaced: zone != nil || expander.floatingFromCalendar)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        var iterator = expander.instances(from: start, to: end)
        while let instance = iterator.next() {
            out += writer.json(instance).utf8
            out.append(0x0A)
            if out.count >= 1 << 16 {
                Console.current.write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        Console.current.write(out)
        input.print(document.diagnostics)
        for d in expander.diagnostics + iterator.diagnostics {
            Console.current.error(d.line > 0 ? "\(input.name):\(d.line): \(d.message)" : "\(input.name): \(d)")
        }
        if !document.diagnostics.isEmpty || !expander.diagnostics.isEmpty || !iterator.diagnostics.isEmpty { throw CommandExit.problems }
    }

    /// Midnight today in `zone` (or UTC), as epoch seconds.
    static func today(zone: String?) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        return Int64(calendar.startOfDay(for: Date()).timeIntervalSince1970)
    }

    /// A date (midnight in `zone`, or UTC) or an RFC 3339 date-time, as epoch seconds.
    static func instant(_ text: String, zone: String?) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), (1...31).contains(d) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            return calendar.date(from: DateComponents(year: y, month: m, day: d)).map { Int64($0.timeIntervalSince1970) }
        }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let date = f.date(from: text) { return Int64(date.timeIntervalSince1970) }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}

/// One line of `outboard ics expand`.
struct InstanceWriter {
    /// Tells which TZIDs name a zone (those that do not were read as floating, with a diagnostic).
    let zones: ZoneResolver
    let floatingPlaced: Bool

    init(document: ICalDocument, floatingPlaced: Bool) {
        zones = ZoneResolver(timezones: document.calendars.flatMap { $0.components.filter { $0.name == "VTIMEZONE" } }, calendarZone: nil,
                             options: ExpansionOptions())
        self.floatingPlaced = floatingPlaced
    }

    func json(_ i: RecurrenceInstance) -> String {
        var o = JSONObject()
        o["component"] = .string(i.componentName)
        if let uid = i.uid { o["uid"] = .string(uid) }
        if i.isOverride || i.source.component.property("RRULE") != nil || i.source.component.property("RDATE") != nil {
            o["recurrence-id"] = .string(i.writtenRecurrenceID.description)
        }
        add(&o, "start", i.writtenStart, offset: i.startOffset, utc: i.start)
        add(&o, "end", i.writtenEnd, offset: i.endOffset, utc: i.end)
        if i.isAllDay { o["all-day"] = .bool(true) }
        if i.isOverride { o["override"] = .bool(true) }
        if let s = i.status { o["status"] = .string(s) }
        if let t = i.transp { o["transp"] = .string(t) }
        if let s = i.summary { o["summary"] = .string(s) }
        return o.text
    }

    /// `start`/`end` as written, its TZID, and its UTC instant when the value is placed at one.
    func add(_ o: inout JSONObject, _ key: String, _ time: WrittenTime, offset: Int, utc: Int64) {
        switch time {
        case .date:
            o[key] = .string(RFC3339.written(time, offset: nil))
        case .dateTime(let dt, let tzid):
            let zoned = tzid.map { zones.zone(named: $0) != nil } ?? false
            o[key] = .string(RFC3339.written(time, offset: zoned ? offset : nil))
            if let tzid { o[key + "-tzid"] = .string(tzid) }
            if dt.isUTC || zoned || floatingPlaced { o[key + "-utc"] = .string(RFC3339.utc(utc)) }
        }
    }
}
