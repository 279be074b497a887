import CalendarModel

/// Reads a master and its overrides into the compiled form `RecurrenceSeries` holds,
/// collecting diagnostics.
struct SeriesBuilder {
    /// An override, read.
    struct Override {
        var instance: RecurrenceInstance
        var isThisAndFuture: Bool
        var zone: ZoneRules
    }

    let reader: TimeReader
    let uid: String?
    var diagnostics: [RecurrenceDiagnostic] = []

    init(reader: TimeReader, uid: String?) {
        self.reader = reader
        self.uid = uid
    }

    mutating func note(
        _ kind: RecurrenceDiagnostic.Kind, _ message: String, _ c: ICalComponent, recurrenceID: String? = nil
    ) {
        diagnostics.append(
            RecurrenceDiagnostic(kind: kind, message: message, uid: uid, recurrenceID: recurrenceID, line: c.line))
    }

    /// The start of a component: DTSTART, or for a VTODO without one, its DUE.
    mutating func start(of c: ICalComponent, _ properties: SeriesProperties) -> TimePoint? {
        if let p = properties.dtstart {
            if let t = reader.read(p) { return t }
            note(.missingStart, "\(c.name) has a DTSTART that is not a DATE or DATE-TIME; it has no instances", c)
            return nil
        }
        if c.name == "VTODO", let due = reader.read(properties.due) { return due }
        if c.name != "VTODO" { note(.missingStart, "\(c.name) has no DTSTART; it has no instances", c) }
        return nil
    }

    /// How long a component's instances last: DTEND (DUE for a VTODO) or DURATION; a DATE
    /// start without either lasts a day, a DATE-TIME start without either is zero-length.
    mutating func duration(of c: ICalComponent, _ properties: SeriesProperties, start: TimePoint) -> DurationPlan {
        let isTodo = c.name == "VTODO"
        let endName = isTodo ? "DUE" : "DTEND"
        if isTodo && properties.dtstart == nil { return DurationPlan(days: 0, seconds: 0) }
        if let p = isTodo ? properties.due : properties.dtend, let end = reader.read(p) {
            if start.form.isDate && end.form.isDate {
                let days = Int(Civil.floorDiv64(end.local - start.local, 86_400))
                if days >= 0 { return DurationPlan(days: days, seconds: 0) }
            } else if end.utc >= start.utc {
                return DurationPlan(days: 0, seconds: end.utc - start.utc)
            }
            note(.unusableValue, "\(endName) is before DTSTART; the instances were made zero-length", c)
            return DurationPlan(days: 0, seconds: 0)
        }
        if case .duration(let d)? = properties.duration?.value {
            if d.isNegative {
                note(.unusableValue, "DURATION is negative; the instances were made zero-length", c)
                return DurationPlan(days: 0, seconds: 0)
            }
            return DurationPlan(days: d.nominalDays, seconds: Int64(d.exactSeconds))
        }
        return DurationPlan(days: start.form.isDate ? 1 : 0, seconds: 0)
    }

    /// Reads an override: its RECURRENCE-ID (as an instant), its own start and end. A
    /// RECURRENCE-ID of the other form than the master's DTSTART (`masterStart`) names the
    /// master's instance of that day: a DATE in a series of DATE-TIMEs, or a DATE-TIME in a
    /// series of DATEs (written so by some exports).
    mutating func override(_ c: ICalComponent, _ properties: SeriesProperties, masterStart: TimePoint?) -> Override? {
        guard let ridProperty = properties.recurrenceID, var rid = reader.read(ridProperty) else {
            note(.unusableValue, "\(c.name) has a RECURRENCE-ID that is not a DATE or DATE-TIME; it was left out", c)
            return nil
        }
        if let m = masterStart, m.form.isDate != rid.form.isDate {
            let day = Civil.floorDiv64(rid.local, 86_400) * 86_400
            let local = day + (m.form.isDate ? 0 : m.local - Civil.floorDiv64(m.local, 86_400) * 86_400)
            note(
                .unusableValue,
                "RECURRENCE-ID is a \(rid.form.isDate ? "DATE" : "DATE-TIME") but DTSTART a \(m.form.isDate ? "DATE" : "DATE-TIME"); it was matched to the instance of that day",
                c, recurrenceID: WrittenTime(local: rid.local, form: rid.form).description)
            rid = TimePoint(local: local, utc: m.zone.utc(fromLocal: local), zone: m.zone, form: rid.form)
        }
        let start = properties.dtstart == nil ? rid : (self.start(of: c, properties) ?? rid)
        let length = duration(of: c, properties, start: start)
        let end = length.end(local: start.local, utc: start.utc, zone: start.zone)
        let source = InstanceSource(component: c, properties: properties, form: start.form, recurrenceForm: rid.form)
        let instance = RecurrenceInstance(
            start: start.utc, end: end.utc, localStart: start.local, localEnd: end.local, recurrenceID: rid.utc,
            localRecurrenceID: rid.local, isOverride: true, source: source)
        let range = ridProperty.parameter("RANGE")?.uppercased()
        if let range, range != "THISANDFUTURE" {
            note(
                .unusableValue,
                "RANGE=\(range) is not defined by RFC 5545; the override applies to its own instance only",
                c, recurrenceID: WrittenTime(local: rid.local, form: rid.form).description)
        }
        return Override(instance: instance, isThisAndFuture: range == "THISANDFUTURE", zone: start.zone)
    }

    /// The overrides with one per instance: of two that name one instant (written in two zones,
    /// or as a DATE and a DATE-TIME), the later revision (`ItemGrouper.laterRevision`), with a
    /// diagnostic.
    mutating func oneOverridePerInstance(_ overrides: [Override]) -> [Override] {
        var kept: [Int64: Override] = [:]
        var order: [Int64] = []
        for o in overrides {
            let rid = o.instance.recurrenceID
            guard let existing = kept[rid] else {
                kept[rid] = o
                order.append(rid)
                continue
            }
            let a = existing.instance.source.component
            let b = o.instance.source.component
            kept[rid] = ItemGrouper.laterRevision(a, b) == b ? o : existing
            note(
                .unusableValue,
                "two overrides of one instance (RECURRENCE-ID \(existing.instance.writtenRecurrenceID) and \(o.instance.writtenRecurrenceID)); kept the later revision",
                b, recurrenceID: o.instance.writtenRecurrenceID.description)
        }
        return order.compactMap { kept[$0] }
    }
}
