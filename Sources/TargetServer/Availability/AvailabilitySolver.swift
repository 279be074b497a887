/// Answers an availability query from each member's busy periods. Pure.
///
/// A member is free over a span when no busy or tentative period, widened by the buffers
/// (`buffer.before` after it, `buffer.after` before it), overlaps it. A span is available when,
/// in every group, at least `required` members are free over the whole of it; its participants
/// are the members free over the whole of it.
struct AvailabilitySolver {
    /// One answer line: a span and the members free over all of it, in the query's member order.
    struct Available: Sendable, Hashable {
        var span: TimeSpan
        var members: [String]
    }

    /// One member's busy or tentative stretch, coalesced and clipped to the query periods.
    struct Busy: Sendable, Hashable {
        var member: String
        var span: TimeSpan
        var status: BusyStatus
    }

    let query: AvailabilityQuery
    /// Each member's free spans inside the query periods, sorted and disjoint.
    let free: [String: [TimeSpan]]
    private let busy: [String: [BusyPeriod]]

    /// - Parameter busy: each member's busy and tentative periods (UTC), in any order.
    init(query: AvailabilityQuery, busy: [String: [BusyPeriod]]) {
        self.query = query
        self.busy = busy
        var free: [String: [TimeSpan]] = [:]
        for m in query.members {
            let widened = (busy[m] ?? []).map {
                TimeSpan(start: $0.start - query.bufferAfter, end: $0.end + query.bufferBefore)
            }
            free[m] = TimeSpan.subtracting(TimeSpan.merged(widened), from: query.periods)
        }
        self.free = free
    }

    /// The maximal available periods at least `requiredDuration` long (any length when it is 0).
    /// Two may overlap when different members make them available (with `required` below all).
    func periods() -> [Available] {
        var starts = Set<Int64>()
        for spans in free.values { for s in spans { starts.insert(s.start) } }
        var out: [Available] = []
        var reached = Int64.min
        // A maximal period starts where some member's free span starts (before it, the same
        // members were free and so it would extend back); from there it runs as far as the
        // groups allow. One contained in an earlier one is not maximal.
        for start in starts.sorted() {
            var endOf: [String: Int64] = [:]
            for m in query.members { endOf[m] = freeEnd(of: m, at: start) }
            var end = Int64.max
            for g in query.groups {
                let groupEnds = g.members.compactMap { endOf[$0] }.sorted(by: >)
                guard groupEnds.count >= g.required else {
                    end = start
                    break
                }
                end = min(end, groupEnds[g.required - 1])
            }
            guard end > start, end > reached else { continue }
            reached = end
            guard end - start >= max(query.requiredDuration, 1) else { continue }
            out.append(
                Available(
                    span: TimeSpan(start: start, end: end),
                    members: query.members.filter { (endOf[$0] ?? .min) >= end }))
        }
        return out
    }

    /// Slots of `requiredDuration`, starting at each query period's start and every
    /// `startInterval` after it, that are available.
    func slots() -> [Available] {
        guard query.requiredDuration > 0, query.startInterval > 0 else { return [] }
        var out: [Available] = []
        for p in query.periods {
            var t = p.start
            while t + query.requiredDuration <= p.end {
                let span = TimeSpan(start: t, end: t + query.requiredDuration)
                let members = query.members.filter { isFree($0, over: span) }
                if query.groups.allSatisfy({ g in g.members.filter(members.contains).count >= g.required }) {
                    out.append(Available(span: span, members: members))
                }
                t += query.startInterval
            }
        }
        return out
    }

    /// Each member's busy periods and tentative ones (less what is busy anyway), coalesced and
    /// clipped to the query periods, by member (in query order) and then start.
    func busyPeriods() -> [Busy] {
        query.members.flatMap { m -> [Busy] in
            let (busySpans, tentative) = BusyRules.coalesced(busy[m] ?? [], within: query.periods)
            let lines =
                busySpans.map { Busy(member: m, span: $0, status: .busy) }
                + tentative.map { Busy(member: m, span: $0, status: .tentative) }
            return lines.sorted { $0.span.start < $1.span.start }
        }
    }

    /// The end of the member's free span holding `t`, or nil when the member is not free at `t`.
    func freeEnd(of member: String, at t: Int64) -> Int64? {
        guard let spans = free[member], let i = index(in: spans, at: t) else { return nil }
        return spans[i].end
    }

    /// Whether the member is free over all of `span`.
    func isFree(_ member: String, over span: TimeSpan) -> Bool {
        guard let end = freeEnd(of: member, at: span.start) else { return false }
        return end >= span.end
    }

    /// The index of the span holding `t` (binary search), if any.
    private func index(in spans: [TimeSpan], at t: Int64) -> Int? {
        var lo = 0
        var hi = spans.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if spans[mid].end <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo < spans.count && spans[lo].start <= t ? lo : nil
    }
}
