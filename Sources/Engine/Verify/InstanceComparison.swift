import CalendarModel
import Recurrence

/// The instances of two sides of a mirror (the filtered feed and the target's copy) compared one
/// by one over a window: by UID and RECURRENCE-ID instant (a single event by its UID alone), their
/// start and end instants and whether they are cancelled (STATUS:CANCELLED, or taken out by an
/// EXDATE). Nothing else is compared. Pure.
public struct InstanceComparison: Sendable {
    /// What does not count as a difference, because the pass leaves it alone by design.
    public struct Ignoring: Sendable, Hashable {
        /// STATUS is on the skip list: a cancellation by STATUS on one side only.
        public var status = false
        /// EXDATE is on the skip list: an instance taken out by an EXDATE on one side only.
        public var exdate = false
        /// DTSTART, DTEND or DURATION is on the skip list: times that differ.
        public var times = false
        /// `deletions: keep`: items of the target that the feed no longer has.
        public var goneFromFeed = false

        public init(status: Bool = false, exdate: Bool = false, times: Bool = false, goneFromFeed: Bool = false) {
            self.status = status
            self.exdate = exdate
            self.times = times
            self.goneFromFeed = goneFromFeed
        }

        /// What a subscription's skip list and deletion policy leave alone.
        public init(skip: SkipList, keepsDeletions: Bool) {
            status = skip.skipsProperty("STATUS")
            exdate = skip.skipsProperty("EXDATE")
            times = ["DTSTART", "DTEND", "DURATION"].contains(where: skip.skipsProperty)
            goneFromFeed = keepsDeletions
        }
    }

    /// Every difference, in instance order (then UID).
    public let differences: [InstanceDifference]
    /// How many instances (of either side, cancelled ones included) overlap the window.
    public let compared: Int

    /// Compares `feed` and `target` over `[from, to)` (UTC epoch seconds). Both sides are expanded
    /// over the window widened by `margin`, so an instance moved out of the window on one side is
    /// still found as moved; floating and DATE times of the feed are placed in `calendarZone`
    /// (the collection's zone) and those of the target in `targetZone` (the zone the target says
    /// it places them in; by default the same), either lacking one in UTC.
    public init(
        feed: [ICalItem], target: [ICalItem], from: Int64, to: Int64, calendarZone: String?,
        targetZone: String?? = .none, ignoring: Ignoring = Ignoring(), margin: Int64 = 31 * 86_400
    ) {
        let feedSide = Side(feed, from: from - margin, to: to + margin, calendarZone: calendarZone)
        let targetSide = Side(target, from: from - margin, to: to + margin, calendarZone: targetZone ?? calendarZone)
        let feedUIDs = Set(feed.compactMap(\.uid))
        var out: [InstanceDifference] = []
        var compared = 0
        for key in Set(feedSide.instances.keys).union(targetSide.instances.keys) {
            let f = feedSide.instances[key]
            let t = targetSide.instances[key]
            guard [f, t].contains(where: { $0.map { $0.overlaps(from, to) } ?? false }) else { continue }
            compared += 1
            if t != nil, f == nil, ignoring.goneFromFeed, !feedUIDs.contains(key.uid) { continue }
            let excluded = (feed: feedSide.excludes(key), target: targetSide.excludes(key))
            if let d = InstanceDifference(key: key, feed: f, target: t, excluded: excluded, ignoring: ignoring) {
                out.append(d)
            }
        }
        differences = out.sorted { ($0.instance, $0.uid, $0.kind.rawValue) < ($1.instance, $1.uid, $1.kind.rawValue) }
        self.compared = compared
    }

    /// One side expanded: its instances by key, and its series by UID (to tell an EXDATE).
    struct Side {
        var instances: [InstanceKey: InstanceFacts] = [:]
        var series: [String: RecurrenceSeries] = [:]

        init(_ items: [ICalItem], from: Int64, to: Int64, calendarZone: String?) {
            let expander = CalendarExpander(
                items: items, timezones: [],
                calendarProperties: calendarZone.map { [ICalProperty("X-WR-TIMEZONE", .text($0))] } ?? [])
            for s in expander.series {
                guard let uid = s.uid else { continue }
                series[uid] = s
                for i in s.instances(from: from, to: to) {
                    let key = InstanceKey(
                        uid: uid, recurrenceID: i.isOverride || i.source.isRecurring ? i.recurrenceID : nil)
                    if instances[key] == nil {
                        instances[key] = InstanceFacts(start: i.start, end: i.end, cancelled: i.isCancelled)
                    }
                }
            }
        }

        /// Whether this side's series takes the keyed instance out with an EXDATE.
        func excludes(_ key: InstanceKey) -> Bool {
            guard let r = key.recurrenceID, let s = series[key.uid] else { return false }
            return s.excludes(recurrenceID: r)
        }
    }
}

/// An instance's identity in both sides: its UID and its RECURRENCE-ID instant (nil for an event
/// that does not recur, which is matched by its UID alone).
public struct InstanceKey: Sendable, Hashable {
    public var uid: String
    public var recurrenceID: Int64?
}

/// What the comparison looks at in one instance.
public struct InstanceFacts: Sendable, Hashable {
    public var start: Int64
    public var end: Int64
    public var cancelled: Bool

    func overlaps(_ from: Int64, _ to: Int64) -> Bool { start < to && (end > from || (end == start && start >= from)) }
}

/// One instance that differs between the feed and the target.
public struct InstanceDifference: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// In the feed, not on the target.
        case missing
        /// On the target, not in the feed.
        case extra
        /// In both, at other times.
        case moved
        /// Cancelled in the feed, not on the target.
        case cancelledInFeed = "cancelled-in-feed"
        /// Cancelled on the target, not in the feed.
        case cancelledOnTarget = "cancelled-on-target"
    }

    public var kind: Kind
    public var uid: String
    /// The RECURRENCE-ID instant, or for a single event its start (the feed's, else the target's).
    public var instance: Int64
    public var feed: InstanceFacts?
    public var target: InstanceFacts?
    /// For a cancellation: `EXDATE` or `STATUS:CANCELLED`.
    public var cancelledBy: String?

    /// The difference between the sides' facts of one instance, if there is one.
    init?(
        key: InstanceKey, feed f: InstanceFacts?, target t: InstanceFacts?, excluded: (feed: Bool, target: Bool),
        ignoring: InstanceComparison.Ignoring
    ) {
        uid = key.uid
        instance = key.recurrenceID ?? f?.start ?? t?.start ?? 0
        feed = f
        target = t
        let statusCancels = !ignoring.status
        switch (f, t) {
        case (let f?, let t?):
            let (fc, tc) = (f.cancelled && statusCancels, t.cancelled && statusCancels)
            if fc != tc {
                kind = fc ? .cancelledInFeed : .cancelledOnTarget
                cancelledBy = "STATUS:CANCELLED"
            } else if !fc, !ignoring.times, (f.start, f.end) != (t.start, t.end) {
                kind = .moved
            } else {
                return nil
            }
        case (let f?, nil):
            if f.cancelled && statusCancels { return nil }
            if excluded.target {
                if ignoring.exdate { return nil }
                kind = .cancelledOnTarget
                cancelledBy = "EXDATE"
            } else {
                kind = .missing
            }
        case (nil, let t?):
            if t.cancelled && statusCancels { return nil }
            if excluded.feed {
                if ignoring.exdate { return nil }
                kind = .cancelledInFeed
                cancelledBy = "EXDATE"
            } else {
                kind = .extra
            }
        case (nil, nil):
            return nil
        }
    }

    /// `moved uid=a@x instance=2026-01-12T08:00:00Z feed=…/… target=…/…`: one line, times in UTC.
    public var line: String {
        var parts = [kind.rawValue, "uid=\(uid)", "instance=\(RFC3339.utc(instance))"]
        if let cancelledBy { parts.append("by=\(cancelledBy)") }
        if let feed { parts.append("feed=\(RFC3339.utc(feed.start))/\(RFC3339.utc(feed.end))") }
        if let target { parts.append("target=\(RFC3339.utc(target.start))/\(RFC3339.utc(target.end))") }
        return parts.joined(separator: " ")
    }
}
