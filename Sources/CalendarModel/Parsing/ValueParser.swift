/// Reads one iCalendar value (RFC 5545 §3.3) from its bytes into a typed `ICalValue`.
/// Returns nil when the bytes are not a valid value of the type; the caller decides what to do.
enum ValueParser {
    /// Parses `b` as `type`; sets `invalidEscape` when a TEXT part held an escape RFC 5545 does not define.
    static func parse(_ b: Bytes, as type: ValueType, invalidEscape: inout Bool) -> ICalValue? {
        switch type {
        case .text:
            return .text(unescapeText(b, invalidEscape: &invalidEscape))
        case .dateTime:
            return dateTime(b).map(ICalValue.dateTime)
        case .date:
            return date(b).map(ICalValue.date)
        case .uri:
            return .uri(b.string)
        case .calAddress:
            return .calAddress(b.string)
        case .integer:
            return integer(b).map(ICalValue.integer)
        case .duration:
            return duration(b).map(ICalValue.duration)
        case .recur:
            return recur(b).map(ICalValue.recur)
        case .utcOffset:
            return utcOffset(b).map(ICalValue.utcOffset)
        case .boolean:
            if b.equalsUppercased("TRUE") { return .boolean(true) }
            if b.equalsUppercased("FALSE") { return .boolean(false) }
            return nil
        case .float:
            return float(b).map(ICalValue.float)
        case .time:
            return time(b, at: 0).flatMap { $0.1 == b.count ? ICalValue.time($0.0) : nil }
        case .period:
            return period(b).map(ICalValue.period)
        case .binary:
            var s = [UInt8]()
            s.reserveCapacity(b.count)
            for c in b where c != ASCII.space && c != ASCII.tab && c != ASCII.cr && c != ASCII.lf { s.append(c) }
            guard s.allSatisfy(isBase64) else { return nil }
            return .binary(String(decoding: s, as: UTF8.self))
        case .geo:
            let parts = b.split(on: ASCII.semicolon, escapes: false)
            guard parts.count == 2, let lat = float(parts[0].trimmed), let lon = float(parts[1].trimmed) else {
                return nil
            }
            return .geo(ICalGeo(latitude: lat, longitude: lon))
        case .requestStatus:
            let parts = b.split(on: ASCII.semicolon, escapes: true)
            guard parts.count >= 2, !parts[0].isEmpty else { return nil }
            let code = parts[0].string
            let desc = unescapeText(parts[1], invalidEscape: &invalidEscape)
            var data: String?
            if parts.count > 2 {
                // Everything after the second separator is the data, semicolons included.
                let start = parts[2].baseAddress! - b.baseAddress!
                data = unescapeText(b.slice(start, b.count), invalidEscape: &invalidEscape)
            }
            return .requestStatus(ICalRequestStatus(code: code, description: desc, data: data))
        case .unknown:
            return .unknown(b.string)
        }
    }

    private static func isBase64(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || ASCII.isDigit(c) || c == ASCII.plus || c == ASCII.slash
            || c == ASCII.equals
    }

    // MARK: TEXT

    /// Removes TEXT escaping (RFC 5545 §3.3.11). An escape RFC 5545 does not define is kept
    /// literally, as lenient readers do, and reported.
    static func unescapeText(_ b: Bytes, invalidEscape: inout Bool) -> String {
        guard b.contains(ASCII.backslash) else { return b.string }
        // Unescaping only shrinks the text: write it straight into the string's storage.
        return String(unsafeUninitializedCapacity: b.count) { out in
            var i = 0
            var o = 0
            while i < b.count {
                let c = b[i]
                if c == ASCII.backslash, i + 1 < b.count {
                    let n = b[i + 1]
                    switch n {
                    case 0x6E, 0x4E:
                        out[o] = ASCII.lf
                        o += 1
                    case ASCII.backslash, ASCII.semicolon, ASCII.comma:
                        out[o] = n
                        o += 1
                    default:
                        invalidEscape = true
                        out[o] = c
                        out[o + 1] = n
                        o += 2
                    }
                    i += 2
                    continue
                }
                if c == ASCII.backslash { invalidEscape = true }
                out[o] = c
                o += 1
                i += 1
            }
            return o
        }
    }

    // MARK: Dates and times

    static func date(_ b: Bytes) -> ICalDate? {
        guard b.count == 8, let d = date(b, at: 0) else { return nil }
        return d
    }

    private static func date(_ b: Bytes, at o: Int) -> ICalDate? {
        guard let y = b.digits(at: o, 4), let m = b.digits(at: o + 4, 2), let d = b.digits(at: o + 6, 2),
            m >= 1, m <= 12, d >= 1, d <= 31
        else { return nil }
        return ICalDate(year: y, month: m, day: d)
    }

    /// Reads `hhmmss[Z]` at `o`; returns the time and the offset after it.
    private static func time(_ b: Bytes, at o: Int) -> (ICalTime, Int)? {
        guard let h = b.digits(at: o, 2), let mi = b.digits(at: o + 2, 2), let s = b.digits(at: o + 4, 2),
            h <= 24, mi <= 59, s <= 60
        else { return nil }
        var end = o + 6
        var utc = false
        if end < b.count, b[end] == 0x5A || b[end] == 0x7A {
            utc = true
            end += 1
        }
        return (ICalTime(hour: h, minute: mi, second: s, isUTC: utc), end)
    }

    static func dateTime(_ b: Bytes) -> ICalDateTime? {
        guard b.count == 15 || b.count == 16, let d = date(b, at: 0), b[8] == 0x54 || b[8] == 0x74,
            let (t, end) = time(b, at: 9), end == b.count
        else { return nil }
        return ICalDateTime(date: d, time: t)
    }

    static func utcOffset(_ b: Bytes) -> ICalUTCOffset? {
        guard b.count == 5 || b.count == 7, b[0] == ASCII.plus || b[0] == ASCII.minus,
            let h = b.digits(at: 1, 2), let m = b.digits(at: 3, 2), m <= 59
        else { return nil }
        var s = 0
        if b.count == 7 {
            guard let sec = b.digits(at: 5, 2), sec <= 59 else { return nil }
            s = sec
        }
        let total = h * 3600 + m * 60 + s
        let negative = b[0] == ASCII.minus
        return ICalUTCOffset(seconds: negative ? -total : total, isNegativeZero: negative && total == 0)
    }

    static func duration(_ b: Bytes) -> ICalDuration? {
        var i = 0
        var d = ICalDuration()
        guard b.count >= 3 else { return nil }
        if b[0] == ASCII.plus || b[0] == ASCII.minus {
            d.isNegative = b[0] == ASCII.minus
            i = 1
        }
        guard i < b.count, ASCII.upper(b[i]) == 0x50 else { return nil }  // P
        i += 1
        var inTime = false
        var sawUnit = false
        var sawTimeUnit = false
        while i < b.count {
            if ASCII.upper(b[i]) == 0x54 {  // T
                guard !inTime else { return nil }
                inTime = true
                i += 1
                continue
            }
            var n = 0
            var digits = 0
            while i < b.count, ASCII.isDigit(b[i]) {
                n = n &* 10 &+ Int(b[i] - ASCII.zero)
                digits += 1
                i += 1
            }
            guard digits > 0, digits <= 9, i < b.count else { return nil }
            switch (ASCII.upper(b[i]), inTime) {
            case (0x57, false): d.weeks = Int32(n)
            case (0x44, false): d.days = Int32(n)
            case (0x48, true): d.hours = Int32(n)
            case (0x4D, true): d.minutes = Int32(n)
            case (0x53, true): d.seconds = Int32(n)
            default: return nil
            }
            sawUnit = true
            if inTime { sawTimeUnit = true }
            i += 1
        }
        guard sawUnit, !inTime || sawTimeUnit else { return nil }
        return d
    }

    static func period(_ b: Bytes) -> ICalPeriod? {
        guard let slash = b.firstIndex(of: ASCII.slash), let start = dateTime(b.slice(0, slash)) else { return nil }
        let rest = b.slice(slash + 1, b.count)
        if let end = dateTime(rest) { return ICalPeriod(start: start, end: .dateTime(end)) }
        if let dur = duration(rest) { return ICalPeriod(start: start, end: .duration(dur)) }
        return nil
    }

    // MARK: Numbers

    static func integer(_ b: Bytes) -> Int? {
        var i = 0
        var negative = false
        if b.count > 0, b[0] == ASCII.plus || b[0] == ASCII.minus {
            negative = b[0] == ASCII.minus
            i = 1
        }
        guard i < b.count, b.count - i <= 18 else { return nil }
        var v = 0
        while i < b.count {
            guard ASCII.isDigit(b[i]) else { return nil }
            v = v * 10 + Int(b[i] - ASCII.zero)
            i += 1
        }
        return negative ? -v : v
    }

    static func float(_ b: Bytes) -> Double? {
        // RFC 5545 §3.3.7: [+-]digits[.digits]; no exponent, no hex, no inf/nan.
        var i = 0
        if b.count > 0, b[0] == ASCII.plus || b[0] == ASCII.minus { i = 1 }
        var digits = 0
        var dots = 0
        while i < b.count {
            if ASCII.isDigit(b[i]) { digits += 1 } else if b[i] == ASCII.dot { dots += 1 } else { return nil }
            i += 1
        }
        guard digits > 0, dots <= 1 else { return nil }
        return Double(b.string)
    }

    // MARK: RECUR

    static func recur(_ b: Bytes) -> ICalRecur? {
        var rule = ICalRecur(freq: "")
        var sawFreq = false
        for part in b.split(on: ASCII.semicolon, escapes: false) where !part.isEmpty {
            guard let eq = part.firstIndex(of: ASCII.equals) else { return nil }
            let name = part.slice(0, eq).upperString
            let value = part.slice(eq + 1, part.count)
            switch name {
            case "FREQ":
                let f = value.upperString
                guard ["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"].contains(f) else {
                    return nil
                }
                rule.freq = f
                sawFreq = true
            case "UNTIL":
                if let dt = dateTime(value) {
                    rule.until = .dateTime(dt)
                } else if let d = date(value) {
                    rule.until = .date(d)
                } else {
                    return nil
                }
            case "COUNT":
                guard let n = integer(value), n >= 0 else { return nil }
                rule.count = n
            case "INTERVAL":
                guard let n = integer(value), n >= 1 else { return nil }
                rule.interval = n
            case "BYSECOND":
                guard let l = intList(value, 0...60) else { return nil }
                rule.bySecond = l
            case "BYMINUTE":
                guard let l = intList(value, 0...59) else { return nil }
                rule.byMinute = l
            case "BYHOUR":
                guard let l = intList(value, 0...23) else { return nil }
                rule.byHour = l
            case "BYMONTHDAY":
                guard let l = intList(value, -31...31) else { return nil }
                rule.byMonthDay = l
            case "BYYEARDAY":
                guard let l = intList(value, -366...366) else { return nil }
                rule.byYearDay = l
            case "BYWEEKNO":
                guard let l = intList(value, -53...53) else { return nil }
                rule.byWeekNo = l
            case "BYMONTH":
                guard let l = intList(value, 1...13) else { return nil }
                rule.byMonth = l
            case "BYSETPOS":
                guard let l = intList(value, -366...366) else { return nil }
                rule.bySetPos = l
            case "BYDAY":
                var days: [String] = []
                for d in value.split(on: ASCII.comma, escapes: false) {
                    guard let day = weekdayNum(d) else { return nil }
                    days.append(day)
                }
                rule.byDay = days
            case "WKST":
                let w = value.upperString
                guard weekdays.contains(w) else { return nil }
                rule.wkst = w
            default:
                rule.extensions.append(.init(name: name, value: value.string))
            }
        }
        guard sawFreq else { return nil }
        return rule
    }

    static let weekdays: Set<String> = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]

    private static func intList(_ b: Bytes, _ range: ClosedRange<Int>) -> [Int]? {
        var out: [Int] = []
        for p in b.split(on: ASCII.comma, escapes: false) {
            guard let n = integer(p), range.contains(n), n != 0 || range.lowerBound >= 0 else { return nil }
            out.append(n)
        }
        return out
    }

    /// `[+/-n]WD` → normalized `nWD` / `-nWD` / `WD`.
    private static func weekdayNum(_ b: Bytes) -> String? {
        guard b.count >= 2 else { return nil }
        let wd = b.slice(b.count - 2, b.count).upperString
        guard weekdays.contains(wd) else { return nil }
        if b.count == 2 { return wd }
        guard let n = integer(b.slice(0, b.count - 2)), n != 0, abs(n) <= 53 else { return nil }
        return "\(n)\(wd)"
    }
}
