import CalendarModel

extension SeriesBuilder {
    /// Reads the master: DTSTART, duration, RRULEs, RDATEs, EXDATEs, and the overrides'
    /// effect on the generated instances. An override of an instance the EXDATEs exclude is
    /// taken out of `overrides` (EXDATE wins: RFC 5545 §3.8.5 takes the excluded start out of the
    /// set, and the override has no instance left to replace), with a diagnostic.
    mutating func master(_ c: ICalComponent, _ properties: SeriesProperties, overrides: inout [Override])
        -> MasterPlan?
    {
        guard let start = start(of: c, properties) else { return nil }
        let length = duration(of: c, properties, start: start)
        let source = InstanceSource(component: c, properties: properties, form: start.form, recurrenceForm: start.form)
        let rules = self.rules(of: c, properties.rrules, name: "RRULE", start: start)
        let exrules = self.rules(of: c, properties.exrules, name: "EXRULE", start: start)
        let rdates = self.rdates(of: c, properties)
        let (instants, days) = exclusions(of: c, properties)
        let excludedInstants = SortedValues(instants)
        let excludedDays = SortedValues(days)
        overrides.removeAll { o in
            let rid = o.instance.recurrenceID
            let day = Int(Civil.floorDiv64(start.zone.local(fromUTC: rid), 86_400))
            guard excludedInstants.contains(rid) || excludedDays.contains(day) else { return false }
            note(
                .unusableValue, "an override of an instance the series excludes (EXDATE) was left out: EXDATE wins",
                o.instance.source.component, recurrenceID: o.instance.writtenRecurrenceID.description)
            return true
        }
        // The instances a THISANDFUTURE override reshapes keep the master's RECURRENCE-ID form.
        let futures = overrides.filter(\.isThisAndFuture).map {
            MasterPlan.Future(
                recurrenceID: $0.instance.recurrenceID,
                shift: $0.instance.localStart - start.zone.local(fromUTC: $0.instance.recurrenceID),
                length: $0.instance.end - $0.instance.start, zone: $0.zone,
                source: InstanceSource($0.instance.source, recurrenceForm: start.form))
        }.sorted { $0.recurrenceID < $1.recurrenceID }
        return MasterPlan(
            source: source, zone: start.zone, start: TimePointValue(local: start.local, utc: start.utc),
            rules: rules, exrules: exrules, rdates: rdates, excludedInstants: instants, excludedDays: days,
            duration: length,
            overridden: overrides.map(\.instance.recurrenceID), futures: futures)
    }

    /// The RRULEs (or, `name` EXRULE, the RFC 2445 rules whose instances are excluded), compiled
    /// from DTSTART.
    private mutating func rules(of c: ICalComponent, _ properties: [ICalProperty], name: String, start: TimePoint)
        -> [MasterPlan.Rule]
    {
        var out: [MasterPlan.Rule] = []
        for p in properties {
            guard case .recur(let recur)? = p.value else {
                note(
                    .invalidRule,
                    "\(name) \(p.value.map { "\($0)" } ?? "") is not a valid recurrence rule; it was ignored", c)
                continue
            }
            do {
                let rule = try RecurrenceRule(recur)
                let compiled = CompiledRule(rule, dtstart: start.local, isDate: start.form.isDate)
                out.append(MasterPlan.Rule(compiled: compiled, until: RuleIterator.Until(rule.until), recur: recur))
            } catch {
                note(
                    .invalidRule,
                    name == "RRULE" ? "\(error); only DTSTART and RDATEs are used" : "\(error); the EXRULE was ignored",
                    c)
            }
        }
        if name == "RRULE", out.count > 1 {
            note(
                .multipleRules,
                "\(out.count) RRULEs (RFC 5545 says SHOULD NOT occur more than once); their union was taken", c)
        }
        return out
    }

    private mutating func rdates(of c: ICalComponent, _ properties: SeriesProperties) -> [MasterPlan.RDate] {
        var out: [MasterPlan.RDate] = []
        for p in properties.rdates {
            for v in p.values {
                guard let t = reader.read(v, of: p) else {
                    note(.unusableValue, "an RDATE value of type \(v.type.rawValue) was ignored", c)
                    continue
                }
                var end: Int64?
                if case .period(let period) = v {
                    switch period.end {
                    case .dateTime(let dt): end = reader.read(.dateTime(dt), of: p)?.utc
                    case .duration(let d):
                        end =
                            DurationPlan(days: d.nominalDays, seconds: Int64(d.exactSeconds))
                            .end(local: t.local, utc: t.utc, zone: t.zone).utc
                    }
                    if let e = end, e < t.utc { end = t.utc }
                }
                out.append(MasterPlan.RDate(utc: t.utc, local: t.local, end: end))
            }
        }
        return out.sorted { $0.utc < $1.utc }
    }

    /// EXDATE DATE-TIMEs as instants (in whatever zone each is written), DATEs as days.
    private mutating func exclusions(of c: ICalComponent, _ properties: SeriesProperties) -> ([Int64], [Int]) {
        var instants: [Int64] = []
        var days: [Int] = []
        for p in properties.exdates {
            for v in p.values {
                if case .date(let d) = v {
                    days.append(Int(Civil.floorDiv64(Civil.seconds(d), 86_400)))
                } else if let t = reader.read(v, of: p) {
                    instants.append(t.utc)
                } else {
                    note(.unusableValue, "an EXDATE value of type \(v.type.rawValue) was ignored", c)
                }
            }
        }
        return (instants, days)
    }
}
