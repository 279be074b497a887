/// Gives an item's floating DATE-TIMEs the calendar's zone (`floating: zone`): what Google and
/// Apple do with a feed's X-WR-TIMEZONE, so the mirror shows what their users see.
///
/// DTSTART, DTEND, DUE, RECURRENCE-ID, RDATE and EXDATE whose values are all floating DATE-TIMEs
/// (or PERIODs starting at one) get `TZID=` the calendar's X-WR-TIMEZONE; DATEs, UTC times and
/// times that already have a TZID stay as written. The feed's VTIMEZONE of that TZID, if it has
/// one, goes with the item; without one the TZID is left for the target to resolve (an IANA name
/// such as Europe/Berlin, as X-WR-TIMEZONE carries). An RRULE's UNTIL is left as written.
public struct FloatingZoner: Sendable {
    /// The zone given: the calendar's X-WR-TIMEZONE.
    public let tzid: String
    /// The feed's VTIMEZONE of that TZID, if it has one.
    public let timezone: ICalComponent?

    /// The properties whose floating times are zoned.
    public static let zonedProperties: Set<String> = ["DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "RDATE", "EXDATE"]

    /// Nil when the calendar has no X-WR-TIMEZONE (or an empty one): floating times stay.
    public init?(calendarProperties: [ICalProperty], timezones: [ICalComponent]) {
        guard let tzid = Self.calendarZone(calendarProperties) else { return nil }
        self.tzid = tzid
        timezone = timezones.first { $0.property("TZID")?.text == tzid }
    }

    /// The calendar's X-WR-TIMEZONE without surrounding spaces; nil when it has none (or an
    /// empty one).
    public static func calendarZone(_ calendarProperties: [ICalProperty]) -> String? {
        guard let tzid = calendarProperties.first(where: { $0.name == "X-WR-TIMEZONE" })?.text?.trimmingSpaces,
            !tzid.isEmpty
        else { return nil }
        return tzid
    }

    /// The item with its floating times in the zone (unchanged when it has none).
    public func zone(_ item: ICalItem) -> ICalItem {
        var out = item
        var changed = false
        for i in out.components.indices {
            for j in out.components[i].properties.indices where Self.isFloating(out.components[i].properties[j]) {
                out.components[i].properties[j].parameters.append(ICalParameter("TZID", tzid))
                changed = true
            }
        }
        if changed, let timezone, !out.timezones.contains(where: { $0.property("TZID")?.text == tzid }) {
            out.timezones.append(timezone)
            out.timezones.sort { ($0.property("TZID")?.text ?? "") < ($1.property("TZID")?.text ?? "") }
        }
        return out
    }

    /// True when an item has a floating time that `zone` would give a zone.
    public static func hasFloating(_ item: ICalItem) -> Bool {
        item.components.contains { $0.properties.contains(where: isFloating) }
    }

    /// A zoned property without TZID whose values are all floating DATE-TIMEs (or PERIODs from one).
    static func isFloating(_ p: ICalProperty) -> Bool {
        guard zonedProperties.contains(p.name), p.parameter("TZID") == nil, !p.values.isEmpty else { return false }
        return p.values.allSatisfy { v in
            switch v {
            case .dateTime(let t): !t.isUTC
            case .period(let period): !period.start.isUTC
            default: false
            }
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
