/// A zone's UTC offsets as a table of transitions, computed once (from tzdata through a
/// `ZoneDatabase`, or from an embedded VTIMEZONE) and then read by binary search, so that
/// turning a wall-clock time into an instant costs no call into Foundation.
public final class ZoneRules: Sendable, CustomStringConvertible {
    /// The name the zone was found by (an IANA name, or the TZID of an embedded VTIMEZONE).
    public let identifier: String
    /// Where the offsets came from.
    public let source: Source
    /// UTC instants (epoch seconds) at which the offset changes, ascending.
    let transitions: [Int64]
    /// `offsets[0]` holds before the first transition, `offsets[i + 1]` after `transitions[i]`.
    let offsets: [Int32]
    /// Wall-clock start of each segment after a transition: `transitions[i] + offsets[i + 1]`.
    let localStarts: [Int64]

    /// Where a zone's offsets came from.
    public enum Source: Hashable, Sendable {
        /// The system's zone database (tzdata), by this IANA name.
        case database(String)
        /// An embedded VTIMEZONE.
        case vtimezone
        /// A fixed offset (UTC, or the place floating times are put).
        case fixed
    }

    /// A zone from an offset history.
    public init(identifier: String, source: Source, history: ZoneHistory) {
        self.identifier = identifier
        self.source = source
        var t: [Int64] = []
        var o: [Int32] = [Int32(history.initialOffset)]
        for tr in history.transitions.sorted(by: { $0.instant < $1.instant }) {
            if let last = t.last, last == tr.instant {
                o[o.count - 1] = Int32(tr.offset)
                continue
            }
            t.append(tr.instant)
            o.append(Int32(tr.offset))
        }
        transitions = t
        offsets = o
        localStarts = t.indices.map { t[$0] + Int64(o[$0 + 1]) }
    }

    /// A zone with one offset for all time.
    public convenience init(identifier: String, fixedOffset: Int) {
        self.init(
            identifier: identifier, source: .fixed, history: ZoneHistory(initialOffset: fixedOffset, transitions: []))
    }

    /// UTC.
    public static let utc = ZoneRules(identifier: "UTC", fixedOffset: 0)

    public var description: String { "ZoneRules(\(identifier), \(transitions.count) transitions)" }

    /// The offset (seconds east of UTC) in force at a UTC instant.
    public func offset(atUTC instant: Int64) -> Int {
        var lo = 0
        var hi = transitions.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if transitions[mid] <= instant { lo = mid + 1 } else { hi = mid }
        }
        return Int(offsets[lo])
    }

    /// The UTC instant of a wall-clock time (local seconds). A time in a gap (spring forward) is
    /// moved forward by the length of the gap; a time that happens twice (fall back) is taken at
    /// its first occurrence (RFC 5545 §3.3.5).
    @inline(__always)
    public func utc(fromLocal local: Int64) -> Int64 {
        if transitions.isEmpty { return local - Int64(offsets[0]) }
        var lo = 0
        var hi = localStarts.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if localStarts[mid] <= local { lo = mid + 1 } else { hi = mid }
        }
        // Segment `lo` holds the latest start at or before `local`. When the segment before it
        // still runs at that wall time, the time happens twice: take the earlier offset.
        if lo > 0 && local < transitions[lo - 1] + Int64(offsets[lo - 1]) {
            return local - Int64(offsets[lo - 1])
        }
        // In the segment, or in the gap after it: the offset before the gap moves it forward.
        return local - Int64(offsets[lo])
    }

    /// The wall-clock time (local seconds) of a UTC instant.
    public func local(fromUTC instant: Int64) -> Int64 {
        instant + Int64(offset(atUTC: instant))
    }
}

/// The UTC offsets of a zone over a span of time: what a `ZoneDatabase` answers.
public struct ZoneHistory: Hashable, Sendable {
    /// One change of offset.
    public struct Transition: Hashable, Sendable {
        /// The UTC instant (epoch seconds) of the change.
        public var instant: Int64
        /// The offset (seconds east of UTC) from then on.
        public var offset: Int

        public init(instant: Int64, offset: Int) {
            self.instant = instant
            self.offset = offset
        }
    }

    /// The offset before the first transition.
    public var initialOffset: Int
    public var transitions: [Transition]

    public init(initialOffset: Int, transitions: [Transition]) {
        self.initialOffset = initialOffset
        self.transitions = transitions
    }
}
