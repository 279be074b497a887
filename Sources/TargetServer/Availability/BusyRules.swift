import CalendarModel
import Recurrence

/// How an instance counts in free/busy time; a free instance has no status at all.
enum BusyStatus: String, Sendable, Hashable, Codable {
    case busy, tentative
}

/// A busy or tentative stretch of time, in UTC epoch seconds.
struct BusyPeriod: Sendable, Hashable {
    var start: Int64
    var end: Int64
    var status: BusyStatus
}

/// One busy or tentative instance as the index keeps it. A floating or DATE time of a calendar
/// without a usable X-WR-TIMEZONE has no instant of its own: it is kept as wall-clock seconds
/// and placed in the zone each query names.
struct BusyInstance: Sendable, Hashable {
    /// UTC epoch seconds, or wall-clock seconds (since 1970-01-01T00:00:00 local) when floating.
    var start: Int64
    var end: Int64
    var isFloating: Bool
    var status: BusyStatus

    /// The instance at its instant: a floating one placed in `zone`. Nil when that leaves it no
    /// length (a floating 02:00–03:00 on the day the clocks skip that hour), since zero-length
    /// instances are free.
    func placed(in zone: ZoneRules) -> BusyPeriod? {
        let (s, e) = isFloating ? (zone.utc(fromLocal: start), zone.utc(fromLocal: end)) : (start, end)
        return e > s ? BusyPeriod(start: s, end: e, status: status) : nil
    }
}

/// The free/busy rules of RFC 4791 §7.10, applied per instance, an override deciding for itself:
/// STATUS:CANCELLED or TRANSP:TRANSPARENT is free, STATUS:TENTATIVE is tentative, anything else
/// is busy; a zero-length instance is free; VTODO and VJOURNAL never count. Pure.
enum BusyRules {
    /// How far (seconds) a floating time can lie from its instant in any zone (UTC-12 to UTC+14),
    /// rounded up to a day: a query widens its window by this much to find floating instances.
    static let floatingSlack: Int64 = 86_400

    /// What one instance counts as, from its own component's properties (an override's STATUS
    /// and TRANSP are its own: RFC 5545 gives overrides no inheritance from the master).
    static func status(of instance: RecurrenceInstance) -> BusyStatus? {
        guard instance.componentName == "VEVENT", instance.end > instance.start else { return nil }
        if instance.status == "CANCELLED" || instance.transp == "TRANSPARENT" { return nil }
        return instance.status == "TENTATIVE" ? .tentative : .busy
    }

    /// The busy and tentative instances of one entity's calendar (a VCALENDAR with one UID)
    /// whose numbers overlap `[from, to)`: instants for fixed times, wall-clock seconds for
    /// floating ones (so a caller widens its window by `floatingSlack` and places them).
    ///
    /// DATE and floating times go in the calendar's X-WR-TIMEZONE when it names a zone some
    /// source knows; otherwise they stay floating, as do times of a TZID nobody knows (which
    /// the recurrence engine reads as floating).
    static func instances(
        of calendar: ICalComponent, from: Int64, to: Int64,
        options: ExpansionOptions = ExpansionOptions()
    ) -> [BusyInstance] {
        var out: [BusyInstance] = []
        forEach(of: calendar, from: from, to: to, options: options) { out.append($1) }
        return out
    }

    /// Hands over each busy or tentative instance as `instances` finds it, with the recurrence
    /// instance it comes from (its UID and RECURRENCE-ID name it in a busy-only feed).
    static func forEach(
        of calendar: ICalComponent, from: Int64, to: Int64, options: ExpansionOptions = ExpansionOptions(),
        _ body: (RecurrenceInstance, BusyInstance) -> Void
    ) {
        guard from < to, let (series, zones) = events(of: calendar, options: options) else { return }
        for instance in series.instances(from: from, to: to) {
            guard let status = status(of: instance) else { continue }
            body(
                instance,
                BusyInstance(
                    start: instance.start, end: instance.end,
                    isFloating: isFloating(instance, zones: zones), status: status))
        }
    }

    /// The VEVENT series of one entity's calendar and the resolver of its zones (its VTIMEZONEs,
    /// its X-WR-TIMEZONE for DATE and floating times, else UTC wall-clock seconds); nil when it
    /// has no VEVENT.
    /// `collectionZone`: the zone of the entity's collection, for an entity without an
    /// X-WR-TIMEZONE of its own.
    static func events(
        of calendar: ICalComponent, options: ExpansionOptions = ExpansionOptions(), collectionZone: String? = nil
    ) -> (RecurrenceSeries, ZoneResolver)? {
        let events = calendar.components.filter { $0.name == "VEVENT" }
        guard !events.isEmpty else { return nil }
        var utcOptions = options
        utcOptions.floatingZone = "UTC"  // floating values come out as their wall-clock seconds
        let zones = ZoneResolver(
            timezones: calendar.components.filter { $0.name == "VTIMEZONE" },
            calendarZone: calendar.property("X-WR-TIMEZONE")?.text ?? collectionZone, options: utcOptions)
        return (RecurrenceSeries(components: events, zones: zones, options: utcOptions), zones)
    }

    /// Whether an instance's times are wall-clock times with no zone of their own.
    static func isFloating(_ instance: RecurrenceInstance, zones: ZoneResolver) -> Bool {
        if zones.floatingFromCalendar { return false }
        if instance.isAllDay { return true }
        if let tzid = instance.tzid { return zones.zone(named: tzid) == nil }
        if case .dateTime(let written, _) = instance.writtenStart { return !written.isUTC }
        return true
    }

    /// A query's busy periods of one source: the instances placed in `zone`, those overlapping
    /// `[from, to)` kept.
    static func periods(_ instances: [BusyInstance], in zone: ZoneRules, from: Int64, to: Int64) -> [BusyPeriod] {
        instances.compactMap { $0.placed(in: zone) }.filter { $0.start < to && $0.end > from }
    }

    /// Busy periods and tentative ones (less what is busy anyway), each coalesced and clipped to
    /// `periods` (sorted, disjoint): what RFC 4791 §7.10 asks of a VFREEBUSY, per FBTYPE.
    static func coalesced(_ all: [BusyPeriod], within periods: [TimeSpan]) -> (
        busy: [TimeSpan], tentative: [TimeSpan]
    ) {
        func spans(_ status: BusyStatus) -> [TimeSpan] {
            TimeSpan.merged(all.filter { $0.status == status }.map { TimeSpan(start: $0.start, end: $0.end) })
        }
        let busy = spans(.busy)
        let tentative = TimeSpan.subtracting(busy, from: spans(.tentative))
        return (TimeSpan.intersecting(busy, with: periods), TimeSpan.intersecting(tentative, with: periods))
    }
}
