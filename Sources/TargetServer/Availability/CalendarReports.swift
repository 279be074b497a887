import CalWS
import CalendarModel
import GRDB
import Recurrence

/// The CalWS reports over instances: `freebusyReport` (RFC 4791 §7.10) and `calendarQuery` with
/// `expand` (RFC 4791 §9.6.5).
enum CalendarReports {
    /// A VCALENDAR holding one VFREEBUSY of `periods` over `range`: busy periods and tentative
    /// ones coalesced per FBTYPE (BUSY, BUSY-TENTATIVE), clipped to the range, in UTC; no FREEBUSY
    /// property when nothing is busy.
    static func freebusy(_ periods: [BusyPeriod], href: String, range: UTCRange, now: Int64) -> ICalComponent {
        let window = [TimeSpan(start: range.start.utcSeconds, end: range.end.utcSeconds)]
        let (busy, tentative) = BusyRules.coalesced(periods, within: window)
        var properties = [
            ICalProperty("UID", .text("freebusy-\(range.start.utcSeconds)-\(range.end.utcSeconds)\(href)")),
            ICalProperty("DTSTAMP", .dateTime(ICalDateTime(utcSeconds: now))),
            ICalProperty("DTSTART", .dateTime(range.start)),
            ICalProperty("DTEND", .dateTime(range.end)),
        ]
        for (type, spans) in [("BUSY", busy), ("BUSY-TENTATIVE", tentative)] where !spans.isEmpty {
            let values = spans.map {
                ICalValue.period(
                    ICalPeriod(
                        start: ICalDateTime(utcSeconds: $0.start), end: .dateTime(ICalDateTime(utcSeconds: $0.end))))
            }
            properties.append(
                ICalProperty(name: "FREEBUSY", parameters: [ICalParameter("FBTYPE", type)], values: values))
        }
        return ICalComponent(
            name: "VCALENDAR",
            properties: [
                ICalProperty("VERSION", .text("2.0")),
                ICalProperty("PRODID", .text("-//Outboard//Reference Target Server//EN")),
            ],
            components: [ICalComponent(name: "VFREEBUSY", properties: properties)])
    }

    /// The properties an expanded instance does not keep: the recurrence set and the times it
    /// gets anew.
    static let recurrenceProperties: Set = [
        "RRULE", "RDATE", "EXDATE", "EXRULE", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID",
    ]

    /// An entity's VEVENTs as one component per instance overlapping `range` (RFC 4791 §9.6.5):
    /// DTSTART and DTEND in UTC (DATE values stay dates; floating times are placed in the
    /// calendar's X-WR-TIMEZONE, else the collection's zone, else UTC), a RECURRENCE-ID on every
    /// instance of a recurring series, no RRULE, RDATE or EXDATE, and no VTIMEZONE. Other
    /// components are kept as stored. Nil when the entity has VEVENTs and none of their
    /// instances overlaps the range.
    static func expanded(_ calendar: ICalComponent, over range: UTCRange, collectionZone: String? = nil)
        -> ICalComponent?
    {
        var out = calendar
        out.components = calendar.components.filter { $0.name != "VEVENT" && $0.name != "VTIMEZONE" }
        guard let (series, _) = BusyRules.events(of: calendar, collectionZone: collectionZone) else { return out }
        let recurring = calendar.components.contains {
            $0.name == "VEVENT"
                && ($0.recurrenceID != nil || $0.property("RRULE") != nil || $0.property("RDATE") != nil)
        }
        var instances: [ICalComponent] = []
        for instance in series.instances(from: range.start.utcSeconds, to: range.end.utcSeconds) {
            var c = instance.source.component
            c.properties.removeAll { recurrenceProperties.contains($0.name) }
            var times: [ICalProperty]
            if instance.isAllDay {
                times = [
                    ICalProperty("DTSTART", value(instance.writtenStart)),
                    ICalProperty("DTEND", value(instance.writtenEnd)),
                ]
            } else {
                times = [
                    ICalProperty("DTSTART", .dateTime(ICalDateTime(utcSeconds: instance.start))),
                    ICalProperty("DTEND", .dateTime(ICalDateTime(utcSeconds: instance.end))),
                ]
            }
            if recurring {
                let rid: ICalValue =
                    instance.isAllDay
                    ? value(instance.writtenRecurrenceID) : .dateTime(ICalDateTime(utcSeconds: instance.recurrenceID))
                times.append(ICalProperty("RECURRENCE-ID", rid))
            }
            let at = (c.properties.firstIndex { $0.name == "UID" } ?? -1) + 1
            c.properties.insert(contentsOf: times, at: at)
            instances.append(c)
        }
        guard !instances.isEmpty else { return nil }
        out.components = instances + out.components
        return out
    }

    static func value(_ written: WrittenTime) -> ICalValue {
        switch written {
        case .date(let d): .date(d)
        case .dateTime(let dt, _): .dateTime(dt)
        }
    }
}
