import CalendarModel

/// The decisions of a pass, without I/O: which feed items are new, changed, unchanged or gone,
/// whether the deletion guard allows the deletions, which target copies must be fetched, and the
/// writes that bring the target to the feed. `SyncPass` is the executor around it: it fetches,
/// asks the planner, applies in batches and commits.
public struct SyncPlanner: Sendable {
    /// What a subscription's settings say about planning.
    public struct Policy: Sendable, Hashable {
        /// Delete what the feed no longer has (`deletions: mirror`), or keep it.
        public var mirrorDeletions = true
        /// Whether a feed with no items may empty the target (`guard.allow-empty`).
        public var allowEmpty = false
        /// The largest share of the known items one pass may delete (`guard.max-delete-fraction`).
        public var maxDeleteFraction = 0.5
        /// Diff against the copy last applied while the target's LAST-MODIFIED is the recorded one.
        public var trustLastModified = false
        /// Compare every item with the target, whatever the hashes say.
        public var reconcile = false
        /// How items are told apart (`identity`): by UID, or by content (the target's copy then
        /// keeps the UID it was first added with).
        public var identity = ItemIdentity.uid
        /// For messages: the target collection and the subscription's file.
        public var collection = ""
        public var file = ""

        public init() {}
    }

    /// One feed item after filters, with its canonical hash.
    public struct FeedItem: Sendable {
        public var item: ICalItem
        public var hash: String

        public init(item: ICalItem, hash: String) {
            self.item = item
            self.hash = hash
        }
    }

    /// The feed's items by key, in feed order.
    public struct Feed: Sendable {
        public private(set) var items: [String: FeedItem] = [:]
        public private(set) var order: [String] = []

        public init() {}

        /// Adds an item; a key seen before is replaced in place (the last copy wins).
        public mutating func add(_ entry: FeedItem) {
            if items[entry.item.key] == nil { order.append(entry.item.key) }
            items[entry.item.key] = entry
        }

        public var isEmpty: Bool { items.isEmpty }
    }

    /// An item of the feed that the engine knows and whose content may differ on the target.
    public struct Changed: Sendable {
        public var feed: FeedItem
        public var known: ItemState
    }

    /// What the feed holds against what the engine knows.
    public struct Classification: Sendable {
        /// Items the engine does not know: added.
        public var new: [FeedItem] = []
        /// Items whose hash differs (or every known one, on a reconcile): compared with the target.
        public var changed: [Changed] = []
        /// Unchanged items whose feed bytes changed: their new source is recorded.
        public var resettled: [ItemState] = []
        /// Known items the feed no longer has.
        public var gone: [ItemState] = []
        /// Unchanged items, those settled by their bytes included.
        public var unchanged = 0
        /// Why the deletions must not happen, or nil.
        public var guardMessage: String?
        /// The feed looks like one whose UIDs change on every export: the new items are not
        /// added either (they would be the gone ones again, twice on the target).
        public var holdsAdds = false
    }

    /// A changed item's copy on the target, as fetched (or as last applied, with trust-lastmod).
    public struct Copy: Sendable {
        public var href: String
        public var changeToken: String
        public var calendar: ICalComponent
        /// The applied text it was read from (trust-lastmod), kept in the status.
        public var content: String?

        public init(href: String, changeToken: String, calendar: ICalComponent, content: String? = nil) {
            self.href = href
            self.changeToken = changeToken
            self.calendar = calendar
            self.content = content
        }
    }

    /// The plan: its writes in order (settles, updates, adds, deletes) and what it found unchanged.
    public struct Plan: Sendable {
        public var writes: [PlannedWrite] = []
        /// Changed items whose copy already matched the feed (only their status is recorded).
        public var matched = 0
        public var guardMessage: String?
    }

    public var policy: Policy
    public var skip: SkipList

    public init(policy: Policy, skip: SkipList) {
        self.policy = policy
        self.skip = skip
    }

    /// Sorts the feed against the known item states. `settled` holds the keys recognized by
    /// their bytes (known and unchanged, not parsed); `sources` the new source digests of the
    /// parsed items.
    public func classify(_ feed: Feed, known: [String: ItemState], settled: Set<String>, sources: [String: String])
        -> Classification
    {
        var c = Classification()
        c.unchanged = settled.count
        for key in feed.order {
            guard let entry = feed.items[key] else { continue }
            guard let k = known[key] else {
                c.new.append(entry)
                continue
            }
            if k.hash == entry.hash, !policy.reconcile {
                c.unchanged += 1
                if k.source != sources[key] { c.resettled.append(k) }
            } else {
                c.changed.append(Changed(feed: entry, known: k))
            }
        }
        // Usually every known item is settled or still in the feed, and the count says so.
        let present = settled.count + feed.order.count { known[$0] != nil }
        if present != known.count {
            c.gone = known.values.filter { feed.items[$0.key] == nil && !settled.contains($0.key) }.sorted {
                $0.key < $1.key
            }
        }
        c.guardMessage = deletionGuard(
            gone: c.gone.count, known: known.count, feedIsEmpty: feed.isEmpty && settled.isEmpty)
        if c.guardMessage != nil, looksLikeUIDChurn(gone: c.gone.count, new: c.new.count, known: known.count) {
            c.holdsAdds = true
            c.guardMessage =
                "the feed replaced \(c.gone.count) of \(known.count) items by \(c.new.count) new UIDs, which looks like a feed whose UIDs change on every export; set identity: content in \(policy.file) (nothing was deleted or added; if the items really were replaced, raise guard.max-delete-fraction)"
        }
        return c
    }

    /// A pass that would delete more than half the known items and add about as many new ones
    /// (the two counts within a tenth of the larger): the same items under new UIDs, as some
    /// providers export them.
    public func looksLikeUIDChurn(gone: Int, new: Int, known: Int) -> Bool {
        policy.identity == .uid && policy.mirrorDeletions && gone * 2 > known && abs(new - gone) * 10 <= max(gone, new)
    }

    /// The guard's words when the deletions must not happen, or nil.
    public func deletionGuard(gone: Int, known: Int, feedIsEmpty: Bool) -> String? {
        guard policy.mirrorDeletions, gone > 0 else { return nil }
        if feedIsEmpty, !policy.allowEmpty {
            return
                "the feed has no items, which would delete all \(gone) items of \(policy.collection); nothing was deleted (set guard.allow-empty: true in \(policy.file) to allow it)"
        }
        if Double(gone) > policy.maxDeleteFraction * Double(known) {
            return
                "the feed lost \(gone) of \(known) items, more than guard.max-delete-fraction (\(policy.maxDeleteFraction)); nothing was deleted (raise guard.max-delete-fraction in \(policy.file) to allow it)"
        }
        return nil
    }

    /// With trust-lastmod, the changed items whose LAST-MODIFIED on the target (`stamps`, by href)
    /// is the one recorded after the engine's last write: their applied copy stands in for the
    /// target's. Every other changed item's copy must be fetched.
    public func trusted(_ changed: [Changed], stamps: [String: String]) -> (
        trusted: [(Changed, Copy)], fetch: [Changed]
    ) {
        guard policy.trustLastModified, !policy.reconcile else { return ([], changed) }
        var trusted: [(Changed, Copy)] = []
        var fetch: [Changed] = []
        for c in changed {
            guard let content = c.known.content, let stamp = c.known.lastModified, stamps[c.known.href] == stamp,
                let calendar = (try? ICalParser().parse(content))?.calendars.first
            else {
                fetch.append(c)
                continue
            }
            trusted.append(
                (c, Copy(href: c.known.href, changeToken: c.known.changeToken, calendar: calendar, content: content)))
        }
        return (trusted, fetch)
    }

    /// The changed items that may be trusted by LAST-MODIFIED: those with an applied copy and a
    /// recorded stamp (the executor lists their stamps on the target).
    public func trustCandidates(_ changed: [Changed]) -> [Changed] {
        guard policy.trustLastModified, !policy.reconcile else { return [] }
        return changed.filter { $0.known.content != nil && $0.known.lastModified != nil }
    }

    /// The plan. `copies` holds the target's copy of each changed item, by key (a changed item
    /// without one was deleted on the target and is added again); `applied` gives the text the
    /// status keeps of an item's calendar (nil when it keeps none).
    public func plan(_ c: Classification, copies: [String: Copy], applied: (ICalComponent) -> String?) -> Plan {
        var plan = Plan(guardMessage: c.guardMessage)
        plan.writes = c.resettled.map { .settle($0) }
        for changed in c.changed {
            var source = changed.feed
            guard let copy = copies[source.item.key] else {
                plan.writes.append(.add(key: source.item.key, calendar: source.item.calendar(), hash: source.hash))
                continue
            }
            let target = Self.item(copy.calendar, key: source.item.key)
            // Keyed by content, the target's copy keeps its UID: the feed's item is compared
            // (and updated) under it, so a new UID alone is no change.
            if policy.identity == .content, let uid = target.uid, uid != source.item.uid {
                source.item = source.item.withUID(uid)
            }
            let update = Differ.diff(source: source.item, target: target, skip: skip)
            if update.isEmpty {
                plan.matched += 1
                plan.writes.append(
                    .settle(
                        ItemState(
                            key: source.item.key, hash: source.hash, href: copy.href, changeToken: copy.changeToken,
                            content: copy.content ?? applied(source.item.calendar()))))
            } else {
                plan.writes.append(
                    .update(
                        key: source.item.key, href: copy.href, token: copy.changeToken, update: update,
                        source: source.item, hash: source.hash))
            }
        }
        for entry in c.new where !c.holdsAdds {
            plan.writes.append(.add(key: entry.item.key, calendar: entry.item.calendar(), hash: entry.hash))
        }
        if c.guardMessage == nil, policy.mirrorDeletions {
            for k in c.gone { plan.writes.append(.delete(key: k.key, href: k.href, token: k.changeToken)) }
        }
        return plan
    }

    /// The item `key` of a target's calendar (the first item when it holds another UID, or the
    /// key is a content key).
    public static func item(_ calendar: ICalComponent, key: String) -> ICalItem {
        let items = ItemGrouper.items(from: ICalDocument(calendars: [calendar])).items
        return items.first { $0.key == key } ?? items.first ?? ICalItem(key: key, uid: key, components: [])
    }
}
