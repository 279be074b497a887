import CalendarModel

/// What lies past the end of a series whose rules end (every RRULE with UNTIL or COUNT): a series
/// split "this and following" keeps the first part in its master, and the overrides and RDATEs
/// of the later part belong to the new series, which arrives as an item of its own. Left in the
/// old one they would show as stray instances.
public enum SeriesEnd {
    /// `components` (one item's master and overrides) without the overrides whose RECURRENCE-ID,
    /// and the RDATE values, lie after the last instance the master's rules give; unchanged when
    /// a rule does not end, or there is no rule. `removed`: how many overrides and RDATE values
    /// went.
    public static func trimmed(_ components: [ICalComponent], zones: ZoneResolver) -> (
        components: [ICalComponent], removed: Int
    ) {
        guard let m = components.firstIndex(where: { $0.recurrenceID == nil }) else { return (components, 0) }
        let master = components[m]
        let rules = master.properties.filter { $0.name == "RRULE" }
        let ends = rules.allSatisfy { rule in
            if case .recur(let r)? = rule.value { return r.until != nil || r.count != nil }
            return false
        }
        let hasExtras = components.count > 1 || master.properties.contains { $0.name == "RDATE" }
        guard !rules.isEmpty, ends, hasExtras, let end = lastRuleInstance(of: master, zones: zones) else {
            return (components, 0)
        }
        let reader = TimeReader(zones: zones, uid: master.uid)
        var removed = 0
        var kept: [ICalComponent] = []
        for (i, c) in components.enumerated() {
            if i == m {
                var trimmed = c
                trimmed.properties = c.properties.compactMap { p in
                    guard p.name == "RDATE" else { return p }
                    let values = p.values.filter { v in (reader.read(v, of: p)?.utc).map { $0 <= end } ?? true }
                    removed += p.values.count - values.count
                    return values.isEmpty ? nil : ICalProperty(name: p.name, parameters: p.parameters, values: values)
                }
                kept.append(trimmed)
            } else if let t = reader.read(c.recurrenceID), t.utc > end {
                removed += 1
            } else {
                kept.append(c)
            }
        }
        return (kept, removed)
    }

    /// The recurrence ID (UTC seconds) of the last instance the master's rules give, without its
    /// RDATEs and EXDATEs.
    static func lastRuleInstance(of master: ICalComponent, zones: ZoneResolver) -> Int64? {
        var rulesOnly = master
        rulesOnly.properties.removeAll { $0.name == "RDATE" || $0.name == "EXDATE" }
        let series = RecurrenceSeries(components: [rulesOnly], zones: zones)
        var last: Int64?
        // Years 1 to 9999: every instance a rule that ends can give.
        for instance in series.instances(from: -62_135_596_800, to: 253_402_300_799) { last = instance.recurrenceID }
        return last
    }
}
