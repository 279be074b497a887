import CalendarModel
import Dispatch

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
    /// - Parameter concurrently: whether the series are read on two threads (each half of the
    ///   items on one; the result is the same).
    public init(document: ICalDocument, options: ExpansionOptions = ExpansionOptions(), concurrently: Bool = false) {
        // Every item's zones are among the document's, which the resolver is given first.
        let timezones = document.calendars.flatMap { $0.components.filter { $0.name == "VTIMEZONE" } }
        // Making a zone's table from the system's database takes about a millisecond; on two
        // threads, the calendar's zones are looked up while the items are grouped (the
        // database keeps the tables for the process, so the series' resolvers find them made).
        let zonesLookedUp = DispatchGroup()
        if concurrently {
            let calendarZone = document.calendars.first?.properties.first { $0.name == "X-WR-TIMEZONE" }?.text
            DispatchQueue.global().async(group: zonesLookedUp) {
                let resolver = ZoneResolver(timezones: timezones, calendarZone: calendarZone, options: options)
                for zone in timezones { _ = zone.property("TZID")?.text.map { resolver.zone(named: $0) } }
            }
        }
        let items = ItemGrouper.items(from: document, collectingZones: false)
        zonesLookedUp.wait()
        self.init(
            items: items.items, timezones: timezones, calendarProperties: items.calendarProperties, options: options,
            concurrently: concurrently)
    }

    /// Reads grouped items with the calendar's VTIMEZONEs and calendar-level properties (for
    /// X-WR-TIMEZONE).
    /// - Parameter concurrently: whether the series are read on two threads (each half of the
    ///   items on one, with a zone resolver of its own; the result is the same).
    public init(
        items: [ICalItem], timezones: [ICalComponent], calendarProperties: [ICalProperty],
        options: ExpansionOptions = ExpansionOptions(), concurrently: Bool = false
    ) {
        let calendarZone = calendarProperties.first { $0.name == "X-WR-TIMEZONE" }?.text
        let timezones = timezones + items.flatMap(\.timezones)
        let reading: Reading
        if concurrently {
            let middle = items.count / 2
            let halves = [0..<middle, middle..<items.count].concurrentMap(minimumPerThread: 1, state: {}) { _, range in
                Reading(items[range], timezones: timezones, calendarZone: calendarZone, options: options)
            }
            reading = halves[0].followed(by: halves[1])
        } else {
            reading = Reading(items[...], timezones: timezones, calendarZone: calendarZone, options: options)
        }
        series = reading.series
        diagnostics = reading.zoneReports.map(\.diagnostic) + reading.series.flatMap(\.diagnostics)
        floatingZone = reading.floatingZone
        floatingFromCalendar = reading.floatingFromCalendar
    }

    /// Some items' series, read with a zone resolver of their own.
    private struct Reading: Sendable {
        var series: [RecurrenceSeries]
        var zoneReports: [ZoneResolver.Report]
        var floatingZone: ZoneRules
        var floatingFromCalendar: Bool

        init(
            _ items: ArraySlice<ICalItem>, timezones: [ICalComponent], calendarZone: String?, options: ExpansionOptions
        ) {
            let resolver = ZoneResolver(timezones: timezones, calendarZone: calendarZone, options: options)
            series = items.map { RecurrenceSeries(item: $0, zones: resolver, options: options) }
            zoneReports = resolver.reports
            floatingZone = resolver.floating
            floatingFromCalendar = resolver.floatingFromCalendar
        }

        /// This reading and then `later` (of the items after these), as one resolver would
        /// have read them all.
        func followed(by later: Reading) -> Reading {
            var both = self
            both.series += later.series
            both.zoneReports = ZoneResolver.Report.merged(zoneReports, later.zoneReports)
            return both
        }
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
