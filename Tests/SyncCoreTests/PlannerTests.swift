import CalendarModel
import SyncCore
import Testing

/// The planner's decisions, table by table, with no I/O at all.
@Suite struct PlannerTests {
    static func calendar(_ lines: [String]) -> ICalComponent {
        let text =
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + lines + ["END:VCALENDAR"]).joined(
                separator: "\r\n") + "\r\n"
        return try! ICalParser().parse(text).calendars[0]
    }

    static func event(_ uid: String, _ summary: String, extra: [String] = []) -> [String] {
        ["BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20260101T000000Z", "DTSTART:20260301T150000Z", "SUMMARY:\(summary)"]
            + extra + ["END:VEVENT"]
    }

    static func entry(_ uid: String, _ summary: String, extra: [String] = []) -> SyncPlanner.FeedItem {
        let item = ItemGrouper.items(from: ICalDocument(calendars: [calendar(event(uid, summary, extra: extra))]))
            .items[0]
        return SyncPlanner.FeedItem(item: item, hash: CanonicalForm.hash(of: item))
    }

    static func feed(_ entries: [SyncPlanner.FeedItem]) -> SyncPlanner.Feed {
        var f = SyncPlanner.Feed()
        for entry in entries { f.add(entry) }
        return f
    }

    static func known(_ e: SyncPlanner.FeedItem, hash: String? = nil, source: String? = nil) -> ItemState {
        ItemState(
            key: e.item.key, hash: hash ?? e.hash, href: "/c/\(e.item.key).ics", changeToken: "r1", source: source)
    }

    static func planner(_ change: (inout SyncPlanner.Policy) -> Void = { _ in }) -> SyncPlanner {
        var p = SyncPlanner.Policy()
        p.collection = "/c"
        p.file = "s.yaml"
        change(&p)
        return SyncPlanner(policy: p, skip: .defaults)
    }

    @Test func itemsAreSortedIntoNewChangedUnchangedResettledAndGone() {
        let a = Self.entry("a", "A")
        let b = Self.entry("b", "B")
        let c = Self.entry("c", "C")
        let d = Self.entry("d", "D")
        let e = Self.entry("e", "E")
        let known = [
            "a": Self.known(a, source: "old"), "b": Self.known(b, hash: "stale"), "d": Self.known(d),
            "e": Self.known(e), "x": Self.known(Self.entry("x", "X")),
        ]
        // e is recognized by its bytes (not parsed); x is gone; c is new; a's bytes changed, not its meaning.
        let c1 = Self.planner { $0.maxDeleteFraction = 1 }.classify(
            Self.feed([a, b, c, d]), known: known, settled: ["e"],
            sources: ["a": "new", "d": nil].compactMapValues { $0 })
        #expect(c1.new.map(\.item.key) == ["c"])
        #expect(c1.changed.map(\.known.key) == ["b"])
        #expect(c1.unchanged == 3, "a, d and the settled e")
        #expect(c1.resettled.map(\.key) == ["a"], "a's new source is recorded")
        #expect(c1.gone.map(\.key) == ["x"])
        #expect(c1.guardMessage == nil)
        // A reconcile compares every known item with the target.
        let c2 = Self.planner {
            $0.reconcile = true
            $0.maxDeleteFraction = 1
        }.classify(Self.feed([a, b, c, d]), known: known, settled: [], sources: [:])
        #expect(c2.changed.map(\.known.key) == ["a", "b", "d"])
        #expect(c2.gone.map(\.key) == ["e", "x"])
    }

    @Test(arguments: [
        (feed: 0, known: 4, allowEmpty: false, fraction: 0.5, mirror: true, words: "guard.allow-empty"),
        (feed: 0, known: 4, allowEmpty: true, fraction: 1.0, mirror: true, words: nil),
        (feed: 1, known: 4, allowEmpty: false, fraction: 0.5, mirror: true, words: "guard.max-delete-fraction (0.5)"),
        (feed: 2, known: 4, allowEmpty: false, fraction: 0.5, mirror: true, words: nil),
        (feed: 0, known: 4, allowEmpty: false, fraction: 0.5, mirror: false, words: nil),
    ])
    func theDeletionGuardSaysWhichSettingAllowsIt(
        feed: Int, known: Int, allowEmpty: Bool, fraction: Double, mirror: Bool, words: String?
    ) {
        let entries = (0..<known).map { Self.entry("e\($0)", "E") }
        let states = Dictionary(uniqueKeysWithValues: entries.map { ($0.item.key, Self.known($0)) })
        let planner = Self.planner {
            $0.allowEmpty = allowEmpty
            $0.maxDeleteFraction = fraction
            $0.mirrorDeletions = mirror
        }
        let c = planner.classify(Self.feed(Array(entries.prefix(feed))), known: states, settled: [], sources: [:])
        if let words {
            #expect(c.guardMessage?.contains(words) == true, "\(c.guardMessage ?? "nil")")
            #expect(c.guardMessage?.contains("s.yaml") == true)
        } else {
            #expect(c.guardMessage == nil)
        }
        let plan = planner.plan(c, copies: [:], applied: { _ in nil })
        let deletes = plan.writes.count { if case .delete = $0 { true } else { false } }
        #expect(deletes == (words == nil && mirror ? known - feed : 0))
    }

    @Test func aChangedItemIsAnUpdateOfItsFieldsASettleWhenTheCopyMatchesAnAddWhenTheCopyIsGone() {
        let a = Self.entry("a", "A new")
        let b = Self.entry("b", "B")
        let c = Self.entry("c", "C")
        let n = Self.entry("n", "N")
        let known = ["a": Self.known(a, hash: "old"), "b": Self.known(b, hash: "old"), "c": Self.known(c, hash: "old")]
        let planner = Self.planner()
        let cl = planner.classify(Self.feed([a, b, c, n]), known: known, settled: [], sources: [:])
        let copies = [
            "a": SyncPlanner.Copy(
                href: "/c/a.ics", changeToken: "r7", calendar: Self.calendar(Self.event("a", "A old"))),
            "b": SyncPlanner.Copy(
                href: "/c/b.ics", changeToken: "r8",
                calendar: Self.calendar(Self.event("b", "B", extra: ["DTSTAMP:20250101T000000Z"]))),
        ]
        let plan = planner.plan(cl, copies: copies, applied: { _ in "applied" })
        #expect(plan.writes.map(\.key) == ["a", "b", "c", "n"])
        guard case .update(_, let href, let token, let update, _, _) = plan.writes[0] else {
            Issue.record("\(plan.writes[0])")
            return
        }
        #expect(href == "/c/a.ics" && token == "r7" && update.count == 1, "one field edit against the copy's token")
        guard case .settle(let settled) = plan.writes[1] else {
            Issue.record("\(plan.writes[1])")
            return
        }
        #expect(
            settled.changeToken == "r8" && settled.content == "applied",
            "only DTSTAMP differs, which the skip list ignores")
        #expect(plan.matched == 1)
        guard case .add = plan.writes[2], case .add = plan.writes[3] else {
            Issue.record("c was deleted on the target and n is new: both added")
            return
        }
    }

    @Test func aVanishedOverrideIsRemovedFromTheSeries() {
        let rrule = ["RRULE:FREQ=WEEKLY;COUNT=10"]
        let series = Self.entry("s", "Training", extra: rrule)
        let known = ["s": Self.known(series, hash: "old")]
        let copy = Self.calendar(
            Self.event("s", "Training", extra: rrule)
                + [
                    "BEGIN:VEVENT", "UID:s", "RECURRENCE-ID:20260308T150000Z", "DTSTART:20260309T150000Z",
                    "SUMMARY:Moved", "END:VEVENT",
                ])
        let planner = Self.planner()
        let plan = planner.plan(
            planner.classify(Self.feed([series]), known: known, settled: [], sources: [:]),
            copies: ["s": .init(href: "/c/s.ics", changeToken: "r2", calendar: copy)], applied: { _ in nil })
        guard case .update(_, _, _, let update, _, _) = plan.writes.first else {
            Issue.record("\(plan.writes)")
            return
        }
        #expect(
            ChangeSetPrinter.lines(update).contains { $0.hasPrefix("- VEVENT uid=s recurrence-id=20260308T150000Z") },
            "\(ChangeSetPrinter.lines(update))")
    }

    @Test func trustLastmodTrustsOnlyACopyWhoseStampIsTheOneRecorded() {
        let a = Self.entry("a", "A")
        let b = Self.entry("b", "B")
        let c = Self.entry("c", "C")
        let applied = ICalWriter.string([Self.calendar(Self.event("a", "A old"))])
        var ka = Self.known(a, hash: "old")
        var kb = Self.known(b, hash: "old")
        ka.content = applied
        ka.lastModified = "20260101T000000Z"
        kb.content = applied
        kb.lastModified = "20260101T000000Z"
        let kc = Self.known(c, hash: "old")  // no applied copy recorded
        let planner = Self.planner { $0.trustLastModified = true }
        let cl = planner.classify(Self.feed([a, b, c]), known: ["a": ka, "b": kb, "c": kc], settled: [], sources: [:])
        #expect(planner.trustCandidates(cl.changed).map(\.known.key) == ["a", "b"])
        // b was edited on the target since: its stamp moved.
        let split = planner.trusted(
            cl.changed, stamps: ["/c/a.ics": "20260101T000000Z", "/c/b.ics": "20260102T000000Z"])
        #expect(split.trusted.map(\.0.known.key) == ["a"] && split.fetch.map(\.known.key) == ["b", "c"])
        let reconciling = Self.planner {
            $0.trustLastModified = true
            $0.reconcile = true
        }
        #expect(reconciling.trustCandidates(cl.changed).isEmpty, "a reconcile trusts nothing")
    }

    /// A feed that replaces most of its items by about as many new UIDs looks like one whose UIDs
    /// change on every export: the guard names `identity: content`, and holds the adds too (they
    /// would be the gone items again). A real shrink, or a real growth, keeps the usual words.
    @Test(arguments: [
        (gone: 10, new: 10, known: 10, identity: ItemIdentity.uid, churn: true),
        (gone: 9, new: 10, known: 10, identity: .uid, churn: true),
        (gone: 8, new: 10, known: 10, identity: .uid, churn: false),
        (gone: 10, new: 5, known: 10, identity: .uid, churn: false),
        (gone: 10, new: 30, known: 10, identity: .uid, churn: false),
        (gone: 4, new: 4, known: 10, identity: .uid, churn: false),
        (gone: 10, new: 10, known: 10, identity: .content, churn: false),
    ])
    func aFeedWhoseUIDsChangeOnEveryExportIsNamedByTheGuard(
        gone: Int, new: Int, known: Int, identity: ItemIdentity, churn: Bool
    ) {
        let old = (0..<known).map { Self.entry("old-\($0)", "E\($0)") }
        let fresh = (0..<new).map { Self.entry("new-\($0)", "E\($0)") }
        let states = Dictionary(uniqueKeysWithValues: old.map { ($0.item.key, Self.known($0)) })
        let planner = Self.planner {
            $0.identity = identity
            $0.maxDeleteFraction = 0.3
        }
        let c = planner.classify(
            Self.feed(Array(old.dropFirst(gone)) + fresh), known: states, settled: [], sources: [:])
        #expect(
            c.guardMessage?.contains(
                "looks like a feed whose UIDs change on every export; set identity: content in s.yaml") == churn,
            "\(c.guardMessage ?? "nil")")
        #expect(c.holdsAdds == churn)
        let adds = planner.plan(c, copies: [:], applied: { _ in nil }).writes.count {
            if case .add = $0 { true } else { false }
        }
        #expect(adds == (churn ? 0 : new))
    }

    /// Keyed by content, a changed item is compared with the target's copy under the copy's UID:
    /// a new UID alone is no edit, and an edit travels under the UID the target keeps.
    @Test func keyedByContentTheTargetsCopyKeepsItsUID() {
        var item = Self.entry("export-2-a", "A", extra: ["LOCATION:Hall 2"])
        item.item.key = ItemIdentity.content.key(of: item.item)
        let known = [item.item.key: ItemState(key: item.item.key, hash: "old", href: "/c/1.ics", changeToken: "r1")]
        let planner = Self.planner { $0.identity = .content }
        let cl = planner.classify(Self.feed([item]), known: known, settled: [], sources: [:])
        func plan(_ copy: [String]) -> PlannedWrite? {
            planner.plan(
                cl, copies: [item.item.key: .init(href: "/c/1.ics", changeToken: "r1", calendar: Self.calendar(copy))],
                applied: { _ in nil }
            ).writes.first
        }
        guard case .settle = plan(Self.event("export-1-a", "A", extra: ["LOCATION:Hall 2"])) else {
            Issue.record("only the UID differs: nothing to send")
            return
        }
        guard
            case .update(_, _, _, let update, let source, _) = plan(
                Self.event("export-1-a", "A", extra: ["LOCATION:Hall 1"]))
        else {
            Issue.record("the location differs: an update")
            return
        }
        #expect(ChangeSetPrinter.lines(update) == [#"~ VEVENT uid=export-1-a LOCATION "Hall 1" -> "Hall 2""#])
        #expect(source.uid == "export-1-a" && source.master?.uid == "export-1-a")
        // Without content identity the same copy is another entity: its UID differs.
        let byUID = Self.planner().plan(
            cl,
            copies: [
                item.item.key: .init(
                    href: "/c/1.ics", changeToken: "r1",
                    calendar: Self.calendar(Self.event("export-1-a", "A", extra: ["LOCATION:Hall 2"])))
            ],
            applied: { _ in nil })
        if case .settle = byUID.writes.first { Issue.record("keyed by UID, another UID is not the same item") }
    }

    @Test func aContentKeyIsTheSeriesStartRuleAndSummaryWhateverTheUID() {
        func key(_ lines: [String]) -> String {
            ItemIdentity.content.key(
                of: ItemGrouper.items(from: ICalDocument(calendars: [Self.calendar(lines)])).items[0])
        }
        let rule = ["RRULE:FREQ=WEEKLY;COUNT=5"]
        let base = key(Self.event("u1", "Training", extra: rule))
        #expect(base.hasPrefix("content:") && base.count == 40)
        #expect(key(Self.event("u2", "Training", extra: rule + ["LOCATION:Elsewhere"])) == base, "UID and location")
        #expect(key(Self.event("u1", "Training (moved)", extra: rule)) != base, "SUMMARY")
        #expect(key(Self.event("u1", "Training", extra: ["RRULE:FREQ=WEEKLY;COUNT=6"])) != base, "RRULE")
        #expect(key(Self.event("u1", "Training")) != base, "no RRULE")
        let moved = [
            "BEGIN:VEVENT", "UID:u3", "RECURRENCE-ID:20260308T150000Z", "DTSTART:20260309T150000Z", "SUMMARY:Moved",
            "END:VEVENT",
        ]
        #expect(key(Self.event("u3", "Training", extra: rule) + moved) == base, "an override belongs to its series")
        #expect(ItemIdentity.content.made(base) && !ItemIdentity.uid.made(base) && ItemIdentity.uid.made("u1"))
        // A dry run names an item keyed by content by its UID first.
        let add = PlannedWrite.add(key: base, calendar: Self.calendar(Self.event("u1", "Training")), hash: "")
        #expect(add.lines == ["+ add u1 (\(base))"])
        #expect(
            PlannedWrite.add(key: "u1", calendar: Self.calendar(Self.event("u1", "T")), hash: "").lines == ["+ add u1"])
    }
}
