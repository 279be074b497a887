import ArgumentParser
import CalendarModel
import Foundation
import Recurrence

/// `outboard ics expand FILE`: every instance of every item that overlaps a window, one JSON
/// object a line, in start order.
struct ExpandCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expand",
        abstract:
            "Print one JSON object per instance of every series and event that overlaps a window, sorted by start.",
        discussion: """
            WHEN is a date (2026-01-05, midnight in --zone or UTC) or an RFC 3339 date-time (2026-01-05T09:00:00+01:00). \
            Keys, in this order, each left out when it has no value: component, uid, recurrence-id, start, start-tzid, \
            start-utc, end, end-tzid, end-utc, all-day, override, status, transp, summary. \
            Exit status: 0 clean, 1 when the calendar had problems (listed on standard error), 2 for bad usage.
            """
    )
    @Argument(help: "An iCalendar file, or - for standard input.") var file: String
    @Option(help: ArgumentHelp("The window's start (default: today).", valueName: "when")) var from: String?
    @Option(help: ArgumentHelp("The window's end (default: a year after its start).", valueName: "when")) var to:
        String?
    @Option(
        help: ArgumentHelp(
            "The zone floating and DATE values are placed in when the calendar has no X-WR-TIMEZONE.", valueName: "iana"
        ))
    var zone: String?

    func validate() throws {
        if let zone, TimeZone(identifier: zone) == nil {
            throw ValidationError("--zone \(zone) is not a zone the system's time zone database knows")
        }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Self.instant(value, zone: zone) == nil {
                throw ValidationError(
                    "\(name) \(value) is neither a date (2026-01-05) nor an RFC 3339 date-time (2026-01-05T09:00:00Z)")
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
            writer.append(instance, to: &out)
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
        if !document.diagnostics.isEmpty || !expander.diagnostics.isEmpty || !iterator.diagnostics.isEmpty {
            throw CommandExit.problems
        }
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
        if text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), (1...31).contains(d)
        {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
            return calendar.date(from: DateComponents(year: y, month: m, day: d)).map {
                Int64($0.timeIntervalSince1970)
            }
        }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let date = f.date(from: text) { return Int64(date.timeIntervalSince1970) }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}

/// The lines of `outboard ics expand`, written as bytes (a year of a large feed is tens of
/// thousands of lines).
final class InstanceWriter {
    /// Tells which TZIDs name a zone (those that do not were read as floating, with a diagnostic).
    let zones: ZoneResolver
    let floatingPlaced: Bool
    /// The last TZID asked about and its answer (a series asks the same one again and again).
    private var last: (tzid: String, known: Bool)?

    init(document: ICalDocument, floatingPlaced: Bool) {
        zones = ZoneResolver(
            timezones: document.calendars.flatMap { $0.components.filter { $0.name == "VTIMEZONE" } },
            calendarZone: nil,
            options: ExpansionOptions())
        self.floatingPlaced = floatingPlaced
    }

    /// The instance's JSON object, keys in their fixed order, absent values left out.
    func json(_ i: RecurrenceInstance) -> String {
        var out: [UInt8] = []
        append(i, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func append(_ i: RecurrenceInstance, to out: inout [UInt8]) {
        // The buffer moves into the line and back, so appending never copies it.
        var o = JSONLine(out: out)
        out = []
        o.string("component", i.componentName)
        if let uid = i.uid { o.string("uid", uid) }
        if i.isOverride || i.source.isRecurring {
            o.value("recurrence-id") { i.writtenRecurrenceID.appendICalendar(to: &$0) }
        }
        time(&o, "start", i.writtenStart, offset: i.startOffset, utc: i.start)
        time(&o, "end", i.writtenEnd, offset: i.endOffset, utc: i.end)
        if i.isAllDay { o.raw("all-day", "true") }
        if i.isOverride { o.raw("override", "true") }
        if let s = i.status { o.string("status", s) }
        if let t = i.transp { o.string("transp", t) }
        if let s = i.summary { o.string("summary", s) }
        out = o.finish()
    }

    func isKnown(_ tzid: String) -> Bool {
        if let last, last.tzid == tzid { return last.known }
        let known = zones.zone(named: tzid) != nil
        last = (tzid, known)
        return known
    }

    /// `start`/`end` as written, its TZID, and its UTC instant when the value is placed at one.
    func time(_ o: inout JSONLine, _ key: String, _ time: WrittenTime, offset: Int, utc: Int64) {
        switch time {
        case .date:
            o.value(key) { RFC3339.appendWritten(time, offset: nil, to: &$0) }
        case .dateTime(let dt, let tzid):
            let zoned = tzid.map(isKnown) ?? false
            o.value(key) { RFC3339.appendWritten(time, offset: zoned ? offset : nil, to: &$0) }
            if let tzid { o.string(key + "-tzid", tzid) }
            if dt.isUTC || zoned || floatingPlaced { o.value(key + "-utc") { RFC3339.appendUTC(utc, to: &$0) } }
        }
    }
}

/// One JSON object on one line, appended to a byte buffer (RFC 8259; strings escaped byte by byte).
struct JSONLine {
    private var out: [UInt8]
    private var first = true

    init(out: [UInt8]) {
        self.out = out
    }

    mutating func string(_ key: String, _ value: String) {
        self.key(key)
        Self.quote(value, to: &out)
    }

    /// A value written as is (`true`, a number).
    mutating func raw(_ key: String, _ value: StaticString) {
        self.key(key)
        value.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// A string value whose bytes `write` appends (they need no escaping).
    mutating func value(_ key: String, _ write: (inout [UInt8]) -> Void) {
        self.key(key)
        out.append(UInt8(ascii: "\""))
        write(&out)
        out.append(UInt8(ascii: "\""))
    }

    mutating func finish() -> [UInt8] {
        out.append(UInt8(ascii: first ? "{" : "}"))
        if first { out.append(UInt8(ascii: "}")) }
        return out
    }

    private mutating func key(_ key: String) {
        out.append(UInt8(ascii: first ? "{" : ","))
        first = false
        Self.quote(key, to: &out)
        out.append(UInt8(ascii: ":"))
    }

    static func quote(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escaping: their bytes go in at once.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array("\\u00".utf8)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static let hex = Array("0123456789abcdef".utf8)
}
