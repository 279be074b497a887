import CalendarModel
import Filters
import Foundation
import Recurrence
import SyncCore

/// A feed's parsed items as the planner takes them: zoned (`floating: zone`, in the
/// subscription's `zone` or the feed's X-WR-TIMEZONE), through the filters (on every core: they
/// are pure and per item), keyed by the subscription's identity and hashed; the items the filters
/// dropped are counted, duplicates of one key reported. Pure: a pass and `outboard verify`
/// (`MirrorCheck`) make the same feed of the same bytes.
struct FeedFilter {
    var subscription: Subscription
    var filters: FilterPipeline

    /// The parsed items, zoned (`floating: zone`), after the filters (on every core: they are
    /// pure and per item), with their hashes; the dropped ones counted in the report, and what
    /// the rules did kept for the trace.
    func run(_ set: ItemSet, now: Date, _ report: inout SyncReport) -> (SyncPlanner.Feed, FilterTrace) {
        let utcNow = ICalDateTime.utc(now)
        let identity = subscription.identity
        // Keyed by content, the UID means nothing: a new one alone must not change the hash.
        let hashing = identity == .content ? filters.skipList.merging(SkipList(properties: ["UID"])) : filters.skipList
        let pipeline = filters
        // The subscription's `zone` wins over the feed's X-WR-TIMEZONE.
        let calendarProperties =
            subscription.zone.map { [ICalProperty("X-WR-TIMEZONE", .text($0))] } ?? set.calendarProperties
        let zoner =
            subscription.floating == .zone
            ? FloatingZoner(calendarProperties: calendarProperties, timezones: set.timezones) : nil
        if subscription.floating == .zone, zoner == nil {
            let floating = set.items.count(where: FloatingZoner.hasFloating)
            if floating > 0 {
                report.diagnostics.append(
                    "floating: zone, but the feed has no X-WR-TIMEZONE: \(floating) item\(floating == 1 ? "" : "s") with floating times mirrored as written"
                )
            }
        }
        let filtered = set.items.concurrentMap(state: { ItemHasher(skipping: hashing) }) {
            hasher, item -> (SyncPlanner.FeedItem?, FilterResult) in
            let result = pipeline.run(SeriesEnd.trimmed(zoner?.zone(item) ?? item), now: utcNow)
            guard case .kept(var kept, _) = result else { return (nil, result) }
            kept.key = identity.key(of: kept)
            return (SyncPlanner.FeedItem(item: kept, hash: hasher.hash(kept)), result)
        }
        var feed = SyncPlanner.Feed()
        var trace = FilterTrace()
        // Keyed by content, two items of one key are duplicates under other UIDs: one is kept
        // (the greater hash, then the greater UID: whatever the feed's order) and the copies are
        // reported by its UID.
        var duplicates: [String: (uid: String, dropped: Int)] = [:]
        for (item, (entry, result)) in zip(set.items, filtered) {
            trace.take(result, key: item.key)
            guard let entry else {
                report.dropped += 1
                continue
            }
            if let existing = feed.items[entry.item.key] {
                let keepExisting = (existing.hash, existing.item.uid ?? "") >= (entry.hash, entry.item.uid ?? "")
                let kept = keepExisting ? existing : entry
                duplicates[kept.item.key] = (
                    kept.item.uid ?? kept.item.key, (duplicates[kept.item.key]?.dropped ?? 0) + 1
                )
                if keepExisting { continue }
            }
            feed.add(entry)
        }
        if !duplicates.isEmpty {
            report.duplicates = (report.duplicates + duplicates.values.map { ($0.uid, $0.dropped) }).sorted {
                $0.key < $1.key
            }
        }
        return (feed, trace)
    }
}

extension SeriesEnd {
    /// `item` without the overrides and RDATEs past the end of its rules (a split series).
    static func trimmed(_ item: ICalItem) -> ICalItem {
        guard item.components.count > 1 || item.master?.property("RDATE") != nil else { return item }
        let zones = ZoneResolver(timezones: item.timezones, calendarZone: nil, options: ExpansionOptions())
        var out = item
        out.components = trimmed(item.components, zones: zones).components
        return out
    }
}
