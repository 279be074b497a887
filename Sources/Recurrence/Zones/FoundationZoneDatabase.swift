#if canImport(FoundationEssentials)
    // Essentials has TimeZone; the zones other than UTC and fixed offsets come from ICU, in
    // Internationalization (without it in the process, TimeZone(identifier:) knows none of them).
    import FoundationEssentials
    import FoundationInternationalization
#else
    import Foundation
#endif
import Synchronization

/// The system's zone database through Foundation's `TimeZone` (which carries the full IANA
/// tzdata through ICU, aliases such as `US/Eastern` included). Each zone's history is asked
/// once per process and kept.
public struct FoundationZoneDatabase: ZoneDatabase {
    private static let cache = Mutex<[CacheKey: ZoneHistory?]>([:])

    private struct CacheKey: Hashable {
        var identifier: String
        var start: Int64
        var end: Int64
    }

    /// Rules built from the histories, by zone name and identifier: a resolver is made per
    /// calendar (the reference target makes one per entity it indexes), and building the
    /// tables of a zone's 300 years again each time cost more than the expansion.
    private static let rulesCache = Mutex<[String: ZoneRules?]>([:])

    public init() {}

    public func rules(of name: String, identifier: String) -> ZoneRules? {
        let key = name + "\u{0}" + identifier
        if let hit = Self.rulesCache.withLock({ $0[key] }) { return hit }
        let built = history(of: name, from: ZoneSpan.start, to: ZoneSpan.end).map {
            ZoneRules(identifier: identifier, source: .database(name), history: $0)
        }
        Self.rulesCache.withLock { $0[key] = built }
        return built
    }

    public func history(of identifier: String, from start: Int64, to end: Int64) -> ZoneHistory? {
        let key = CacheKey(identifier: identifier, start: start, end: end)
        if let hit = Self.cache.withLock({ $0[key] }) { return hit }
        let computed = Self.compute(identifier, start, end)
        Self.cache.withLock { $0[key] = computed }
        return computed
    }

    private static func compute(_ identifier: String, _ start: Int64, _ end: Int64) -> ZoneHistory? {
        guard !identifier.isEmpty, let tz = TimeZone(identifier: identifier) else { return nil }
        var date = Date(timeIntervalSince1970: TimeInterval(start))
        let initial = tz.secondsFromGMT(for: date)
        var transitions: [ZoneHistory.Transition] = []
        var last = initial
        // Every change of offset, DST or not: Foundation reports ICU's time zone transitions.
        while let next = tz.nextDaylightSavingTimeTransition(after: date),
            next.timeIntervalSince1970 < TimeInterval(end)
        {
            let offset = tz.secondsFromGMT(for: next)
            if offset != last {
                transitions.append(ZoneHistory.Transition(instant: Int64(next.timeIntervalSince1970), offset: offset))
                last = offset
            }
            date = next
        }
        return ZoneHistory(initialOffset: initial, transitions: transitions)
    }
}
