import CalendarModel

/// A time as it is (or would be) written in iCalendar: a DATE, or a DATE-TIME with its TZID
/// (nil for UTC and floating values).
public enum WrittenTime: Hashable, Sendable, CustomStringConvertible {
    case date(ICalDate)
    case dateTime(ICalDateTime, tzid: String?)

    /// The iCalendar text of the value: `20260105`, `20260105T090000`, `20260105T080000Z`.
    public var description: String {
        switch self {
        case .date(let d): return Self.digits(Int(d.year), 4) + Self.digits(Int(d.month), 2) + Self.digits(Int(d.day), 2)
        case .dateTime(let dt, _):
            return WrittenTime.date(dt.date).description + "T" + Self.digits(Int(dt.time.hour), 2)
                + Self.digits(Int(dt.time.minute), 2) + Self.digits(Int(dt.time.second), 2) + (dt.isUTC ? "Z" : "")
        }
    }

    /// The TZID, for a DATE-TIME local to a zone.
    public var tzid: String? {
        if case .dateTime(_, let tzid) = self { return tzid }
        return nil
    }

    /// The written form of a wall-clock time (local seconds) in the form of `form`.
    init(local: Int64, form: TimeForm) {
        let p = Civil.parts(ofSeconds: local)
        if form.isDate {
            self = .date(ICalDate(year: p.year, month: p.month, day: p.day))
        } else {
            self = .dateTime(ICalDateTime(year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute,
                                          second: p.second, isUTC: form.isUTC), tzid: form.tzid)
        }
    }

    private static func digits(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// How a series writes its times: DATE or DATE-TIME, UTC or not, and with which TZID.
struct TimeForm: Hashable, Sendable {
    var isDate: Bool
    var isUTC: Bool
    var tzid: String?
}
