import CalendarModel

/// ISO 8601 durations as the server's options and requests take them.
public enum ISODuration {
    /// Seconds of a duration of weeks, days, hours, minutes and seconds (`PT30M`, `P1D`,
    /// `PT1H30M`; years and months have no fixed length), or nil for other text or a negative one.
    public static func seconds(_ text: String) -> Int64? {
        guard case .duration(let d)? = ICalValue.parse(text, as: .duration), !d.isNegative else { return nil }
        return Int64(d.weeks) * 604_800 + Int64(d.days) * 86_400 + Int64(d.hours) * 3600 + Int64(d.minutes) * 60
            + Int64(d.seconds)
    }
}
