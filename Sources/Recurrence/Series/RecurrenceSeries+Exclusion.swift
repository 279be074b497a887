import CalendarModel

extension RecurrenceSeries {
    /// Whether the master's EXDATEs take out the instance whose RECURRENCE-ID is `recurrenceID`
    /// (UTC epoch seconds): a DATE EXDATE takes out every instance of its day in the master's zone.
    /// A consistency check tells an instance cancelled this way from one the rules never gave.
    public func excludes(recurrenceID: Int64) -> Bool {
        guard let m = master else { return false }
        if m.excludedInstants.contains(recurrenceID) { return true }
        guard !m.excludedDays.isEmpty else { return false }
        return m.excludedDays.contains(Int(Civil.floorDiv64(m.zone.local(fromUTC: recurrenceID), 86_400)))
    }
}
