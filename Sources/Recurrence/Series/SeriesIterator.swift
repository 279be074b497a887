/// The instances of one series in a window, lazily and in start order.
///
/// The sources (DTSTART, each RRULE, the RDATEs) are merged by instant, duplicates dropped;
/// EXDATEs and individually overridden instances are left out, RANGE=THISANDFUTURE overrides
/// reshape the later ones, and the overrides' own instances are merged in. Nothing before the
/// window is generated when the rule allows jumping there; nothing after it is looked at.
public struct SeriesIterator: IteratorProtocol, Sequence {
    /// Problems met while iterating (a rule that never matches, the instance cap).
    public internal(set) var diagnostics: [RecurrenceDiagnostic] = []

    /// One RRULE's iterator and the next instance it gave, not yet taken.
    struct RuleSource {
        var iterator: RuleIterator
        var head: (local: Int64, utc: Int64)?
        /// The instant of the last instance taken (a DST gap can move two onto one instant).
        var last = Int64.min
        var isDone = false
    }

    /// A base instance filed to be yielded, in plain numbers: it becomes a `RecurrenceInstance`
    /// (with its source) only when it is yielded.
    struct Pending {
        var start: Int64
        var end: Int64
        var localStart: Int64
        var localEnd: Int64
        var recurrenceID: Int64
        var localRecurrenceID: Int64
        /// The index in `MasterPlan.futures` of the THISANDFUTURE override that reshaped it, or -1.
        var future: Int
    }

    let master: MasterPlan?
    let overrides: [RecurrenceInstance]
    let uid: String?
    let windowStart: Int64
    let windowEnd: Int64
    let cap: Int
    var rules: [RuleSource] = []
    /// The EXRULEs' iterators, each at its next instance not before the last base instance.
    var exclusions: [RuleSource] = []
    var rdateIndex = 0
    /// DTSTART, until it is taken (the recurrence set's first instance, RFC 5545 §3.8.5).
    var untakenStart: TimePointValue?
    /// The master's RDATEs, by instant.
    let rdates: [MasterPlan.RDate]
    /// How far back a THISANDFUTURE override moves instances (0 or less).
    let earliestShift: Int64
    var overrideIndex = 0
    var futureIndex = 0
    var lastBase = Int64.min
    var pending: [Pending] = []
    var pendingHead = 0
    var yielded = 0
    var baseDone = false
    var done = false

    init(series: RecurrenceSeries, windowStart: Int64, windowEnd: Int64) {
        master = series.master
        uid = series.uid
        // About ±35 million years: far beyond any calendar, and far from overflowing.
        let bound: Int64 = 1 << 50
        let windowStart = Swift.min(Swift.max(windowStart, -bound), bound)
        let windowEnd = Swift.min(Swift.max(windowEnd, -bound), bound)
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        cap = series.instanceCap
        // A window usually holds every override: the series' array is then shared, not copied.
        let inWindow = { (o: RecurrenceInstance) in Self.overlaps(o.start, o.end, windowStart, windowEnd) }
        overrides = series.overrides.allSatisfy(inWindow) ? series.overrides : series.overrides.filter(inWindow)
        untakenStart = series.master?.start
        rdates = series.master?.rdates ?? []
        earliestShift = series.master?.earliestShift ?? 0
        guard let m = series.master else { return }
        // Rules run in wall-clock time: widen the window by a day on each side for the zone's
        // offset, and by the longest instance and the largest THISANDFUTURE shift.
        let from = windowStart - m.longest - m.latestShift - 2 * 86_400
        let to = windowEnd - m.earliestShift + 2 * 86_400
        rules.reserveCapacity(m.rules.count)
        for i in m.rules.indices {  // by index: a rule's parsed text is not copied
            rules.append(RuleSource(iterator: m.iterator(of: m.rules[i], from: from, to: to, series: series)))
        }
        for rule in m.exrules {
            exclusions.append(RuleSource(iterator: m.iterator(of: rule, from: from, to: to, series: series)))
        }
        while rdateIndex < m.rdates.count && m.rdates[rdateIndex].utc < from { rdateIndex += 1 }
    }

    static func overlaps(_ start: Int64, _ end: Int64, _ windowStart: Int64, _ windowEnd: Int64) -> Bool {
        start < windowEnd && (end > windowStart || start >= windowStart)
    }

    /// The next instance, or nil when the window (or the series, or the cap) is done.
    public mutating func next() -> RecurrenceInstance? {
        while !done {
            let base = baseDone ? nil : nextBaseInstant()
            let bound = base.map { $0 + earliestShift }
            // The earlier of the next filed instance and the next override (a tie: the filed one).
            let filed = pendingHead < pending.count ? pending[pendingHead].start : nil
            let override = overrideIndex < overrides.count ? overrides[overrideIndex].start : nil
            let takeOverride = override != nil && override! < (filed ?? .max)
            if let ready = takeOverride ? override : filed, ready <= (bound ?? .max) {
                return emit(override: takeOverride)
            }
            guard let bound, bound < windowEnd else {
                if filed == nil && override == nil { done = true }
                baseDone = true
                continue
            }
            takeBase()
        }
        return nil
    }

    private mutating func emit(override: Bool) -> RecurrenceInstance? {
        if yielded >= cap {
            done = true
            diagnostics.append(
                RecurrenceDiagnostic(
                    kind: .instanceCap,
                    message: "more than \(cap) instances in the window; the rest were not listed "
                        + "(raise ExpansionOptions.instanceCap or narrow the window)", uid: uid))
            return nil
        }
        yielded += 1
        if override {
            overrideIndex += 1
            return overrides[overrideIndex - 1]
        }
        let p = pending[pendingHead]
        pendingHead += 1
        // The queue is usually empty again at once: reuse its room rather than let it grow.
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        } else if pendingHead > 256 && pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        // Only a series with a master files instances.
        guard let m = master else { return nil }
        return RecurrenceInstance(
            start: p.start, end: p.end, localStart: p.localStart, localEnd: p.localEnd, recurrenceID: p.recurrenceID,
            localRecurrenceID: p.localRecurrenceID, isOverride: false,
            source: p.future < 0 ? m.source : m.futures[p.future].source)
    }
}
