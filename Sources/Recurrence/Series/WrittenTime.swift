import CalendarModel

/// A time as it is (or would be) written in iCalendar: a DATE, or a DATE-TIME with its TZID
/// (nil for UTC and floating values).
public enum WrittenTime: Hashable, Sendable, CustomStringConvertible {
    case date(ICalDate)
    case dateTime(ICalDateTime, tzid: String?)

    /// The iCalendar text of the value: `20260105`, `20260105T090000`, `20260105T080000Z`.
    /// The iCalendar form: `20260105`, `20260105T090000` or `20260105T090000Z`.
    public var description: String {
        var out: [UInt8] = []
        appendICalendar(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the iCalendar form's bytes.
    public func appendICalendar(to out: inout [UInt8]) {
        switch self {
        case .date(let d):
            RFC3339.appendDigits(Int(d.year), 4, to: &out)
            RFC3339.appendDigits(Int(d.month), 2, to: &out)
            RFC3339.appendDigits(Int(d.day), 2, to: &out)
        case .dateTime(let dt, _):
            WrittenTime.date(dt.date).appendICalendar(to: &out)
            out.append(UInt8(ascii: "T"))
            RFC3339.appendDigits(Int(dt.time.hour), 2, to: &out)
            RFC3339.appendDigits(Int(dt.time.minute), 2, to: &out)
            RFC3339.appendDigits(Int(dt.time.second), 2, to: &out)
            if dt.isUTC { out.append(UInt8(ascii: "Z")) }
        }
    }

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
            self = .dateTime(
                ICalDateTime(
                    year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute,
                    second: p.second, isUTC: form.isUTC), tzid: form.tzid)
        }
    }
}

/// How a series writes its times: DATE or DATE-TIME, UTC or not, and with which TZID.
public struct TimeForm: Hashable, Sendable {
    /// A DATE (no time of day).
    public var isDate: Bool
    /// A UTC DATE-TIME (written with `Z`).
    public var isUTC: Bool
    /// The TZID it is written with (nil for UTC, floating and DATE values).
    public var tzid: String?
}
