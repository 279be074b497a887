import CalendarModel

/// A recurrence rule (RFC 5545 §3.3.10) checked and typed for expansion.
///
/// Built from the parsed `ICalRecur`; every value is range-checked, so the iterator never sees
/// an hour 25 or a month 13. A rule that fails a check is refused as a whole (a partial rule
/// would produce more instances than the author meant).
public struct RecurrenceRule: Hashable, Sendable {
    /// FREQ, from the finest to the coarsest.
    public enum Frequency: Int, Hashable, Sendable, Comparable {
        case secondly, minutely, hourly, daily, weekly, monthly, yearly

        public static func < (a: Frequency, b: Frequency) -> Bool { a.rawValue < b.rawValue }

        /// The frequency named by a FREQ value (uppercased), or nil.
        public init?(name: String) {
            switch name {
            case "SECONDLY": self = .secondly
            case "MINUTELY": self = .minutely
            case "HOURLY": self = .hourly
            case "DAILY": self = .daily
            case "WEEKLY": self = .weekly
            case "MONTHLY": self = .monthly
            case "YEARLY": self = .yearly
            default: return nil
            }
        }
    }

    /// One BYDAY entry: a weekday (0 = Monday ... 6 = Sunday) and an optional ordinal (0 = every).
    public struct WeekdayEntry: Hashable, Sendable {
        public var ordinal: Int
        public var weekday: Int

        public init(ordinal: Int, weekday: Int) {
            self.ordinal = ordinal
            self.weekday = weekday
        }
    }

    public var frequency: Frequency
    public var interval: Int
    public var count: Int?
    public var until: ICalRecur.Until?
    public var bySecond: [Int]
    public var byMinute: [Int]
    public var byHour: [Int]
    public var byDay: [WeekdayEntry]
    public var byMonthDay: [Int]
    public var byYearDay: [Int]
    public var byWeekNo: [Int]
    public var byMonth: [Int]
    public var bySetPos: [Int]
    /// WKST as a weekday number (0 = Monday, the RFC default).
    public var weekStart: Int

    /// Checks and types a parsed rule.
    /// - Throws: `RecurrenceError.invalidRule` naming the part and the value that is wrong.
    public init(_ recur: ICalRecur) throws(RecurrenceError) {
        func fail(_ why: String) -> RecurrenceError { .invalidRule(rule: Self.describe(recur), reason: why) }
        guard let freq = Frequency(name: recur.freq.uppercasedIfNeeded) else {
            throw fail("unknown FREQ \(recur.freq)")
        }
        frequency = freq
        interval = recur.interval ?? 1
        guard interval >= 1 else { throw fail("INTERVAL must be at least 1, not \(interval)") }
        count = recur.count
        if let count, count < 1 { throw fail("COUNT must be at least 1, not \(count)") }
        until = recur.until
        bySecond = try Self.checked(recur.bySecond, "BYSECOND", 0...60, signed: false, fail)
        byMinute = try Self.checked(recur.byMinute, "BYMINUTE", 0...59, signed: false, fail)
        byHour = try Self.checked(recur.byHour, "BYHOUR", 0...23, signed: false, fail)
        byMonthDay = try Self.checked(recur.byMonthDay, "BYMONTHDAY", 1...31, signed: true, fail)
        byYearDay = try Self.checked(recur.byYearDay, "BYYEARDAY", 1...366, signed: true, fail)
        byWeekNo = try Self.checked(recur.byWeekNo, "BYWEEKNO", 1...53, signed: true, fail)
        byMonth = try Self.checked(recur.byMonth, "BYMONTH", 1...12, signed: false, fail)
        bySetPos = try Self.checked(recur.bySetPos, "BYSETPOS", 1...366, signed: true, fail)
        byDay = []
        for code in recur.byDay {
            guard let entry = Self.weekdayEntry(code) else { throw fail("BYDAY value \(code) is not a weekday") }
            byDay.append(entry)
        }
        if let w = recur.wkst {
            guard let wd = Self.weekday(w.uppercasedIfNeeded) else { throw fail("WKST \(w) is not a weekday") }
            weekStart = wd
        } else {
            weekStart = 0
        }
        for ext in recur.extensions where ext.name == "RSCALE" && ext.value.uppercased() != "GREGORIAN" {
            throw fail("RSCALE=\(ext.value) (RFC 7529) is not supported; only GREGORIAN is")
        }
    }

    /// The weekday number of a two-letter code (`MO` = 0 ... `SU` = 6).
    static func weekday(_ code: Substring) -> Int? {
        switch code {
        case "MO": 0
        case "TU": 1
        case "WE": 2
        case "TH": 3
        case "FR": 4
        case "SA": 5
        case "SU": 6
        default: nil
        }
    }

    static func weekday(_ code: String) -> Int? { weekday(Substring(code)) }

    /// `MO`, `1SU`, `-1FR`, `+2TU`.
    static func weekdayEntry(_ text: String) -> WeekdayEntry? {
        // By UTF-8 code units: a weekday code and its ordinal are ASCII (anything else fails below).
        let upper = text.uppercasedIfNeeded.utf8
        guard upper.count >= 2, let wd = weekday(Substring(upper.suffix(2))) else { return nil }
        let head = Substring(upper.dropLast(2))
        if head.isEmpty { return WeekdayEntry(ordinal: 0, weekday: wd) }
        guard let n = Int(head.hasPrefix("+") ? head.dropFirst() : head), n != 0, abs(n) <= 53 else { return nil }
        return WeekdayEntry(ordinal: n, weekday: wd)
    }

    private static func checked(
        _ values: [Int], _ part: String, _ range: ClosedRange<Int>, signed: Bool,
        _ fail: (String) -> RecurrenceError
    ) throws(RecurrenceError) -> [Int] {
        for v in values {
            let ok = signed ? range.contains(abs(v)) : range.contains(v)
            if !ok { throw fail("\(part) value \(v) is out of range") }
        }
        return values
    }

    /// The rule's text for messages: `FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30`.
    static func describe(_ r: ICalRecur) -> String {
        ValueFormatter.recurString(r)
    }
}
