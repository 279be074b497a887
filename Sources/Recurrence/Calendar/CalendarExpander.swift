import CalendarModel

/// Every series of a calendar (all its VCALENDARs), read once, and expanded on demand into
/// instances in start order.
///
/// Components are grouped into items by UID (`ItemGrouper`: the master and its overrides, the
/// later revision kept when one is duplicated). Zones are resolved once for the whole document.
/// The value is immutable and may be shared across threads; each query gets its own iterator.
public struct CalendarExpander: Sendable {
    /// The series, in the order their items first appear.
    public let series: [RecurrenceSeries]
    /// What was wrong, found while reading: zones, then each series' problems.
    public let diagnostics: [RecurrenceDiagnostic]
    /// The zone floating and DATE values were placed in.
    public let floatingZone: ZoneRules
    /// True when floating and DATE values are placed in the calendar's own X-WR-TIMEZONE.
    public let floatingFromCalendar: Bool

    /// Reads a parsed document.
    public init(document: ICalDocument, options: ExpansionOptions = ExpansionOptions()) {
        // Every item's zones are among the document's, which the resolver is given first.
        let items = ItemGrouper.items(from: document, collectingZones: false)
        let timezones = document.calendars.flatMap { $0.components.filter { $0.name == "VTIMEZONE" } }
        self.init(
            items: items.items, timezones: timezones, calendarProperties: items.calendarProperties, options: options)
    }

    /// Reads grouped items with the calendar's VTIMEZONEs and calendar-level properties (for
    /// X-WR-TIMEZONE).
    public init(
        items: [ICalItem], timezones: [ICalComponent], calendarProperties: [ICalProperty],
        options: ExpansionOptions = ExpansionOptions()
    ) {
        let calendarZone = calendarProperties.first { $0.name == "X-WR-TIMEZONE" }?.text
        let resolver = ZoneResolver(
            timezones: timezones + items.flatMap(\.timezones), calendarZone: calendarZone, options: options)
        let series = items.map { RecurrenceSeries(item: $0, zones: resolver, options: options) }
        self.series = series
        diagnostics = resolver.diagnostics + series.flatMap(\.diagnostics)
        floatingZone = resolver.floating
        floatingFromCalendar = resolver.floatingFromCalendar
    }

    /// The instances of every series that overlap `[start, end)` (UTC epoch seconds), lazily,
    /// in start order (ties: the order of the series, then of the instances).
    public func instances(from start: Int64, to end: Int64) -> CalendarInstanceIterator {
        CalendarInstanceIterator(series.map { $0.instances(from: start, to: end) })
    }

    /// All the instances in `[start, end)`, sorted by start.
    public func allInstances(from start: Int64, to end: Int64) -> [RecurrenceInstance] {
        Array(instances(from: start, to: end))
    }
}
