import CalendarModel

extension ICalDateTime {
    /// The UTC date-time of epoch seconds.
    public init(utcSeconds s: Int64) {
        let p = Civil.parts(ofSeconds: s)
        self.init(
            year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: p.second, isUTC: true)
    }

    /// Epoch seconds of the date-time read as UTC (a local or floating one is read as if it were).
    public var utcSeconds: Int64 {
        Civil.seconds(
            year: Int(date.year), month: Int(date.month), day: Int(date.day), hour: Int(time.hour),
            minute: Int(time.minute), second: Int(time.second))
    }
}
