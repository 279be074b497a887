import CalendarModel

/// One item's recurrence set, read once and ready to expand over any window: the master's
/// DTSTART, RRULEs, RDATEs and EXDATEs with its duration, and the RECURRENCE-ID overrides
/// (RFC 5545 §3.8.5, §3.8.4.4).
///
/// Reading resolves every zone and checks every rule; what was wrong is in `diagnostics`.
/// The value is immutable and may be shared across threads; each query gets its own iterator.
public struct RecurrenceSeries: Sendable {
    /// The UID of the item.
    public let uid: String?
    /// What was wrong with the item, found while reading it.
    public let diagnostics: [RecurrenceDiagnostic]
    let master: MasterPlan?
    /// The overrides' own instances, by start.
    let overrides: [RecurrenceInstance]
    let instanceCap: Int
    let maxEmptyPeriods: Int

    /// Reads one item: a master and its overrides (components sharing a UID; any order).
    /// - Parameters:
    ///   - components: the VEVENT, VTODO or VJOURNAL components of one item.
    ///   - zones: the resolver for the calendar the components are in.
    public init(components: [ICalComponent], zones: ZoneResolver, options: ExpansionOptions = ExpansionOptions()) {
        let properties = components.map(SeriesProperties.init)
        let uid = properties.first?.uid?.text
        var builder = SeriesBuilder(reader: TimeReader(zones: zones, uid: uid), uid: uid)
        let masterIndex = properties.firstIndex { !$0.isOverride }
        // Overrides are matched to the master's instances by instant (written in any zone, or as
        // the DATE of a DATE-TIME series' day), one override per instance.
        let masterStart = masterIndex.flatMap { builder.reader.read(properties[$0].dtstart) }
        var plans: [SeriesBuilder.Override] = []
        for i in components.indices where properties[i].isOverride {
            if let plan = builder.override(components[i], properties[i], masterStart: masterStart) {
                plans.append(plan)
            }
        }
        plans = builder.oneOverridePerInstance(plans)
        master = masterIndex.flatMap { builder.master(components[$0], properties[$0], overrides: &plans) }
        overrides = plans.map(\.instance).sorted { $0.start < $1.start }
        self.uid = uid
        diagnostics = builder.diagnostics
        instanceCap = options.instanceCap
        maxEmptyPeriods = options.maxEmptyPeriods
    }

    /// Reads one item of a grouped feed (`ItemGrouper`).
    public init(item: ICalItem, zones: ZoneResolver, options: ExpansionOptions = ExpansionOptions()) {
        self.init(components: item.components, zones: zones, options: options)
    }

    /// The instances that overlap `[start, end)` (UTC epoch seconds), lazily and in start order.
    /// An instance overlaps when it starts before `end` and ends after `start`; a zero-length
    /// one when it starts in the window (RFC 4791 §9.9).
    public func instances(from start: Int64, to end: Int64) -> SeriesIterator {
        SeriesIterator(series: self, windowStart: start, windowEnd: end)
    }
}

/// The master's part of a series, compiled.
final class MasterPlan: Sendable {
    struct Rule: Sendable {
        var compiled: CompiledRule
        var until: RuleIterator.Until
        var recur: ICalRecur

        /// The rule's text, for diagnostics.
        var text: String { RecurrenceRule.describe(recur) }
    }

    /// An RDATE: its instant, wall-clock time and, for a PERIOD, its own end.
    struct RDate: Sendable {
        var utc: Int64
        var local: Int64
        var end: Int64?
    }

    /// A RANGE=THISANDFUTURE override: every later instance moves by `shift` of wall-clock time
    /// (its wall-clock start in the override's zone, as RFC 5545 §3.8.4.4 keeps a series' wall
    /// time across a change of offset) and lasts `length` seconds.
    struct Future: Sendable {
        var recurrenceID: Int64
        var shift: Int64
        var length: Int64
        var zone: ZoneRules
        var source: InstanceSource
    }

    let source: InstanceSource
    let zone: ZoneRules
    let start: TimePointValue
    let rules: [Rule]
    /// EXRULEs (RFC 2445): the instances they give are excluded, as EXDATEs are.
    let exrules: [Rule]
    let rdates: [RDate]
    let excludedInstants: SortedValues<Int64>
    let excludedDays: SortedValues<Int>
    let duration: DurationPlan
    let overridden: SortedValues<Int64>
    let futures: [Future]
    /// Bounds used to widen a window so that moved and long instances are not missed.
    let longest: Int64
    let earliestShift: Int64
    let latestShift: Int64

    init(
        source: InstanceSource, zone: ZoneRules, start: TimePointValue, rules: [Rule], exrules: [Rule] = [],
        rdates: [RDate],
        excludedInstants: [Int64], excludedDays: [Int], duration: DurationPlan, overridden: [Int64],
        futures: [Future]
    ) {
        self.source = source
        self.zone = zone
        self.start = start
        self.rules = rules
        self.exrules = exrules
        self.rdates = rdates
        self.excludedInstants = SortedValues(excludedInstants)
        self.excludedDays = SortedValues(excludedDays)
        self.duration = duration
        self.overridden = SortedValues(overridden)
        self.futures = futures
        var longest = duration.longest
        for r in rdates { if let e = r.end { longest = max(longest, e - r.utc) } }
        for f in futures { longest = max(longest, f.length) }
        self.longest = longest
        // A wall-clock shift moves an instant by up to the difference of two offsets more (a
        // change of DST, or the override's other zone): two days bound it.
        earliestShift = futures.map(\.shift).min().map { min(0, $0 - 2 * 86_400) } ?? 0
        latestShift = futures.map(\.shift).max().map { max(0, $0 + 2 * 86_400) } ?? 0
    }
}

extension MasterPlan {
    /// An iterator of `rule` from DTSTART, skipped to the wall-clock time `from`, stopping at `to`.
    func iterator(of rule: Rule, from: Int64, to: Int64, series: RecurrenceSeries) -> RuleIterator {
        var it = RuleIterator(rule: rule.compiled, zone: zone, dtstart: start.local, until: rule.until)
        it.localLimit = to
        it.maxEmptyPeriods = series.maxEmptyPeriods
        it.skip(toLocal: from)
        return it
    }
}

/// A start time in both clocks.
struct TimePointValue: Sendable {
    var local: Int64
    var utc: Int64
}
