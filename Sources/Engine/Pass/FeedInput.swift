import CalendarModel
import Filters
import Foundation
import SyncCore

/// Pure: a feed's new body, beside what the engine knows, as the planner takes it (table tests in
/// `FeedInputTests`). A pass and `outboard verify` (`MirrorCheck`) read the same bytes the same way.
///
/// Items whose bytes (with the rest of the calendar, under the same filters) are the ones
/// processed last time are settled without being parsed; only the others are parsed, grouped,
/// zoned, filtered and hashed (`FeedFilter`). A scan that gives up, or a parse that does not find
/// the items the scan found, means the whole feed is parsed.
struct FeedInput {
    var feed: SyncPlanner.Feed
    var known: [String: ItemState]
    /// Items recognized by their bytes, not parsed.
    var settled: Set<String>
    /// The source digests of the items parsed (a feed's), or their members' ETags (a collection's),
    /// recorded once they are processed.
    var sources: [String: String]
    /// What the filters did, for the pass's trace.
    var filtered: FilterTrace
    /// The resource each item came from (changes read from a collection), by key.
    var origins: [String: String] = [:]

    /// Why a feed could not be read; the message names the subscription and its host.
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    /// What a read depends on besides the bytes.
    struct Context {
        var subscription: Subscription
        var filters: FilterPipeline
        var now: Date
        /// Nothing is settled by its bytes (after an unfinished pass, on a reconcile).
        var shortcutsBarred = false
    }

    /// Reads `body` (scanned as it arrived, when `scan`) beside `known`. The report gets the
    /// duplicates, what the filters dropped and the feed's refresh interval (`refresh: feed`);
    /// the state gets the feed's pace and zone.
    static func read(
        _ body: [UInt8], scan: FeedScan?, known: [String: ItemState], _ context: Context, report: inout SyncReport,
        state: inout FeedState
    ) throws(Unreadable) -> FeedInput {
        let s = context.subscription
        var sources: [String: String] = [:]
        var settled: Set<String> = []
        // What else an item's processing depends on goes into its source digest: the filters, and
        // the floating policy (an item zoned is not the item kept as written).
        let floatingSalt = s.floating == .zone ? Array("\nfloating: zone \(s.zone ?? "")\n".utf8) : []
        let scanned = context.filters.fingerprint.flatMap { salt in
            scan.map { ($0, $0.digests(salt: salt + floatingSalt)) }
        }
        if let (scan, digests) = scanned {
            for (item, digest) in zip(scan.items, digests) {
                if !context.shortcutsBarred, let k = known[item.key], k.source == digest {
                    settled.insert(item.key)
                } else {
                    sources[item.key] = digest
                }
            }
        }
        var set: ItemSet
        do {
            if let scan, !settled.isEmpty {
                let rest = Set(sources.keys)
                set = try items(scan.subset(of: body, keeping: rest))
                if Set(set.items.map(\.key)) != rest {  // item keys are unique, so the sets say it all
                    settled = []
                    sources = [:]
                    set = try items(body)
                }
            } else {
                set = try items(body)
            }
        } catch {
            throw Unreadable(
                description:
                    "the feed of \(s.id) (\(s.sourceHost)) cannot be read: \(error); the target was not touched")
        }
        // The copies left out: of the parsed items as grouped, of the settled ones as scanned.
        var duplicates = set.duplicates
        for item in scan?.items ?? [] where item.duplicates > 0 && settled.contains(item.key) {
            duplicates[item.key] = item.duplicates
        }
        report.duplicates = duplicates.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if s.refreshFromFeed { pace(set.calendarProperties, s, report: &report, state: &state) }
        state.feedZone = FloatingZoner.calendarZone(set.calendarProperties)
        let (feed, filtered) = FeedFilter(subscription: s, filters: context.filters).run(
            set, now: context.now, &report)
        return FeedInput(feed: feed, known: known, settled: settled, sources: sources, filtered: filtered)
    }

    /// Changes read from a collection: each changed resource parsed (one item each; a resource
    /// with several UIDs is a diagnostic naming it), and the items nothing touched settled, unless
    /// the changes are the whole collection. A deleted resource's item is gone (by its origin).
    /// A resource that cannot be read fails the read: its change must not be lost.
    static func changes(
        _ c: FeedChanges, known: [String: ItemState], _ context: Context, report: inout SyncReport
    ) throws(Unreadable) -> FeedInput {
        let s = context.subscription
        var calendars: [ICalComponent] = []
        var originOfUID: [String: String] = [:]
        var etags: [String: String] = [:]
        for resource in c.changed {
            let href = resource.href
            etags[href] = resource.etag
            let document: ICalDocument
            do { document = try ICalParser().parse(resource.body) } catch {
                throw Unreadable(
                    description:
                        "\(s.id): the resource \(href) of \(s.sourceHost) cannot be read: \(error); the target was not touched"
                )
            }
            let uids = Set(ItemGrouper.items(from: document).items.compactMap(\.uid))
            if uids.count > 1 {
                report.diagnostics.append(
                    "\(href) holds \(uids.count) UIDs (\(uids.sorted().joined(separator: ", "))); each is mirrored")
            }
            for uid in uids { originOfUID[uid] = href }
            calendars += document.calendars
        }
        let set = ItemGrouper.items(from: ICalDocument(calendars: calendars))
        let (feed, filtered) = FeedFilter(subscription: s, filters: context.filters).run(set, now: context.now, &report)
        var origins: [String: String] = [:]
        // A member's ETag is the item's source: while it is the same, so is the item.
        var sources: [String: String] = [:]
        for key in feed.order {
            if let uid = feed.items[key]?.item.uid, let href = originOfUID[uid] {
                origins[key] = href
                sources[key] = etags[href]
            }
        }
        // Keys the changes touch: items changed (kept or dropped by the filters) and deleted.
        let resources = Set(c.deleted).union(c.changed.map(\.href))
        var touched = Set(feed.order).union(filtered.dropped.map(\.key))
        touched.formUnion(known.values.filter { $0.origin.map(resources.contains) ?? false }.map(\.key))
        let settled = c.complete ? [] : Set(known.keys).subtracting(touched)
        for key in settled { origins[key] = known[key]?.origin }
        return FeedInput(
            feed: feed, known: known, settled: settled, sources: sources, filtered: filtered, origins: origins)
    }

    /// A feed's bytes parsed and grouped into items.
    static func items(_ bytes: [UInt8]) throws -> ItemSet { ItemGrouper.items(from: try ICalParser().parse(bytes)) }

    /// With `refresh: feed`: the interval the feed asks for, bounded, goes to the report (for the
    /// schedule) and the feed state. A malformed one is a diagnostic and the interval stays the
    /// one the feed asked for last (or `refresh`); a feed that asks for none gets `refresh`.
    static func pace(
        _ calendarProperties: [ICalProperty], _ s: Subscription, report: inout SyncReport, state: inout FeedState
    ) {
        let reading = FeedRefresh.read(calendarProperties)
        if let seconds = reading.seconds {
            state.feedRefresh = s.bounded(seconds)
        } else if reading.problems.isEmpty {
            state.feedRefresh = nil
        }
        report.feedRefresh = state.feedRefresh
        let interval = Subscription.durationText(s.interval(feedRefresh: state.feedRefresh))
        report.diagnostics += reading.problems.map { "\($0); the refresh interval is \(interval)" }
    }
}
