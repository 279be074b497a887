import CalendarModel
import SyncCore

/// The target as one pass reads it: the subscription's collection, listed whole or fetched in
/// batches several at a time (the target reads one while the engine decodes the last).
struct PassTarget: Sendable {
    var target: any CalendarTarget
    var collection: String
    var identity: ItemIdentity
    /// Writes per batch (1 for a target without batches).
    var batchSize: Int
    /// Entities per read (copies per fetch, stamps per listing).
    var fetchSize: Int
    /// Requests in flight at once.
    var width: Int

    /// The collection's entities by item key (none when it does not exist yet); whole when items
    /// are keyed by content, which a content key needs (a UID is in the listing).
    func listing() async throws(TargetError) -> [String: TargetEntry] {
        do {
            return Reconciliation.keyed(
                try await target.list(collection: collection, withData: identity == .content), identity: identity)
        } catch {
            guard error.reason == .notFound else { throw error }
            return [:]
        }
    }

    /// The target's LAST-MODIFIED of each entity at `hrefs` that it has one for (listings: one
    /// request per batch, no calendar data).
    func lastModified(of hrefs: [String]) async throws(TargetError) -> [String: String] {
        var stamps: [String: String] = [:]
        for chunk in hrefs.chunks(of: fetchSize) {
            for e in try await target.entries(collection: collection, hrefs: chunk, withData: false) {
                if let stamp = e.lastModified { stamps[e.href] = stamp }
            }
        }
        return stamps
    }

    /// The target's copies of the changed items, by key: with trust-lastmod the copy last applied
    /// where the target's LAST-MODIFIED is the one recorded, the others fetched in batches. A
    /// changed item the target no longer has gets no copy. `fetched`: how many were fetched.
    func copies(of changed: [SyncPlanner.Changed], planner: SyncPlanner) async throws(TargetError) -> (
        copies: [String: SyncPlanner.Copy], fetched: Int
    ) {
        var copies: [String: SyncPlanner.Copy] = [:]
        var toFetch = changed
        let candidates = planner.trustCandidates(changed)
        if !candidates.isEmpty {
            let split = planner.trusted(changed, stamps: try await lastModified(of: candidates.map(\.known.href)))
            for (c, copy) in split.trusted { copies[c.known.key] = copy }
            toFetch = split.fetch
        }
        let chunks = toFetch.chunks(of: fetchSize)
        var fetchError: TargetError?
        await inFlight(chunks.map { $0.map(\.known.href) }, width: width, mayLaunch: { fetchError == nil }) {
            [target, collection] index, hrefs in
            do throws(TargetError) {
                return FetchedChunk(
                    index: index, entries: try await target.entries(collection: collection, hrefs: hrefs))
            } catch {
                return FetchedChunk(index: index, error: error)
            }
        } take: { done in
            if let error = done.error {
                fetchError = fetchError ?? error
                return
            }
            let byHref = Dictionary(done.entries.map { ($0.href, $0) }, uniquingKeysWith: { a, _ in a })
            for c in chunks[done.index] {
                if let copy = byHref[c.known.href], let calendar = copy.calendar {
                    copies[c.known.key] = SyncPlanner.Copy(
                        href: copy.href, changeToken: copy.version, calendar: calendar)
                }
            }
        }
        if let fetchError { throw fetchError }
        return (copies, toFetch.count)
    }

    /// The target's copies of one batch of changed items, or why they could not be fetched.
    struct FetchedChunk: Sendable {
        var index: Int
        var entries: [TargetEntry] = []
        var error: TargetError?
    }

    /// Fetches the target's current copy at `href` (as item `key`), diffs `source` against it and sends the
    /// update (none when it is empty): the new version and what was sent.
    func bringUpToDate(href: String, source: ICalItem, key: String, skip: SkipList) async throws(TargetError) -> (
        version: String, sent: ComponentUpdate
    ) {
        let current = try await target.entry(href: href)
        let update = Differ.diff(
            source: source,
            target: SyncPlanner.item(current.calendar ?? ICalComponent(name: "VCALENDAR"), key: key), skip: skip)
        if update.isEmpty { return (current.version, update) }
        let (_, version) = try await target.apply(.update(href: href, version: current.version, changes: update))
        guard let version else { throw TargetError(.unknown, "\(href): the target's answer carried no version") }
        return (version, update)
    }
}
