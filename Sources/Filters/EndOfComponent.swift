import CalendarModel

/// Minutes since 1970-01-01T00:00 for dates and times read as UTC (no time zone database: the
/// callers allow for the largest zone offset instead).
enum Minutes {
    static func of(_ d: ICalDate) -> Int {
        DayNumber.of(year: Int(d.year), month: Int(d.month), day: Int(d.day)) * 1440
    }

    static func of(_ dt: ICalDateTime) -> Int {
        of(dt.date) + Int(dt.time.hour) * 60 + Int(dt.time.minute)
    }
}

/// When a VEVENT, VTODO or VJOURNAL ends, at the latest.
enum EndOfComponent {
    /// DTEND or DUE; else DTSTART plus DURATION; else the end of DTSTART's day for a DATE, or
    /// DTSTART itself. Local and floating times get twelve hours added: no zone is further west.
    static func latestEndMinutes(_ c: ICalComponent) -> Int? {
        for name in ["DTEND", "DUE"] {
            if let v = c.property(name)?.value, let m = latest(v) { return m }
        }
        guard let start = c.property("DTSTART")?.value, let s = latest(start) else { return nil }
        if case .duration(let d)? = c.property("DURATION")?.value {
            let span = d.nominalDays * 1440 + d.exactSeconds / 60
            return s + (d.isNegative ? -span : span)
        }
        if case .date = start { return s + 1440 }
        return s
    }

    private static func latest(_ v: ICalValue) -> Int? {
        switch v {
        case .date(let d): return Minutes.of(d) + 12 * 60
        case .dateTime(let dt): return Minutes.of(dt) + (dt.isUTC ? 0 : 12 * 60)
        default: return nil
        }
    }
}
