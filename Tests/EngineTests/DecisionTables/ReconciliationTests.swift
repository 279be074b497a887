import CalendarModel
import Engine
import EngineAdapters
import Foundation
import SyncCore
import Testing

/// What the store knows brought in line with one listing of the target, decision by decision:
/// table tests on the pure `Reconciliation`.
@Suite struct ReconciliationTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// A state the store recorded: hash "h", at `/c/<key>.ics` unless said otherwise.
    static func state(_ key: String, version: String = "r1", href: String? = nil) -> ItemState {
        ItemState(key: key, hash: "h", href: href ?? "/c/\(key).ics", changeToken: version)
    }

    /// An entity as a listing without calendar data has it, at `/c/<uid>.ics` unless said otherwise.
    static func entry(_ uid: String, version: String = "r1", href: String? = nil) -> TargetEntry {
        TargetEntry(href: href ?? "/c/\(uid).ics", version: version, uid: uid)
    }

    /// What a look-up records for an entity: the target's href and version with no hash, so the
    /// planner compares the item with the feed.
    static func lookedUp(_ key: String, _ e: TargetEntry) -> ItemState {
        ItemState(key: key, hash: "", href: e.href, changeToken: e.version)
    }

    /// A VCALENDAR of one VEVENT, with `uid` as its UID (none when nil).
    static func calendar(uid: String?) throws -> ICalComponent {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT"]
        if let uid { lines.append("UID:\(uid)") }
        lines += ["DTSTAMP:20260101T000000Z", "DTSTART:20260301T150000Z", "SUMMARY:Standup"]
        lines += ["END:VEVENT", "END:VCALENDAR"]
        return try ICalParser().parse(lines.joined(separator: "\r\n") + "\r\n").calendars[0]
    }

    // MARK: - Intents and doubts

    /// One key, an intent (a write of an unfinished pass) or a doubt, looked up in the listing.
    struct Lookup: Sendable, CustomTestStringConvertible {
        enum Outcome: Sendable {
            /// Recorded as the target has it (`lookedUp`).
            case put
            /// Forgotten.
            case removed
            /// Left as the store had it.
            case unchanged
        }

        var name: String
        var known: ItemState?
        var listed: TargetEntry?
        var intended: Bool
        var outcome: Outcome
        var testDescription: String { name }
    }

    static let lookups: [Lookup] = [
        Lookup(
            name: "an intent whose entity is on the target takes its href and version",
            known: state("a@x"), listed: entry("a@x", version: "r2"), intended: true, outcome: .put),
        Lookup(
            name: "an intent whose entity is as recorded is compared all the same",
            known: state("a@x"), listed: entry("a@x"), intended: true, outcome: .put),
        Lookup(
            name: "an intended add that landed is recorded",
            known: nil, listed: entry("a@x"), intended: true, outcome: .put),
        Lookup(
            name: "an intent whose entity is absent is forgotten",
            known: state("a@x"), listed: nil, intended: true, outcome: .removed),
        Lookup(
            name: "an intended add that never landed is forgotten",
            known: nil, listed: nil, intended: true, outcome: .removed),
        Lookup(
            name: "a doubt whose entity is as recorded changes nothing",
            known: state("a@x"), listed: entry("a@x"), intended: false, outcome: .unchanged),
        Lookup(
            name: "a doubt whose entity changed version is recorded anew",
            known: state("a@x"), listed: entry("a@x", version: "r2"), intended: false, outcome: .put),
        Lookup(
            name: "a doubt whose entity moved is recorded anew",
            known: state("a@x"), listed: entry("a@x", href: "/c/moved.ics"), intended: false, outcome: .put),
        Lookup(
            name: "a doubt whose entity appeared while the store knows none is recorded",
            known: nil, listed: entry("a@x"), intended: false, outcome: .put),
        Lookup(
            name: "a doubt whose entity vanished while the store knows one is forgotten",
            known: state("a@x"), listed: nil, intended: false, outcome: .removed),
        Lookup(
            name: "a doubt absent from both stays absent",
            known: nil, listed: nil, intended: false, outcome: .unchanged),
    ]

    @Test(arguments: lookups)
    func anIntentOrADoubtIsSetToWhatTheTargetHas(row: Lookup) throws {
        let key = "a@x"
        // Neither intended nor in doubt, and changed on the target: not looked up.
        let bystander = Self.state("z@x")
        var known = ["z@x": bystander]
        known[key] = row.known
        var listing = ["z@x": Self.entry("z@x", version: "r9")]
        listing[key] = row.listed
        let result = Reconciliation.resolve(
            .init(
                known: known, listing: listing, intents: row.intended ? [key] : [],
                doubts: row.intended ? [:] : [key: Self.now.addingTimeInterval(600)], now: Self.now))
        switch row.outcome {
        case .put:
            let listed = try #require(row.listed)
            let recorded = Self.lookedUp(key, listed)
            #expect(result.put == [recorded])
            #expect(result.remove.isEmpty)
            #expect(result.known[key] == recorded)
        case .removed:
            #expect(result.put.isEmpty)
            #expect(result.remove == [key])
            #expect(result.known[key] == nil)
        case .unchanged:
            #expect(result.put.isEmpty)
            #expect(result.remove.isEmpty)
            #expect(result.known[key] == row.known)
        }
        #expect(result.known["z@x"] == bystander, "only intents and doubts are looked up")
        #expect(result.doubt == (row.intended ? [key] : []), "an intent's key stays in doubt")
        #expect(result.forget.isEmpty, "a doubt whose time has not passed is looked up again")
    }

    @Test func doubtsWhoseTimeHasPassedAreForgottenUnlessTheyAreIntentsToo() {
        let result = Reconciliation.resolve(
            .init(
                known: [:], listing: [:], intents: ["both@x"],
                doubts: [
                    "old@x": Self.now.addingTimeInterval(-1), "due@x": Self.now,
                    "new@x": Self.now.addingTimeInterval(1), "both@x": Self.now.addingTimeInterval(-1),
                ],
                now: Self.now))
        #expect(result.forget == ["due@x", "old@x"], "at or before now, and not intended")
        #expect(result.doubt == ["both@x"], "an intent is in doubt for another window")
    }

    // MARK: - Reconcile

    @Test func aReconcileAdoptsWhatTheStoreDoesNotKnowAndLeavesTheRestAlone() throws {
        let known = ["a@x": Self.state("a@x")]
        let listing = ["a@x": Self.entry("a@x", version: "r2"), "b@x": Self.entry("b@x")]
        let result = Reconciliation.resolve(.init(known: known, listing: listing, reconcile: true, now: Self.now))
        let b = try #require(listing["b@x"])
        #expect(result.known["b@x"] == Self.lookedUp("b@x", b), "adopted, with no hash: the planner compares it")
        #expect(result.known["a@x"] == known["a@x"], "a known entity keeps its state")
        #expect(result.known.count == 2)
        #expect(result.put.isEmpty, "adopted for this pass only: its writes record the item")
        #expect(result.remove.isEmpty)
    }

    @Test func aReconcileDoesNotAdoptAnEntityAtAnHrefTheStoreKnows() {
        // The entity the store knows as a@x, listed under another UID.
        let known = ["a@x": Self.state("a@x")]
        let listing = ["new@x": Self.entry("new@x", href: "/c/a@x.ics")]
        let result = Reconciliation.resolve(.init(known: known, listing: listing, reconcile: true, now: Self.now))
        #expect(result.known == known)
        #expect(result.put.isEmpty)
        #expect(result.remove.isEmpty)
    }

    @Test(arguments: [ItemIdentity.uid, .content])
    func aReconcileForgetsTheOtherIdentitysStatesAndRecordsTheirEntitiesAnew(identity: ItemIdentity) throws {
        let byContent = ItemIdentity.contentPrefix + String(repeating: "a", count: 32)
        let (current, stale) = identity == .uid ? ("a@x", byContent) : (byContent, "a@x")
        let kept = identity == .uid ? "k@x" : ItemIdentity.contentPrefix + String(repeating: "b", count: 32)
        try #require(identity.made(current) && identity.made(kept) && !identity.made(stale))
        let known = [stale: Self.state(stale, href: "/c/a.ics"), kept: Self.state(kept, href: "/c/k.ics")]
        let listing = [current: Self.entry("a@x", href: "/c/a.ics"), kept: Self.entry("k@x", href: "/c/k.ics")]
        let result = Reconciliation.resolve(
            .init(known: known, listing: listing, reconcile: true, identity: identity, now: Self.now))
        let adopted = ItemState(key: current, hash: "", href: "/c/a.ics", changeToken: "r1")
        #expect(result.remove == [stale], "a state keyed under the other identity is forgotten")
        #expect(result.known[stale] == nil)
        #expect(result.known[current] == adopted, "its entity is adopted under its key now")
        #expect(result.put == [adopted], "and recorded at once, so the store never loses sight of it")
        #expect(result.known[kept] == known[kept], "a state of this identity is left alone")
        #expect(result.known.count == 2)
    }

    @Test func withoutAReconcileNothingIsAdoptedOrForgotten() {
        let a = ItemIdentity.contentPrefix + String(repeating: "a", count: 32)
        let b = ItemIdentity.contentPrefix + String(repeating: "b", count: 32)
        // Stored by UID, listed by content: a change of identity that only a reconcile handles.
        let known = ["a@x": Self.state("a@x")]
        let listing = [a: Self.entry("a@x"), b: Self.entry("b@x")]
        let result = Reconciliation.resolve(
            .init(known: known, listing: listing, identity: .content, now: Self.now))
        #expect(result.known == known)
        #expect(result.put.isEmpty)
        #expect(result.remove.isEmpty)
        #expect(result.doubt.isEmpty)
        #expect(result.forget.isEmpty)
    }

    // MARK: - doubtsHold

    struct Hold: Sendable, CustomTestStringConvertible {
        var name: String
        var known: [String: ItemState]
        var listing: [String: TargetEntry]
        var doubts: [String]
        var holds: Bool
        var testDescription: String { name }
    }

    static let holdRows: [Hold] = [
        Hold(
            name: "every doubted entity is at the href and version recorded",
            known: ["a@x": state("a@x"), "b@x": state("b@x")],
            listing: ["a@x": entry("a@x"), "b@x": entry("b@x")], doubts: ["a@x", "b@x"], holds: true),
        Hold(
            name: "a doubted key absent from both holds",
            known: [:], listing: [:], doubts: ["a@x"], holds: true),
        Hold(
            name: "a changed entity nobody doubts does not matter",
            known: ["a@x": state("a@x"), "b@x": state("b@x")],
            listing: ["a@x": entry("a@x", version: "r2"), "b@x": entry("b@x")], doubts: ["b@x"], holds: true),
        Hold(
            name: "an entity that appeared while the store knows none",
            known: [:], listing: ["a@x": entry("a@x")], doubts: ["a@x"], holds: false),
        Hold(
            name: "an entity that vanished while the store knows one",
            known: ["a@x": state("a@x")], listing: [:], doubts: ["a@x"], holds: false),
        Hold(
            name: "an entity at another version",
            known: ["a@x": state("a@x")], listing: ["a@x": entry("a@x", version: "r2")], doubts: ["a@x"],
            holds: false),
        Hold(
            name: "an entity at another href",
            known: ["a@x": state("a@x")], listing: ["a@x": entry("a@x", href: "/c/moved.ics")], doubts: ["a@x"],
            holds: false),
        Hold(
            name: "one changed entity among doubts that hold",
            known: ["a@x": state("a@x"), "b@x": state("b@x")],
            listing: ["a@x": entry("a@x"), "b@x": entry("b@x", version: "r2")], doubts: ["a@x", "b@x"],
            holds: false),
    ]

    @Test(arguments: holdRows)
    func doubtsHoldOnlyWhileTheTargetHasWhatTheStoreRecorded(row: Hold) {
        #expect(Reconciliation.doubtsHold(row.doubts, listing: row.listing, known: row.known) == row.holds)
    }

    // MARK: - keyed

    @Test func aListingWithoutDataIsKeyedByUIDAndOnlyWhenKeyedByUID() {
        let a = TargetEntry(href: "/c/a.ics", version: "r1", uid: "a@x")
        let unsaid = TargetEntry(href: "/c/u.ics", version: "r1")
        #expect(Reconciliation.keyed([a, unsaid], identity: .uid) == ["a@x": a], "no UID, no key")
        #expect(Reconciliation.keyed([a, unsaid], identity: .content).isEmpty, "a content key needs the entity")
    }

    @Test(arguments: [ItemIdentity.uid, .content])
    func aWholeEntityIsKeyedByItsItemKey(identity: ItemIdentity) throws {
        let calendar = try Self.calendar(uid: "a@x")
        let whole = TargetEntry(href: "/c/a.ics", version: "r1", whole: calendar)
        let item = try #require(ItemGrouper.items(from: ICalDocument(calendars: [calendar])).items.first)
        let key = identity.key(of: item)
        if identity == .uid {
            #expect(key == "a@x")
        } else {
            #expect(key.hasPrefix(ItemIdentity.contentPrefix), "\(key)")
        }
        #expect(Reconciliation.keyed([whole], identity: identity) == [key: whole])
    }

    @Test(arguments: [ItemIdentity.uid, .content])
    func anEntityWhoseCalendarHasNoUIDIsLeftOut(identity: ItemIdentity) throws {
        let bare = try Self.calendar(uid: nil)
        let whole = try Self.calendar(uid: "a@x")
        let a = TargetEntry(href: "/c/a.ics", version: "r1", whole: whole)
        let none = TargetEntry(href: "/c/n.ics", version: "r1", whole: bare)
        // The listing said a UID, but the entity read whole has none: the entity decides.
        let said = TargetEntry(href: "/c/s.ics", version: "r1", uid: "s@x", calendar: bare)
        #expect(none.uid == nil)
        #expect(Reconciliation.keyed([none, a, said], identity: identity).values.map(\.href) == ["/c/a.ics"])
    }
}
