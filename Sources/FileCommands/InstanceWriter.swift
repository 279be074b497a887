import CalendarModel
import Recurrence

/// The lines of `outboard ics expand`, written as bytes (a year of a large feed is tens of
/// thousands of lines). What the lines of one source (master or override) share, its
/// component, UID, TZID, status, transparency and summary, is rendered once per source; the
/// times are written digit by digit from the instance's numbers (wall-clock and UTC seconds).
struct InstanceWriter {
    /// Tells which TZIDs name a zone (those that do not were read as floating, with a diagnostic).
    let zones: ZoneResolver
    let floatingPlaced: Bool
    private var rendered: [ObjectIdentifier: Rendered] = [:]
    /// The day number last turned into a date, and that date: a line's five times mostly fall
    /// on one or two days.
    private var lastDay = Int.min
    private var lastDate = (year: 0, month: 0, day: 0)

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

    /// The keys of a start or an end, each with the punctuation around it.
    private struct TimeKeys {
        /// `,"start":"`
        var value: StaticString
        /// `,"start-tzid":` (the TZID comes quoted)
        var tzid: StaticString
        /// `,"start-utc":"`
        var utc: StaticString

        static let start = TimeKeys(value: #","start":""#, tzid: #","start-tzid":"#, utc: #","start-utc":""#)
        static let end = TimeKeys(value: #","end":""#, tzid: #","end-tzid":"#, utc: #","end-utc":""#)
    }

    init(document: ICalDocument, floatingPlaced: Bool) {
        zones = ZoneResolver(
            timezones: document.calendars.flatMap { $0.components.filter { $0.name == "VTIMEZONE" } },
            calendarZone: nil,
            options: ExpansionOptions())
        self.floatingPlaced = floatingPlaced
    }

    /// The instances' lines.
    mutating func append(_ instances: some Sequence<RecurrenceInstance>, to out: inout OutputBytes) {
        for instance in instances { append(instance, to: &out) }
    }

    /// The instance's JSON object, keys in their fixed order, absent values left out, and a newline.
    mutating func append(_ i: RecurrenceInstance, to out: inout OutputBytes) {
        let r = rendering(i)
        out.append(r.head)
        if i.isOverride || i.source.isRecurring {
            out.append(#","recurrence-id":""#)
            appendICalendar(i.localRecurrenceID, i.source.recurrenceForm, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        appendTime(i.localStart, utc: i.start, i.source.form, r, .start, to: &out)
        appendTime(i.localEnd, utc: i.end, i.source.form, r, .end, to: &out)
        if i.isAllDay { out.append(#","all-day":true"#) }
        if i.isOverride { out.append(#","override":true"#) }
        out.append(r.tail)
        out.append("}\n")
    }

    /// A start or an end as written (RFC 3339; a zoned time with its offset), its TZID, and its
    /// UTC instant when the value is placed at one.
    private mutating func appendTime(
        _ local: Int64, utc: Int64, _ form: TimeForm, _ r: Rendered, _ keys: TimeKeys, to out: inout OutputBytes
    ) {
        out.append(keys.value)
        if form.isDate {
            appendRFC3339(local, dateOnly: true, to: &out)
            out.append(UInt8(ascii: "\""))
            return
        }
        appendRFC3339(local, dateOnly: false, to: &out)
        if form.isUTC {
            out.append(UInt8(ascii: "Z"))
        } else if r.isZoned {
            let offset = Int(local - utc)
            let minutes = abs(offset) / 60
            out.append(UInt8(ascii: offset < 0 ? "-" : "+"))
            appendDigits(minutes / 60, 2, to: &out)
            out.append(UInt8(ascii: ":"))
            appendDigits(minutes % 60, 2, to: &out)
        }
        out.append(UInt8(ascii: "\""))
        if let tzid = r.tzid {
            out.append(keys.tzid)
            out.append(tzid)
        }
        if form.isUTC || r.isZoned || floatingPlaced {
            out.append(keys.utc)
            appendRFC3339(utc, dateOnly: false, to: &out)
            out.append("Z\"")
        }
    }

    /// `2026-01-05T09:00:00` (or `2026-01-05`) of wall-clock seconds.
    private mutating func appendRFC3339(_ seconds: Int64, dateOnly: Bool, to out: inout OutputBytes) {
        let (day, secondOfDay) = split(seconds)
        let date = self.date(ofDay: day)
        appendDigits(date.year, 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(date.month, 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(date.day, 2, to: &out)
        guard !dateOnly else { return }
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, 2, to: &out)
    }

    /// The iCalendar form of wall-clock seconds written in `form`: `20260105`, `20260105T090000`
    /// or `20260105T090000Z` (as `WrittenTime` writes it).
    private mutating func appendICalendar(_ seconds: Int64, _ form: TimeForm, to out: inout OutputBytes) {
        let (day, secondOfDay) = split(seconds)
        let date = self.date(ofDay: day)
        appendDigits(date.year, 4, to: &out)
        appendDigits(date.month, 2, to: &out)
        appendDigits(date.day, 2, to: &out)
        guard !form.isDate else { return }
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, 2, to: &out)
        appendDigits(secondOfDay / 60 % 60, 2, to: &out)
        appendDigits(secondOfDay % 60, 2, to: &out)
        if form.isUTC { out.append(UInt8(ascii: "Z")) }
    }

    /// The day number (days since 1970-01-01) and the second of that day.
    private func split(_ seconds: Int64) -> (day: Int, secondOfDay: Int) {
        let day = (seconds >= 0 ? seconds : seconds - 86_399) / 86_400
        return (Int(day), Int(seconds - day * 86_400))
    }

    private mutating func date(ofDay day: Int) -> (year: Int, month: Int, day: Int) {
        if day != lastDay {
            lastDay = day
            lastDate = RFC3339.date(ofDay: day)
        }
        return lastDate
    }

    /// `n` zero-padded to `width` digits: the usual two- and four-digit cases here, the rest
    /// (years before 1000 or after 9999) as `RFC3339` writes them.
    @inline(__always)
    private func appendDigits(_ n: Int, _ width: Int, to out: inout OutputBytes) {
        let zero = UInt8(ascii: "0")
        if width == 2 && n >= 0 && n < 100 {
            out.append(zero + UInt8(n / 10))
            out.append(zero + UInt8(n % 10))
        } else if width == 4 && n >= 1000 && n < 10_000 {
            out.append(zero + UInt8(n / 1000))
            out.append(zero + UInt8(n / 100 % 10))
            out.append(zero + UInt8(n / 10 % 10))
            out.append(zero + UInt8(n % 10))
        } else {
            appendOtherDigits(n, width, to: &out)
        }
    }

    private func appendOtherDigits(_ n: Int, _ width: Int, to out: inout OutputBytes) {
        var digits: [UInt8] = []
        RFC3339.appendDigits(n, width, to: &digits)
        out.append(digits)
    }

    private mutating func rendering(_ i: RecurrenceInstance) -> Rendered {
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
}

/// Pieces of a JSON object on one line, appended to a byte buffer (RFC 8259; strings escaped
/// byte by byte). Every member but the first (which opens the object) starts with a comma.
enum JSONLine {
    /// `,"key":"value"`, the value escaped (the keys are ours and need no escaping).
    static func string(_ key: StaticString, _ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
        quote(value, to: &out)
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
