import CalendarModel

extension RecurrenceSeries {
    /// Whether the master's EXDATEs (or EXRULEs) take out the instance whose RECURRENCE-ID is
    /// `recurrenceID` (UTC epoch seconds): a DATE EXDATE takes out every instance of its day in
    /// the master's zone. A consistency check tells an instance cancelled this way from one the
    /// rules never gave.
    public func excludes(recurrenceID: Int64) -> Bool {
        guard let m = master else { return false }
        if m.excludedInstants.contains(recurrenceID) { return true }
        if !m.excludedDays.isEmpty,
            m.excludedDays.contains(Int(Civil.floorDiv64(m.zone.local(fromUTC: recurrenceID), 86_400)))
        {
            return true
        }
        if !m.exrules.isEmpty && recurrenceID == m.start.utc { return true }
        let local = m.zone.local(fromUTC: recurrenceID)
        return m.exrules.contains { rule in
            var it = m.iterator(of: rule, from: local - 2 * 86_400, to: local + 2 * 86_400, series: self)
            while let n = it.next(), n.utc <= recurrenceID { if n.utc == recurrenceID { return true } }
            return false
        }
    }
}
