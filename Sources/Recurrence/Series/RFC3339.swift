import CalendarModel

/// Instants and written times as RFC 3339 text (`2026-01-05T09:00:00+01:00`, `…Z`, a floating
/// `2026-01-05T09:00:00`, a date `2026-01-05`), without Foundation's formatters: an expansion
/// prints one per instance.
public enum RFC3339 {
    /// The UTC date-time of epoch seconds, with `Z`.
    public static func utc(_ seconds: Int64) -> String {
        let p = Civil.parts(ofSeconds: seconds)
        return dateTime(p.year, p.month, p.day, p.hour, p.minute, p.second) + "Z"
    }

    /// A written time: a date, a UTC date-time with `Z`, a local one with `offset` (seconds east
    /// of UTC) when it is placed in a zone, or floating (no offset) when `offset` is nil.
    public static func written(_ time: WrittenTime, offset: Int?) -> String {
        switch time {
        case .date(let d):
            return digits(Int(d.year), 4) + "-" + digits(Int(d.month), 2) + "-" + digits(Int(d.day), 2)
        case .dateTime(let dt, _):
            let text = dateTime(Int(dt.date.year), Int(dt.date.month), Int(dt.date.day), Int(dt.time.hour), Int(dt.time.minute), Int(dt.time.second))
            if dt.isUTC { return text + "Z" }
            guard let offset else { return text }
            let sign = offset < 0 ? "-" : "+", minutes = abs(offset) / 60
            return text + sign + digits(minutes / 60, 2) + ":" + digits(minutes % 60, 2)
        }
    }

    /// Epoch seconds of a local date and time read as UTC (for a date given on a command line).
    public static func seconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Int64 {
        Civil.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    static func dateTime(_ y: Int, _ m: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int) -> String {
        digits(y, 4) + "-" + digits(m, 2) + "-" + digits(d, 2) + "T" + digits(h, 2) + ":" + digits(mi, 2) + ":" + digits(s, 2)
    }

    static func digits(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
