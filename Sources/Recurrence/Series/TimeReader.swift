import CalendarModel

/// A time read from a property: its wall-clock time, its instant, its zone and its form.
struct TimePoint {
    var local: Int64
    var utc: Int64
    var zone: ZoneRules
    var form: TimeForm
}

/// Reads DATE and DATE-TIME values into instants: UTC values as they are, TZID values in their
/// zone (unknown zones as floating, with a diagnostic from the resolver), floating and DATE
/// values in the calendar's floating zone.
struct TimeReader {
    let zones: ZoneResolver
    let uid: String?

    /// The zone a property's values are in (its TZID, or floating).
    func zone(of property: ICalProperty) -> (ZoneRules, String?) {
        // The parameter names are uppercased by the parser (`parameter(_:)` would uppercase "TZID" on each call).
        guard let tzid = property.parameters.first(where: { $0.name == "TZID" })?.values.first else {
            return (zones.floating, nil)
        }
        if let z = zones.zone(named: tzid, uid: uid) { return (z, tzid) }
        return (zones.floating, tzid)
    }

    /// A DATE or DATE-TIME value (or a PERIOD's start) of `property`.
    func read(_ value: ICalValue, of property: ICalProperty) -> TimePoint? {
        switch value {
        case .date(let d):
            let local = Civil.seconds(d)
            return TimePoint(
                local: local, utc: zones.floating.utc(fromLocal: local), zone: zones.floating,
                form: TimeForm(isDate: true, isUTC: false, tzid: nil))
        case .dateTime(let dt):
            let local = Civil.seconds(dt)
            if dt.isUTC {
                return TimePoint(
                    local: local, utc: local, zone: .utc, form: TimeForm(isDate: false, isUTC: true, tzid: nil))
            }
            let (zone, tzid) = self.zone(of: property)
            return TimePoint(
                local: local, utc: zone.utc(fromLocal: local), zone: zone,
                form: TimeForm(isDate: false, isUTC: false, tzid: tzid))
        case .period(let p):
            return read(.dateTime(p.start), of: property)
        default:
            return nil
        }
    }

    /// The first value of a property, read as a time.
    func read(_ property: ICalProperty?) -> TimePoint? {
        guard let property, let value = property.value else { return nil }
        return read(value, of: property)
    }
}

/// How long each instance lasts: nominal days (kept in wall-clock time across DST changes)
/// plus exact seconds (RFC 5545 §3.3.6).
struct DurationPlan: Sendable {
    var days: Int
    var seconds: Int64

    /// The end of an instance starting at `start`, as (UTC, wall-clock in the start's zone).
    @inline(__always)
    func end(local: Int64, utc: Int64, zone: ZoneRules) -> (utc: Int64, local: Int64) {
        if days == 0 {
            let e = utc + seconds
            return (e, local + seconds + Int64(zone.offset(atUTC: e) - zone.offset(atUTC: utc)))
        }
        let nominal = local + Int64(days) * 86_400
        let e = zone.utc(fromLocal: nominal) + seconds
        return (e, seconds == 0 ? nominal : zone.local(fromUTC: e))
    }

    /// An upper bound on the length of any instance, in seconds.
    var longest: Int64 { Int64(days) * 86_400 + 7_200 + seconds }
}
