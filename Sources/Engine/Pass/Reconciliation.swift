import CalendarModel
import Foundation
import SyncCore

/// Pure: what the store knows brought in line with one listing of the target collection, before
/// a pass plans. The pass lists the target and records the result (`SyncPass.lookUp`); the
/// decisions are here, with table tests (`ReconciliationTests`).
///
/// - With `reconcile`, states keyed under another identity are forgotten and entities the engine
///   does not know are adopted under their item key (UID, or content key), as items with an
///   unknown hash: compared with the feed, and gone when the feed lacks them.
/// - Each intent's item (a write of an unfinished pass) is set to what the target has, or
///   forgotten when the target has none, and its key stays in doubt for `WriteIntent.doubtWindow`.
/// - Each key in doubt is looked up again the same way, unless the target's entity is the one
///   recorded (same href, same version); doubts whose time has passed are then forgotten.
public enum Reconciliation {
    public struct Input: Sendable {
        public var known: [String: ItemState]
        /// The target's entities by item key (`keyed`).
        public var listing: [String: TargetEntry]
        public var intents: Set<String>
        public var doubts: [String: Date]
        public var reconcile: Bool
        public var identity: ItemIdentity
        public var now: Date

        public init(
            known: [String: ItemState], listing: [String: TargetEntry], intents: Set<String> = [],
            doubts: [String: Date] = [:], reconcile: Bool = false, identity: ItemIdentity = .uid, now: Date
        ) {
            self.known = known
            self.listing = listing
            self.intents = intents
            self.doubts = doubts
            self.reconcile = reconcile
            self.identity = identity
            self.now = now
        }
    }

    public struct Result: Sendable, Hashable {
        /// What the pass plans against.
        public var known: [String: ItemState]
        /// The states to record and the keys to forget, in one commit.
        public var put: [ItemState] = []
        public var remove: [String] = []
        /// Keys in doubt until `now + WriteIntent.doubtWindow` (recorded before the commit, which
        /// forgets their intents).
        public var doubt: [String] = []
        /// Doubts looked up for the last time.
        public var forget: [String] = []
    }

    public static func resolve(_ input: Input) -> Result {
        var r = Result(known: input.known)
        let byKey = input.listing
        if input.reconcile {
            let other = r.known.keys.filter { !input.identity.made($0) }.sorted()
            for key in other { r.known[key] = nil }
            r.remove += other
            let knownHrefs = Set(r.known.values.map(\.href))
            for (key, e) in byKey.sorted(by: { $0.key < $1.key }) where !knownHrefs.contains(e.href) {
                r.known[key] = ItemState(key: key, hash: "", href: e.href, changeToken: e.version)
                // Recorded at once when it replaces a state of the other identity, so the entity
                // is never unknown to the store (the feed's new UIDs would add it twice).
                if !other.isEmpty { r.put.append(r.known[key]!) }
            }
        }
        for key in input.intents.union(input.doubts.keys).sorted() {
            let intended = input.intents.contains(key)
            if let e = byKey[key] {
                if !intended, let k = r.known[key], k.href == e.href, k.changeToken == e.version { continue }
                let s = ItemState(key: key, hash: "", href: e.href, changeToken: e.version)
                r.known[key] = s
                r.put.append(s)
            } else if intended || r.known[key] != nil {
                r.known[key] = nil
                r.remove.append(key)
            }
        }
        r.doubt = input.intents.sorted()
        r.forget = input.doubts.filter { $0.value <= input.now && !input.intents.contains($0.key) }.map(\.key).sorted()
        return r
    }

    /// Whether the target holds, for every key in doubt, what the store recorded (the entity at
    /// its href and version, or none for an item the store does not know): then nothing has
    /// landed, and the doubts bar no shortcut.
    public static func doubtsHold(
        _ doubts: some Collection<String>, listing: [String: TargetEntry], known: [String: ItemState]
    )
        -> Bool
    {
        doubts.allSatisfy { key in
            switch (listing[key], known[key]) {
            case (nil, nil): true
            case (let e?, let k?): e.href == k.href && e.version == k.changeToken
            default: false
            }
        }
    }

    /// A listing by item key: the UID, or (keyed by content) the content key of the whole entity.
    /// Entities without a UID are left out.
    public static func keyed(_ listing: [TargetEntry], identity: ItemIdentity) -> [String: TargetEntry] {
        var byKey: [String: TargetEntry] = [:]
        for e in listing {
            if let calendar = e.calendar {
                guard let item = ItemGrouper.items(from: ICalDocument(calendars: [calendar])).items.first,
                    item.uid != nil
                else { continue }
                byKey[identity.key(of: item)] = e
            } else if identity == .uid, let uid = e.uid {
                byKey[uid] = e
            }
        }
        return byKey
    }

    /// The writes of a reconcile that repaired the mirror rather than followed the feed, given
    /// what the store `believed` before the target was listed: an add of an item the store
    /// thought mirrored, an update of an item the feed did not change, a delete of an entity the
    /// engine did not know.
    static func repairs(_ r: SyncReport, believed: [String: ItemState], feed: SyncPlanner.Feed) -> [String] {
        var out = r.added.filter { believed[$0] != nil }
        out += r.updated.map(\.key).filter { key in believed[key].map { $0.hash == feed.items[key]?.hash } ?? false }
        out += r.deleted.filter { believed[$0] == nil }
        return out.sorted()
    }
}
