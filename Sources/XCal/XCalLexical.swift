import CalendarModel

/// RFC 6321 §3.6 lexical forms of dates, times and UTC offsets, both ways. Written and read as
/// bytes: a feed's worth of values goes through here on every pass.
enum XCalLexical {
    static func date(_ d: ICalDate) -> String {
        guard (0...9999).contains(d.year) else {
            return pad4(Int(d.year)) + "-" + pad2(Int(d.month)) + "-" + pad2(Int(d.day))
        }
        return format(capacity: 10) { w in w.date(d) }
    }

    static func time(_ t: ICalTime) -> String {
        format(capacity: 9) { w in w.time(t) }
    }

    static func dateTime(_ dt: ICalDateTime) -> String {
        guard (0...9999).contains(dt.date.year) else { return date(dt.date) + "T" + time(dt.time) }
        return format(capacity: 20) { w in
            w.date(dt.date)
            w.byte(0x54)  // T
            w.time(dt.time)
        }
    }

    static func utcOffset(_ o: ICalUTCOffset) -> String {
        let total = Int(o.seconds)
        let a = abs(total)
        return format(capacity: 9) { w in
            w.byte(total < 0 || o.isNegativeZero ? 0x2D : 0x2B)
            w.two(a / 3600 % 100)
            w.byte(0x3A)
            w.two(a / 60 % 60)
            if a % 60 != 0 {
                w.byte(0x3A)
                w.two(a % 60)
            }
        }
    }

    /// Writes ASCII into a string's own storage.
    private struct Writer {
        var buffer: UnsafeMutableBufferPointer<UInt8>
        var count = 0

        mutating func byte(_ b: UInt8) {
            buffer[count] = b
            count += 1
        }

        /// Two digits of `v` (0...99).
        mutating func two(_ v: Int) {
            byte(UInt8(truncatingIfNeeded: 0x30 + v / 10))
            byte(UInt8(truncatingIfNeeded: 0x30 + v % 10))
        }

        /// `YYYY-MM-DD`, for a year of four digits.
        mutating func date(_ d: ICalDate) {
            two(Int(d.year) / 100)
            two(Int(d.year) % 100)
            byte(0x2D)
            two(Int(d.month) % 100)
            byte(0x2D)
            two(Int(d.day) % 100)
        }

        mutating func time(_ t: ICalTime) {
            two(Int(t.hour) % 100)
            byte(0x3A)
            two(Int(t.minute) % 100)
            byte(0x3A)
            two(Int(t.second) % 100)
            if t.isUTC { byte(0x5A) }
        }
    }

    private static func format(capacity: Int, _ body: (inout Writer) -> Void) -> String {
        String(unsafeUninitializedCapacity: capacity) { buffer in
            var w = Writer(buffer: buffer)
            body(&w)
            return w.count
        }
    }

    private static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    private static func pad4(_ v: Int) -> String {
        let s = String(abs(v))
        return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    // MARK: Reading

    /// The UTF-8 of `s`, without copying it when it is stored contiguously.
    private static func bytes<T>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> T?) -> T? {
        var s = s
        return s.withUTF8(body)
    }

    /// `YYYY-MM-DD`.
    static func parseDate(_ s: String) -> ICalDate? {
        bytes(s) { b in b.count == 10 ? parseDate(b, 0) : nil }
    }

    private static func parseDate(_ b: UnsafeBufferPointer<UInt8>, _ o: Int) -> ICalDate? {
        guard b.count >= o + 10, b[o + 4] == 0x2D, b[o + 7] == 0x2D,
            let y = num(b, o, 4), let m = num(b, o + 5, 2), let d = num(b, o + 8, 2),
            (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        return ICalDate(year: y, month: m, day: d)
    }

    /// `hh:mm:ss[Z]`.
    static func parseTime(_ s: String) -> ICalTime? {
        bytes(s) { b in parseTime(b, 0).flatMap { $0.1 == b.count ? $0.0 : nil } }
    }

    private static func parseTime(_ b: UnsafeBufferPointer<UInt8>, _ o: Int) -> (ICalTime, Int)? {
        guard b.count >= o + 8, b[o + 2] == 0x3A, b[o + 5] == 0x3A,
            let h = num(b, o, 2), let m = num(b, o + 3, 2), let s = num(b, o + 6, 2),
            h <= 24, m <= 59, s <= 60
        else { return nil }
        var end = o + 8
        var utc = false
        if end < b.count, b[end] == 0x5A {
            utc = true
            end += 1
        }
        return (ICalTime(hour: h, minute: m, second: s, isUTC: utc), end)
    }

    /// `YYYY-MM-DDThh:mm:ss[Z]`.
    static func parseDateTime(_ s: String) -> ICalDateTime? {
        bytes(s) { b in
            guard b.count >= 19, b[10] == 0x54, let d = parseDate(b, 0), let (t, end) = parseTime(b, 11), end == b.count
            else { return nil }
            return ICalDateTime(date: d, time: t)
        }
    }

    /// `±hh:mm[:ss]`.
    static func parseUTCOffset(_ s: String) -> ICalUTCOffset? {
        bytes(s) { b in
            guard b.count == 6 || b.count == 9, b[0] == 0x2B || b[0] == 0x2D, b[3] == 0x3A,
                let h = num(b, 1, 2), let m = num(b, 4, 2), m <= 59
            else { return nil }
            var sec = 0
            if b.count == 9 {
                guard b[6] == 0x3A, let x = num(b, 7, 2), x <= 59 else { return nil }
                sec = x
            }
            let total = h * 3600 + m * 60 + sec
            let negative = b[0] == 0x2D
            return ICalUTCOffset(seconds: negative ? -total : total, isNegativeZero: negative && total == 0)
        }
    }

    private static func num(_ b: UnsafeBufferPointer<UInt8>, _ o: Int, _ n: Int) -> Int? {
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
