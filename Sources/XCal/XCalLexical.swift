import CalendarModel

/// RFC 6321 §3.6 lexical forms of dates, times and UTC offsets, both ways.
enum XCalLexical {
    static func date(_ d: ICalDate) -> String {
        pad4(Int(d.year)) + "-" + pad2(Int(d.month)) + "-" + pad2(Int(d.day))
    }

    static func time(_ t: ICalTime) -> String {
        pad2(Int(t.hour)) + ":" + pad2(Int(t.minute)) + ":" + pad2(Int(t.second)) + (t.isUTC ? "Z" : "")
    }

    static func dateTime(_ dt: ICalDateTime) -> String {
        date(dt.date) + "T" + time(dt.time)
    }

    static func utcOffset(_ o: ICalUTCOffset) -> String {
        let total = Int(o.seconds)
        let a = abs(total)
        var s = (total < 0 || o.isNegativeZero ? "-" : "+") + pad2(a / 3600) + ":" + pad2(a / 60 % 60)
        if a % 60 != 0 { s += ":" + pad2(a % 60) }
        return s
    }

    private static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    private static func pad4(_ v: Int) -> String {
        let s = String(abs(v))
        return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    // MARK: Reading

    /// `YYYY-MM-DD`.
    static func parseDate(_ s: String) -> ICalDate? {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D,
              let y = num(b, 0, 4), let m = num(b, 5, 2), let d = num(b, 8, 2),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        return ICalDate(year: y, month: m, day: d)
    }

    /// `hh:mm:ss[Z]`.
    static func parseTime(_ s: String) -> ICalTime? {
        let b = Array(s.utf8)
        return parseTime(b, 0).flatMap { $0.1 == b.count ? $0.0 : nil }
    }

    private static func parseTime(_ b: [UInt8], _ o: Int) -> (ICalTime, Int)? {
        guard b.count >= o + 8, b[o + 2] == 0x3A, b[o + 5] == 0x3A,
              let h = num(b, o, 2), let m = num(b, o + 3, 2), let s = num(b, o + 6, 2),
              h <= 24, m <= 59, s <= 60 else { return nil }
        var end = o + 8
        var utc = false
        if end < b.count, b[end] == 0x5A { utc = true; end += 1 }
        return (ICalTime(hour: h, minute: m, second: s, isUTC: utc), end)
    }

    /// `YYYY-MM-DDThh:mm:ss[Z]`.
    static func parseDateTime(_ s: String) -> ICalDateTime? {
        let b = Array(s.utf8)
        guard b.count >= 19, b[10] == 0x54, let d = parseDate(String(decoding: b[0..<10], as: UTF8.self)),
              let (t, end) = parseTime(b, 11), end == b.count else { return nil }
        return ICalDateTime(date: d, time: t)
    }

    /// `±hh:mm[:ss]`.
    static func parseUTCOffset(_ s: String) -> ICalUTCOffset? {
        let b = Array(s.utf8)
        guard b.count == 6 || b.count == 9, b[0] == 0x2B || b[0] == 0x2D, b[3] == 0x3A,
              let h = num(b, 1, 2), let m = num(b, 4, 2), m <= 59 else { return nil }
        var sec = 0
        if b.count == 9 {
            guard b[6] == 0x3A, let x = num(b, 7, 2), x <= 59 else { return nil }
            sec = x
        }
        let total = h * 3600 + m * 60 + sec
        let negative = b[0] == 0x2D
        return ICalUTCOffset(seconds: negative ? -total : total, isNegativeZero: negative && total == 0)
    }

    private static func num(_ b: [UInt8], _ o: Int, _ n: Int) -> Int? {
        guard o + n <= b.count else { return nil }
        var v = 0
        for i in o..<(o + n) {
            let d = b[i] &- 0x30
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }
}
