import CalendarModel

/// Instants and written times as RFC 3339 text (`2026-01-05T09:00:00+01:00`, `…Z`, a floating
/// `2026-01-05T09:00:00`, a date `2026-01-05`), written as bytes without Foundation's formatters:
/// an expansion prints one or more per instance.
public enum RFC3339 {
    /// The UTC date-time of epoch seconds, with `Z`.
    public static func utc(_ seconds: Int64) -> String {
        var out: [UInt8] = []
        appendUTC(seconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A written time: a date, a UTC date-time with `Z`, a local one with `offset` (seconds east
    /// of UTC) when it is placed in a zone, or floating (no offset) when `offset` is nil.
    public static func written(_ time: WrittenTime, offset: Int?) -> String {
        var out: [UInt8] = []
        appendWritten(time, offset: offset, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `utc(seconds)`'s bytes.
    public static func appendUTC(_ seconds: Int64, to out: inout [UInt8]) {
        let p = Civil.parts(ofSeconds: seconds)
        appendDateTime(p.year, p.month, p.day, p.hour, p.minute, p.second, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Appends `written(time, offset:)`'s bytes.
    public static func appendWritten(_ time: WrittenTime, offset: Int?, to out: inout [UInt8]) {
        switch time {
        case .date(let d):
            appendDate(Int(d.year), Int(d.month), Int(d.day), to: &out)
        case .dateTime(let dt, _):
            appendDateTime(
                Int(dt.date.year), Int(dt.date.month), Int(dt.date.day), Int(dt.time.hour), Int(dt.time.minute),
                Int(dt.time.second), to: &out)
            if dt.isUTC {
                out.append(UInt8(ascii: "Z"))
            } else if let offset {
                let minutes = abs(offset) / 60
                out.append(UInt8(ascii: offset < 0 ? "-" : "+"))
                appendDigits(minutes / 60, 2, to: &out)
                out.append(UInt8(ascii: ":"))
                appendDigits(minutes % 60, 2, to: &out)
            }
        }
    }

    /// The instant of an RFC 3339 date-time without fractions of a second, in UTC
    /// (`2026-01-05T09:00:00Z`) or with an offset (`2026-01-05T09:00:00+01:00`); nil for any
    /// other text, or an impossible date or time.
    public static func instant(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var n = 0
            for i in range {
                guard b[i] >= UInt8(ascii: "0") && b[i] <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(b[i] - UInt8(ascii: "0"))
            }
            return n
        }
        guard b.count == 20 || b.count == 25, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let y = number(0..<4), let m = number(5..<7), let d = number(8..<10),
            let h = number(11..<13), let mi = number(14..<16), let s = number(17..<19),
            (1...12).contains(m), d >= 1, d <= Civil.daysInMonth(year: y, month: m), h < 24, mi < 60, s < 60
        else { return nil }
        let local = seconds(year: y, month: m, day: d, hour: h, minute: mi, second: s)
        if b.count == 20 { return b[19] == UInt8(ascii: "Z") ? local : nil }
        guard b[19] == UInt8(ascii: "+") || b[19] == UInt8(ascii: "-"), b[22] == UInt8(ascii: ":"),
            let oh = number(20..<22), let om = number(23..<25), oh < 24, om < 60
        else { return nil }
        let offset = Int64(oh * 3600 + om * 60)
        return b[19] == UInt8(ascii: "+") ? local - offset : local + offset
    }

    /// Epoch seconds of a date and time read as UTC.
    public static func seconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0)
        -> Int64
    {
        Civil.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// The date of a day number (days since 1970-01-01; negative before it), proleptic Gregorian.
    public static func date(ofDay day: Int) -> (year: Int, month: Int, day: Int) {
        Civil.date(fromDays: day)
    }

    static func appendDate(_ y: Int, _ m: Int, _ d: Int, to out: inout [UInt8]) {
        appendDigits(y, 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(m, 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(d, 2, to: &out)
    }

    static func appendDateTime(_ y: Int, _ m: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int, to out: inout [UInt8]) {
        appendDate(y, m, d, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(h, 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(mi, 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(s, 2, to: &out)
    }

    /// `n` in decimal, zero-padded to `width` (a negative year gets its sign first); no
    /// allocation, since an expansion writes several per instance.
    public static func appendDigits(_ n: Int, _ width: Int, to out: inout [UInt8]) {
        let zero = UInt8(ascii: "0")
        // The usual cases (months, days, times; years 1000-9999), digit by digit.
        if width == 2 && n >= 0 && n < 100 {
            out.append(zero + UInt8(n / 10))
            out.append(zero + UInt8(n % 10))
            return
        }
        if width == 4 && n >= 1000 && n < 10_000 {
            out.append(zero + UInt8(n / 1000))
            out.append(zero + UInt8(n / 100 % 10))
            out.append(zero + UInt8(n / 10 % 10))
            out.append(zero + UInt8(n % 10))
            return
        }
        if n < 0 { out.append(UInt8(ascii: "-")) }
        let v = n.magnitude
        var count = 1
        var power: UInt = 1
        while count < 19, v / power >= 10 {
            count += 1
            power *= 10
        }
        for _ in count..<max(width, count) { out.append(UInt8(ascii: "0")) }
        while power > 0 {
            out.append(UInt8(ascii: "0") + UInt8(v / power % 10))
            power /= 10
        }
    }
}
