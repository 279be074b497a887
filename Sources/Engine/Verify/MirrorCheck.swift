import CalendarModel
import Filters
import Foundation

/// The consistency check of one subscription (`outboard verify`): the feed as a pass would mirror
/// it now (fetched unconditionally, parsed, zoned and filtered by the pass's own code) against the
/// target's copy of the subscription's collection, instance by instance over a window
/// (`InstanceComparison`). It writes nothing: neither the target nor the status store (whose
/// validators and item states it never reads).
public struct MirrorCheck: Sendable {
    public var subscription: Subscription
    public var filters: FilterPipeline
    public var target: any CalendarTarget
    public var source: any FeedSource

    public init(
        subscription: Subscription, filters: FilterPipeline, target: any CalendarTarget,
        source: any FeedSource
    ) {
        self.subscription = subscription
        self.filters = filters
        self.target = target
        self.source = source
    }

    /// Why the check could not compare.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// The feed could not be fetched or read (the message names the subscription).
        case feed(String)
        /// The target could not be read.
        case target(TargetError)

        public var description: String {
            switch self {
            case .feed(let m): m
            case .target(let e): "\(e)"
            }
        }
    }

    /// What the check found.
    public struct Outcome: Sendable {
        public var comparison: InstanceComparison
        /// Items of the feed the filters dropped (compared as absent from the feed).
        public var dropped: Int
        /// Items of the feed, after the filters, and entities of the target.
        public var feedItems: Int
        public var targetItems: Int
        /// The zone the subscription places floating and DATE values in, and the one the target
        /// says it places them in (nil: none, each query's).
        public var zone: String?
        public var targetZone: String?
    }

    /// Compares the instances overlapping `[from, to)` (UTC epoch seconds); `now` is what the
    /// filters measure from, as in a pass.
    public func run(from: Int64, to: Int64, now: Date = Date()) async throws(Failure) -> Outcome {
        let (feed, feedZone, dropped) = try await mirroredFeed(now: now)
        let copies: [TargetEntry]
        do { copies = try await target.list(collection: subscription.targetCollection, withData: true) } catch {
            guard error.reason == .notFound else { throw .target(error) }
            copies = []  // nothing mirrored yet: every instance of the feed is missing
        }
        let targetItems = copies.compactMap { $0.calendar.flatMap(Self.item) }
        let ignoring = InstanceComparison.Ignoring(
            skip: filters.skipList, keepsDeletions: subscription.deletions == .keep)
        // The feed's floating and DATE values go where the subscription places them; the
        // target's where the target says it places them (a target that has not been told the
        // zone places them elsewhere, and its instances are found moved).
        let zone = subscription.collectionZone(feedZone: feedZone)
        let targetZone = copies.isEmpty ? zone : try await self.targetZone()
        let comparison = InstanceComparison(
            feed: feed, target: targetItems, from: from, to: to, calendarZone: zone, targetZone: targetZone,
            ignoring: ignoring)
        return Outcome(
            comparison: comparison, dropped: dropped, feedItems: feed.count, targetItems: targetItems.count,
            zone: zone, targetZone: targetZone)
    }

    /// The zone the target places the collection's floating and DATE values in (its
    /// `resourceTimezoneId`); nil when it has none.
    func targetZone() async throws(Failure) -> String? {
        do { return try await target.describe(collection: subscription.targetCollection)?.timezone } catch {
            throw .target(error)
        }
    }

    /// The feed's items as a pass mirrors them, its X-WR-TIMEZONE, and how many items the filters
    /// dropped: read by the pass's own `FeedInput`.
    func mirroredFeed(now: Date) async throws(Failure) -> ([ICalItem], feedZone: String?, dropped: Int) {
        let body: [UInt8]
        do {
            guard case .body(let b, _, _) = try await source.fetch(subscription) else {
                throw Failure.feed(
                    "\(subscription.id): the feed at \(subscription.sourceHost) answered 304 to a request without validators"
                )
            }
            body = b
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .feed("\(error)")
        }
        var report = SyncReport(subscription: subscription.id)
        var state = FeedState()
        let input: FeedInput
        do {
            input = try FeedInput.read(
                body, scan: nil, known: [:], .init(subscription: subscription, filters: filters, now: now),
                report: &report, state: &state)
        } catch { throw .feed(error.description) }
        return (input.feed.order.compactMap { input.feed.items[$0]?.item }, state.feedZone, report.dropped)
    }

    /// A target entity as an item: its components and zones.
    static func item(_ calendar: ICalComponent) -> ICalItem? {
        let components = calendar.components.filter { PropertyTypes.isItemComponent($0.name) }
        guard let uid = components.first?.uid else { return nil }
        return ICalItem(
            key: uid, uid: uid, components: components, timezones: calendar.components.filter { $0.name == "VTIMEZONE" }
        )
    }
}
