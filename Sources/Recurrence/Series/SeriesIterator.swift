/// The instances of one series in a window, lazily and in start order.
///
/// The sources (DTSTART, each RRULE, the RDATEs) are merged by instant, duplicates dropped;
/// EXDATEs and individually overridden instances are left out, RANGE=THISANDFUTURE overrides
/// reshape the later ones, and the overrides' own instances are merged in. Nothing before the
/// window is generated when the rule allows jumping there; nothing after it is looked at.
public struct SeriesIterator: IteratorProtocol, Sequence {
    /// Problems met while iterating (a rule that never matches, the instance cap).
    public internal(set) var diagnostics: [RecurrenceDiagnostic] = []

    let master: MasterPlan?
    let overrides: [RecurrenceInstance]
    let uid: String?
    let windowStart: Int64
    let windowEnd: Int64
    let cap: Int
    var rules: [RuleIterator] = []
    var ruleHeads: [(local: Int64, utc: Int64)?] = []
    var ruleLast: [Int64] = []
    var ruleDone: [Bool] = []
    var rdateIndex = 0
    var startPending: Bool
    var overrideIndex = 0
    var futureIndex = 0
    var lastBase = Int64.min
    var pending: [RecurrenceInstance] = []
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
        overrides = series.overrides.filter { Self.overlaps($0.start, $0.end, windowStart, windowEnd) }
        startPending = series.master != nil
        guard let m = series.master else { return }
        // Rules run in wall-clock time: widen the window by a day on each side for the zone's
        // offset, and by the longest instance and the largest THISANDFUTURE shift.
        let from = windowStart - m.longest - m.latestShift - 2 * 86_400
        let to = windowEnd - m.earliestShift + 2 * 86_400
        for rule in m.rules {
            var it = RuleIterator(rule: rule.compiled, zone: m.zone, dtstart: m.start.local, until: rule.until)
            it.localLimit = to
            it.maxEmptyPeriods = series.maxEmptyPeriods
            it.skip(toLocal: from)
            rules.append(it)
        }
        ruleHeads = Array(repeating: nil, count: rules.count)
        ruleLast = Array(repeating: .min, count: rules.count)
        ruleDone = Array(repeating: false, count: rules.count)
        while rdateIndex < m.rdates.count && m.rdates[rdateIndex].utc < from { rdateIndex += 1 }
    }

    static func overlaps(_ start: Int64, _ end: Int64, _ windowStart: Int64, _ windowEnd: Int64) -> Bool {
        start < windowEnd && (end > windowStart || start >= windowStart)
    }

    /// The next instance, or nil when the window (or the series, or the cap) is done.
    public mutating func next() -> RecurrenceInstance? {
        while !done {
            let base = baseDone ? nil : nextBaseInstant()
            let bound = base.map { $0 + (master?.earliestShift ?? 0) }
            if let candidate = nextReady(), candidate.start <= (bound ?? .max) {
                return emit(candidate)
            }
            guard let bound, bound < windowEnd else {
                if pendingHead >= pending.count && overrideIndex >= overrides.count { done = true }
                baseDone = true
                continue
            }
            takeBase()
        }
        return nil
    }

    private mutating func emit(_ instance: RecurrenceInstance) -> RecurrenceInstance? {
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
        if overrideIndex < overrides.count && overrides[overrideIndex] == instance {
            overrideIndex += 1
        } else {
            pendingHead += 1
            if pendingHead > 256 && pendingHead * 2 > pending.count {
                pending.removeFirst(pendingHead)
                pendingHead = 0
            }
        }
        return instance
    }

    /// The earlier of the next finished instance and the next override.
    private func nextReady() -> RecurrenceInstance? {
        let p = pendingHead < pending.count ? pending[pendingHead] : nil
        let o = overrideIndex < overrides.count ? overrides[overrideIndex] : nil
        guard let o else { return p }
        guard let p else { return o }
        return o.start < p.start ? o : p
    }
}
