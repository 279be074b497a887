import CalendarModel

/// Proleptic Gregorian calendar arithmetic on plain integers, used in the hot loops instead of
/// Foundation's `Calendar`.
///
/// Days are counted from 1970-01-01 (day 0); "local seconds" are seconds since 1970-01-01T00:00:00
/// on a wall clock, with no zone: a zone turns them into UTC instants (`ZoneRules`).
enum Civil {
    /// The day number of a civil date (Howard Hinnant's days_from_civil).
    @inline(__always)
    static func days(year: Int, month: Int, day: Int) -> Int {
        DayNumber.of(year: year, month: month, day: day)
    }

    /// The civil date of a day number (Howard Hinnant's civil_from_days).
    @inline(__always)
    static func date(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// The weekday of a day number: 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday).
    @inline(__always)
    static func weekday(ofDays d: Int) -> Int {
        let w = (d + 3) % 7
        return w < 0 ? w + 7 : w
    }

    @inline(__always)
    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    @inline(__always)
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    @inline(__always)
    static func daysInYear(_ y: Int) -> Int { isLeap(y) ? 366 : 365 }

    /// Floor division (rounds towards negative infinity).
    @inline(__always)
    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// The non-negative remainder of floor division.
    @inline(__always)
    static func floorMod(_ a: Int, _ b: Int) -> Int {
        let r = a % b
        return r < 0 ? r + b : r
    }

    /// Local seconds of a wall-clock date and time.
    @inline(__always)
    static func seconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Int64 {
        Int64(days(year: year, month: month, day: day)) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// The wall-clock parts of local seconds.
    static func parts(ofSeconds s: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let day = Int(floorDiv64(s, 86_400))
        let sod = Int(s - Int64(day) * 86_400)
        let (y, m, d) = date(fromDays: day)
        return (y, m, d, sod / 3600, (sod / 60) % 60, sod % 60)
    }

    @inline(__always)
    static func floorDiv64(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
