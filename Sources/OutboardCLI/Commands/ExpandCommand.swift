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
        defer { Console.current.keepUntilExit((document, expander, writer, iterator)) }
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
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let date = f.date(from: text) { return Int64(date.timeIntervalSince1970) }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}

extension ExpandCommand {
    /// The usual shapes of `instant` read without Foundation's formatters (which load ICU's
    /// calendars: a few milliseconds of a command that takes about a hundred): a date in UTC
    /// (`2026-01-05`) and an RFC 3339 date-time without fractions. Anything else is nil.
    static func plainInstant(_ text: String, zone: String?) -> Int64? {
        if text.utf8.count == 10 { return zone == nil ? RFC3339.instant(text + "T00:00:00Z") : nil }
        return RFC3339.instant(text)
    }
}

/// The lines of `outboard ics expand`, written as bytes (a year of a large feed is tens of
/// thousands of lines). What the lines of one source (master or override) share, its
/// component, UID, TZID, status, transparency and summary, is rendered once per source.
final class InstanceWriter {
    /// Tells which TZIDs name a zone (those that do not were read as floating, with a diagnostic).
    let zones: ZoneResolver
    let floatingPlaced: Bool
    private var rendered: [ObjectIdentifier: Rendered] = [:]

    /// A source's part of its instances' lines (a class: a line takes one reference, not three).
    private final class Rendered {
        /// Kept so that its identifier, the key of `rendered`, cannot be reused by another source.
        let source: InstanceSource
        /// `{"component":…` and the UID.
        let head: [UInt8]
        /// The quoted TZID of the start and end, if they have one.
        let tzid: [UInt8]?
        /// Whether the TZID names a known zone (the times then carry its offset).
        let isZoned: Bool
        /// Status, transparency and summary.
        let tail: [UInt8]

        init(source: InstanceSource, head: [UInt8], tzid: [UInt8]?, isZoned: Bool, tail: [UInt8]) {
            self.source = source
            self.head = head
            self.tzid = tzid
            self.isZoned = isZoned
            self.tail = tail
        }
    }

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
        let r = rendering(i)
        out.append(contentsOf: r.head)
        if i.isOverride || i.source.isRecurring {
            JSONLine.key("recurrence-id", to: &out)
            JSONLine.quoted(to: &out) { i.writtenRecurrenceID.appendICalendar(to: &$0) }
        }
        time(&out, "start", "start-tzid", "start-utc", i.writtenStart, r, offset: i.startOffset, utc: i.start)
        time(&out, "end", "end-tzid", "end-utc", i.writtenEnd, r, offset: i.endOffset, utc: i.end)
        if i.isAllDay { JSONLine.key("all-day", value: "true", to: &out) }
        if i.isOverride { JSONLine.key("override", value: "true", to: &out) }
        out.append(contentsOf: r.tail)
        out.append(UInt8(ascii: "}"))
    }

    private func rendering(_ i: RecurrenceInstance) -> Rendered {
        let source = i.source
        if let r = rendered[ObjectIdentifier(source)] { return r }
        var head: [UInt8] = [UInt8(ascii: "{")]
        JSONLine.quote("component", to: &head)
        head.append(UInt8(ascii: ":"))
        JSONLine.quote(source.componentName, to: &head)
        if let uid = source.uid { JSONLine.string("uid", uid, to: &head) }
        var tail: [UInt8] = []
        if let s = source.status { JSONLine.string("status", s, to: &tail) }
        if let t = source.transp { JSONLine.string("transp", t, to: &tail) }
        if let s = source.summary { JSONLine.string("summary", s, to: &tail) }
        let tzid = i.tzid.map { t -> [UInt8] in
            var quoted: [UInt8] = []
            JSONLine.quote(t, to: &quoted)
            return quoted
        }
        let r = Rendered(
            source: source, head: head, tzid: tzid, isZoned: i.tzid.map { zones.zone(named: $0) != nil } ?? false,
            tail: tail)
        rendered[ObjectIdentifier(source)] = r
        return r
    }

    /// `start`/`end` as written, its TZID, and its UTC instant when the value is placed at one.
    private func time(
        _ out: inout [UInt8], _ key: StaticString, _ tzidKey: StaticString, _ utcKey: StaticString,
        _ time: WrittenTime, _ r: Rendered, offset: Int, utc: Int64
    ) {
        JSONLine.key(key, to: &out)
        switch time {
        case .date:
            JSONLine.quoted(to: &out) { RFC3339.appendWritten(time, offset: nil, to: &$0) }
        case .dateTime(let dt, _):
            JSONLine.quoted(to: &out) { RFC3339.appendWritten(time, offset: r.isZoned ? offset : nil, to: &$0) }
            if let tzid = r.tzid {
                JSONLine.key(tzidKey, to: &out)
                out.append(contentsOf: tzid)
            }
            if dt.isUTC || r.isZoned || floatingPlaced {
                JSONLine.key(utcKey, to: &out)
                JSONLine.quoted(to: &out) { RFC3339.appendUTC(utc, to: &$0) }
            }
        }
    }
}

/// Pieces of a JSON object on one line, appended to a byte buffer (RFC 8259; strings escaped
/// byte by byte). Every member but the first (which opens the object) starts with a comma.
enum JSONLine {
    /// `,"key":` (the keys are ours and need no escaping).
    static func key(_ key: StaticString, to out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    /// `,"key":value` with a value written as is (`true`, a number).
    static func key(_ key: StaticString, value: StaticString, to out: inout [UInt8]) {
        self.key(key, to: &out)
        value.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// `,"key":"value"`, the value escaped.
    static func string(_ key: StaticString, _ value: String, to out: inout [UInt8]) {
        self.key(key, to: &out)
        quote(value, to: &out)
    }

    /// A string whose bytes `write` appends (they need no escaping), in quotes.
    static func quoted(to out: inout [UInt8], _ write: (inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "\""))
        write(&out)
        out.append(UInt8(ascii: "\""))
    }

    static func quote(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            // Runs of bytes that need no escaping (most strings are one run) go in at once.
            var run = 0
            for i in bytes.indices
            where bytes[i] < 0x20 || bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "\\") {
                out.append(contentsOf: bytes[run..<i])
                escape(bytes[i], to: &out)
                run = i + 1
            }
            out.append(contentsOf: bytes[run...])
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func escape(_ b: UInt8, to out: inout [UInt8]) {
        switch b {
        case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        case 0..<0x20:
            out += Array("\\u00".utf8)
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        default: out += [UInt8(ascii: "\\"), b]
        }
    }

    static let hex = Array("0123456789abcdef".utf8)
}
