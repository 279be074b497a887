/// Writes typed values in their iCalendar (RFC 5545) text form, appending UTF-8 bytes.
public enum ValueFormatter {
    /// The iCalendar text of one value, escaped as its property needs.
    public static func icalString(_ value: ICalValue) -> String {
        var out = [UInt8]()
        append(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func append(_ value: ICalValue, to out: inout [UInt8]) {
        switch value {
        case .text(let s): appendEscapedText(s, to: &out)
        case .binary(let s), .uri(let s), .calAddress(let s), .unknown(let s): out.append(contentsOf: s.utf8)
        case .boolean(let b): out.append(contentsOf: (b ? "TRUE" : "FALSE").utf8)
        case .date(let d): appendDate(d, to: &out)
        case .dateTime(let dt): appendDateTime(dt, to: &out)
        case .time(let t): appendTime(t, to: &out)
        case .duration(let d): appendDuration(d, to: &out)
        case .float(let f): out.append(contentsOf: formatFloat(f).utf8)
        case .integer(let i): out.append(contentsOf: String(i).utf8)
        case .period(let p):
            appendDateTime(p.start, to: &out)
            out.append(ASCII.slash)
            switch p.end {
            case .dateTime(let e): appendDateTime(e, to: &out)
            case .duration(let d): appendDuration(d, to: &out)
            }
        case .recur(let r): out.append(contentsOf: recurString(r).utf8)
        case .utcOffset(let o): out.append(contentsOf: utcOffsetString(o).utf8)
        case .geo(let g):
            out.append(contentsOf: formatFloat(g.latitude).utf8)
            out.append(ASCII.semicolon)
            out.append(contentsOf: formatFloat(g.longitude).utf8)
        case .requestStatus(let r):
            out.append(contentsOf: r.code.utf8)
            out.append(ASCII.semicolon)
            appendEscapedText(r.description, to: &out)
            if let data = r.data {
                out.append(ASCII.semicolon)
                appendEscapedText(data, to: &out)
            }
        }
    }

    /// TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newline. Runs between
    /// the bytes that need escaping are copied whole.
    static func appendEscapedText(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { b in
            var run = 0
            var i = 0
            while i < b.count {
                // Eight bytes at a time while none of them needs escaping.
                while i + 8 <= b.count {
                    let w = SWAR.load(b, i)
                    if SWAR.hasControl(w) | SWAR.matches(w, ASCII.backslash) | SWAR.matches(w, ASCII.semicolon)
                        | SWAR.matches(w, ASCII.comma) != 0
                    {
                        break
                    }
                    i += 8
                }
                guard i < b.count else { break }
                let c = b[i]
                if c == ASCII.backslash || c == ASCII.semicolon || c == ASCII.comma || c == ASCII.lf || c == ASCII.cr {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
                    run = i + 1
                    switch c {
                    case ASCII.lf:
                        // After a CR the newline was already written: CRLF is one newline.
                        if i == 0 || b[i - 1] != ASCII.cr {
                            out.append(ASCII.backslash)
                            out.append(0x6E)
                        }
                    case ASCII.cr:
                        // iCalendar cannot carry a CR inside TEXT: CRLF and a lone CR both become \n.
                        out.append(ASCII.backslash)
                        out.append(0x6E)
                    default:
                        out.append(ASCII.backslash)
                        out.append(c)
                    }
                }
                i += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<b.count]))
        }
    }

    @inline(__always) private static func pad(_ v: Int, _ width: Int, to out: inout [UInt8]) {
        var digits: [UInt8] = []
        var n = abs(v)
        repeat {
            digits.append(UInt8(n % 10) + ASCII.zero)
            n /= 10
        } while n > 0
        if v < 0 { out.append(ASCII.minus) }
        for _ in digits.count..<max(width, digits.count) { out.append(ASCII.zero) }
        out.append(contentsOf: digits.reversed())
    }

    @inline(__always) private static func two(_ v: UInt8, to out: inout [UInt8]) {
        out.append(ASCII.zero + v / 10)
        out.append(ASCII.zero + v % 10)
    }

    static func appendDate(_ d: ICalDate, to out: inout [UInt8]) {
        if d.year >= 0 && d.year <= 9999 {
            let y = Int(d.year)
            out.append(ASCII.zero + UInt8(y / 1000))
            out.append(ASCII.zero + UInt8(y / 100 % 10))
            out.append(ASCII.zero + UInt8(y / 10 % 10))
            out.append(ASCII.zero + UInt8(y % 10))
        } else {
            pad(Int(d.year), 4, to: &out)
        }
        two(d.month, to: &out)
        two(d.day, to: &out)
    }

    static func appendTime(_ t: ICalTime, to out: inout [UInt8]) {
        two(t.hour, to: &out)
        two(t.minute, to: &out)
        two(t.second, to: &out)
        if t.isUTC { out.append(0x5A) }
    }

    static func appendDateTime(_ dt: ICalDateTime, to out: inout [UInt8]) {
        appendDate(dt.date, to: &out)
        out.append(0x54)
        appendTime(dt.time, to: &out)
    }

    static func appendDuration(_ d: ICalDuration, to out: inout [UInt8]) {
        out.append(contentsOf: durationString(d).utf8)
    }

    /// `P1W`, `-PT15M`, `P1DT2H`; `PT0S` for zero.
    public static func durationString(_ d: ICalDuration) -> String {
        var s = d.isNegative ? "-P" : "P"
        if d.weeks != 0 { s += "\(d.weeks)W" }
        if d.days != 0 { s += "\(d.days)D" }
        if d.hours != 0 || d.minutes != 0 || d.seconds != 0 {
            s += "T"
            if d.hours != 0 { s += "\(d.hours)H" }
            if d.minutes != 0 { s += "\(d.minutes)M" }
            if d.seconds != 0 { s += "\(d.seconds)S" }
        }
        if s.hasSuffix("P") { s += "T0S" }
        return s
    }

    /// `+0100`, `-0500`, `+053000`.
    public static func utcOffsetString(_ o: ICalUTCOffset) -> String {
        let total = Int(o.seconds)
        let sign = total < 0 || o.isNegativeZero ? "-" : "+"
        let a = abs(total)
        var s = sign + two(a / 3600) + two(a / 60 % 60)
        if a % 60 != 0 { s += two(a % 60) }
        return s
    }

    private static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    /// Floats without an exponent and without a trailing `.0` (RFC 5545 §3.3.7 has no exponent).
    public static func formatFloat(_ f: Double) -> String {
        if f == f.rounded(), abs(f) < 1e15 { return String(Int(f)) }
        let s = "\(f)"
        if !s.contains("e") { return s }
        // Tiny or huge magnitudes: print with enough fixed digits.
        var digits = 17
        var out = ""
        while digits > 0 {
            out = fixed(f, digits)
            if Double(out) == f { break }
            digits -= 1
        }
        return out
    }

    private static func fixed(_ f: Double, _ fractionDigits: Int) -> String {
        let negative = f < 0
        let a = abs(f)
        var scaled = a
        for _ in 0..<fractionDigits { scaled *= 10 }
        let n = UInt64(min(scaled.rounded(), Double(UInt64.max / 2)))
        var digits = String(n)
        while digits.count <= fractionDigits { digits = "0" + digits }
        let cut = digits.index(digits.endIndex, offsetBy: -fractionDigits)
        var frac = String(digits[cut...])
        while frac.hasSuffix("0") { frac.removeLast() }
        let whole = String(digits[..<cut])
        return (negative ? "-" : "") + whole + (frac.isEmpty ? "" : "." + frac)
    }

    /// A recurrence rule in RFC 5545 form, parts in RFC 6321's order, unknown parts last.
    public static func recurString(_ r: ICalRecur) -> String {
        var parts = ["FREQ=\(r.freq)"]
        if let u = r.until {
            var b = [UInt8]()
            switch u {
            case .date(let d): appendDate(d, to: &b)
            case .dateTime(let dt): appendDateTime(dt, to: &b)
            }
            parts.append("UNTIL=" + String(decoding: b, as: UTF8.self))
        }
        if let c = r.count { parts.append("COUNT=\(c)") }
        if let i = r.interval { parts.append("INTERVAL=\(i)") }
        func list(_ name: String, _ v: [Int]) {
            if !v.isEmpty { parts.append(name + "=" + v.map(String.init).joined(separator: ",")) }
        }
        list("BYSECOND", r.bySecond)
        list("BYMINUTE", r.byMinute)
        list("BYHOUR", r.byHour)
        if !r.byDay.isEmpty { parts.append("BYDAY=" + r.byDay.joined(separator: ",")) }
        list("BYMONTHDAY", r.byMonthDay)
        list("BYYEARDAY", r.byYearDay)
        list("BYWEEKNO", r.byWeekNo)
        list("BYMONTH", r.byMonth)
        list("BYSETPOS", r.bySetPos)
        if let w = r.wkst { parts.append("WKST=\(w)") }
        for e in r.extensions { parts.append("\(e.name)=\(e.value)") }
        return parts.joined(separator: ";")
    }
}
