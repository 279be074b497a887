/// A checked `POST /availability` request: who must be free, when, and in which answer.
struct AvailabilityQuery: Sendable, Hashable {
    /// A group of members of which `required` must be free (all of them, or at least N).
    struct Group: Sendable, Hashable {
        var members: [String]
        var required: Int
    }

    /// What the answer lists.
    enum Format: String, Sendable, Hashable, CaseIterable {
        /// Maximal available periods of at least the required duration.
        case periods
        /// Slots of the required duration, starting every `startInterval`.
        case slots
        /// Each member's busy and tentative periods.
        case busy
    }

    var groups: [Group]
    /// Sorted, overlapping and touching ones merged.
    var periods: [TimeSpan]
    /// Seconds; 0 when none was asked.
    var requiredDuration: Int64
    var bufferBefore: Int64
    var bufferAfter: Int64
    /// Seconds between slot starts (counted from each query period's start).
    var startInterval: Int64
    /// The zone floating and DATE times are placed in when a calendar names none.
    var zone: String
    var format: Format
    /// Seconds after which a member's mirror counts as stale; nil: twice its refresh interval.
    var maxStaleness: Int64? = nil
    /// A stale member makes the answer 503 instead of an answer.
    var requireFresh = false

    /// Every member once, in the order they first appear.
    var members: [String] {
        var seen = Set<String>()
        return groups.flatMap(\.members).filter { seen.insert($0).inserted }
    }

    /// The span whose busy periods can matter: the query periods widened by the buffers.
    var fetchWindow: TimeSpan {
        TimeSpan(start: (periods.first?.start ?? 0) - bufferBefore, end: (periods.last?.end ?? 0) + bufferAfter)
    }
}

/// A half-open span of UTC epoch seconds.
struct TimeSpan: Sendable, Hashable {
    var start: Int64
    var end: Int64

    /// Sorted, with overlapping and touching spans merged into one.
    static func merged(_ spans: [TimeSpan]) -> [TimeSpan] {
        var out: [TimeSpan] = []
        for s in spans.sorted(by: { $0.start < $1.start }) where s.end > s.start {
            if let last = out.last, s.start <= last.end {
                out[out.count - 1].end = max(last.end, s.end)
            } else {
                out.append(s)
            }
        }
        return out
    }

    /// `spans` (sorted, disjoint) less `holes` (sorted, disjoint).
    static func subtracting(_ holes: [TimeSpan], from spans: [TimeSpan]) -> [TimeSpan] {
        var out: [TimeSpan] = []
        var h = 0
        for s in spans {
            var cursor = s.start
            while h < holes.count, holes[h].end <= cursor { h += 1 }
            var k = h
            while k < holes.count, holes[k].start < s.end {
                if holes[k].start > cursor { out.append(TimeSpan(start: cursor, end: holes[k].start)) }
                cursor = max(cursor, holes[k].end)
                k += 1
            }
            if cursor < s.end { out.append(TimeSpan(start: cursor, end: s.end)) }
        }
        return out
    }

    /// `spans` (sorted, disjoint) clipped to `to` (sorted, disjoint).
    static func intersecting(_ spans: [TimeSpan], with to: [TimeSpan]) -> [TimeSpan] {
        subtracting(subtracting(to, from: spans), from: spans)
    }
}
