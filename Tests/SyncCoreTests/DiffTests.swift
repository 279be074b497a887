import CalendarModel
import Foundation
import SyncCore
import Testing

func items(_ lines: [String]) throws -> [ICalItem] {
    let text =
        (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:t"] + lines + ["END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
    return ItemGrouper.items(from: try ICalParser().parse(text)).items
}

func item(_ lines: [String]) throws -> ICalItem {
    let all = try items(lines)
    try #require(all.count == 1)
    return all[0]
}

/// The same item with some lines replaced, added or removed.
func variant(_ lines: [String], replacing: [String: String] = [:], adding: [String] = [], removing: Set<String> = [])
    -> [String]
{
    var out = lines.filter { !removing.contains($0) }.map { replacing[$0] ?? $0 }
    if !adding.isEmpty, let end = out.firstIndex(of: "END:VEVENT") { out.insert(contentsOf: adding, at: end) }
    return out
}

/// True when two items mean the same, leaving out what `skip` names.
func same(_ a: ICalItem, _ b: ICalItem, skip: SkipList = .defaults) -> Bool {
    CanonicalForm.bytes(of: a, skipping: skip) == CanonicalForm.bytes(of: b, skipping: skip)
}

let base = [
    "BEGIN:VEVENT", "UID:m1", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20260105T090000",
    "DTEND;TZID=Europe/Berlin:20260105T100000", "SUMMARY:Lions vs Tigers", "LOCATION:Main Hall",
    "CATEGORIES:Sport,League", "EXDATE;TZID=Europe/Berlin:20260112T090000", "RRULE:FREQ=WEEKLY;COUNT=10",
    "ATTENDEE;CN=Ann;PARTSTAT=NEEDS-ACTION:mailto:ann@x.org", "ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@x.org",
    "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "DESCRIPTION:Soon", "END:VALARM", "END:VEVENT",
    "BEGIN:VEVENT", "UID:m1", "RECURRENCE-ID;TZID=Europe/Berlin:20260119T090000",
    "DTSTART;TZID=Europe/Berlin:20260119T110000",
    "SUMMARY:Lions vs Tigers (moved)", "END:VEVENT",
]

@Suite struct DiffTests {
    @Test func equalItemsGiveNoEdits() throws {
        let t = try item(base)
        #expect(Differ.diff(source: t, target: t).isEmpty)
    }

    @Test func spellingOrderAndSkippedFieldsGiveNoEdits() throws {
        let s = try item(
            variant(
                base,
                replacing: [
                    "DTSTAMP:20260101T000000Z": "DTSTAMP:20991231T000000Z",
                    "CATEGORIES:Sport,League": "CATEGORIES:League",
                    "DTSTART;TZID=Europe/Berlin:20260105T090000":
                        "DTSTART;VALUE=DATE-TIME;TZID=Europe/Berlin:20260105T090000",
                    "ATTENDEE;CN=Ann;PARTSTAT=NEEDS-ACTION:mailto:ann@x.org":
                        "ATTENDEE;partstat=needs-action;CN=Ann:MAILTO:ann@x.org",
                    "RRULE:FREQ=WEEKLY;COUNT=10": "RRULE:COUNT=10;FREQ=WEEKLY;INTERVAL=1",
                ], adding: ["CATEGORIES:Sport"]))
        let d = Differ.diff(source: s, target: try item(base))
        #expect(d.isEmpty, "\(ChangeSetPrinter.lines(d))")
    }

    @Test func aChangedSummaryIsOneValueChange() throws {
        let t = try item(base)
        let s = try item(variant(base, replacing: ["SUMMARY:Lions vs Tigers": "SUMMARY:Lions vs Bears"]))
        let d = Differ.diff(source: s, target: t)
        #expect(ChangeSetPrinter.lines(d) == [#"~ VEVENT uid=m1 SUMMARY "Lions vs Tigers" -> "Lions vs Bears""#])
        #expect(d.count == 1)
        #expect(same(try Applier.apply(d, to: t), s))
    }

    @Test func aPartstatChangeIsAParameterChangeOnThatAttendee() throws {
        let t = try item(base)
        let s = try item(
            variant(
                base,
                replacing: [
                    "ATTENDEE;CN=Ann;PARTSTAT=NEEDS-ACTION:mailto:ann@x.org":
                        "ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@x.org"
                ]))
        let d = Differ.diff(source: s, target: t)
        #expect(
            ChangeSetPrinter.lines(d) == [
                #"~ VEVENT uid=m1 ATTENDEE mailto:ann@x.org PARTSTAT "NEEDS-ACTION" -> "ACCEPTED""#
            ])
        #expect(same(try Applier.apply(d, to: t), s))
    }

    @Test func listPropertiesAreComparedValueByValue() throws {
        let t = try item(base)
        let s = try item(
            variant(
                base,
                replacing: [
                    "CATEGORIES:Sport,League": "CATEGORIES:League,Cup",
                    "EXDATE;TZID=Europe/Berlin:20260112T090000":
                        "EXDATE;TZID=Europe/Berlin:20260112T090000,20260126T090000",
                ]))
        let d = Differ.diff(source: s, target: t)
        #expect(
            Set(ChangeSetPrinter.lines(d)) == [
                #"- VEVENT uid=m1 CATEGORIES "Sport""#, #"+ VEVENT uid=m1 CATEGORIES "Cup""#,
                "+ VEVENT uid=m1 EXDATE;TZID=Europe/Berlin 20260126T090000",
            ])
        #expect(same(try Applier.apply(d, to: t), s))
    }

    @Test func attendeesAreMatchedByAddress() throws {
        let t = try item(base)
        let s = try item(
            variant(
                base, adding: ["ATTENDEE;CN=Cy:mailto:cy@x.org"],
                removing: ["ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@x.org"]))
        let d = Differ.diff(source: s, target: t)
        #expect(
            ChangeSetPrinter.lines(d) == [
                "~ VEVENT uid=m1 ATTENDEE mailto:bob@x.org -> mailto:cy@x.org",
                #"- VEVENT uid=m1 ATTENDEE mailto:bob@x.org PARTSTAT "ACCEPTED""#,
                #"~ VEVENT uid=m1 ATTENDEE mailto:bob@x.org CN "Bob" -> "Cy""#,
            ])
        #expect(same(try Applier.apply(d, to: t), s))
    }

    @Test func overridesAreAddedAndRemovedByUIDAndRecurrenceID() throws {
        let t = try item(base)
        var lines = Array(base.prefix(18))  // the master only: the override vanished
        lines += [
            "BEGIN:VEVENT", "UID:m1", "RECURRENCE-ID;TZID=Europe/Berlin:20260202T090000", "SUMMARY:Cup final",
            "END:VEVENT",
        ]
        let s = try item(lines)
        let d = Differ.diff(source: s, target: t)
        #expect(
            ChangeSetPrinter.lines(d) == [
                "- VEVENT uid=m1 recurrence-id=20260119T090000", "+ VEVENT uid=m1 recurrence-id=20260202T090000",
            ])
        #expect(d.components.removes[0].properties.map(\.name) == ["UID", "RECURRENCE-ID"])
        #expect(same(try Applier.apply(d, to: t), s))
    }

    @Test func alarmsAreMatchedByActionAndTrigger() throws {
        let t = try item(base)
        let s = try item(variant(base, replacing: ["DESCRIPTION:Soon": "DESCRIPTION:Now"]))
        let d = Differ.diff(source: s, target: t)
        #expect(
            ChangeSetPrinter.lines(d) == [
                #"~ VEVENT uid=m1 > VALARM action=DISPLAY trigger=-PT15M DESCRIPTION "Soon" -> "Now""#
            ])
        #expect(same(try Applier.apply(d, to: t), s))
    }

    @Test func theSkipListHidesDifferences() throws {
        let t = try item(base)
        let s = try item(variant(base, replacing: ["LOCATION:Main Hall": "LOCATION:Side Hall"], adding: ["SEQUENCE:4"]))
        #expect(!Differ.diff(source: s, target: t).isEmpty)
        #expect(
            Differ.diff(
                source: s, target: t, skip: SkipList.defaults.merging(SkipList(properties: ["LOCATION", "SEQUENCE"]))
            ).isEmpty)
        #expect(
            Differ.diff(source: s, target: t, skip: SkipList.defaults.merging(SkipList(components: ["VEVENT"]))).isEmpty
        )
    }

    @Test func aValueTypeChangeIsAChange() throws {
        let t = try item(["BEGIN:VEVENT", "UID:d", "DTSTART;VALUE=DATE:20260105", "END:VEVENT"])
        let s = try item(["BEGIN:VEVENT", "UID:d", "DTSTART:20260105T090000Z", "END:VEVENT"])
        let d = Differ.diff(source: s, target: t)
        #expect(ChangeSetPrinter.lines(d) == ["~ VEVENT uid=d DTSTART 20260105 -> 20260105T090000Z"])
        #expect(same(try Applier.apply(d, to: t), s))
    }
}

@Suite struct ApplyTests {
    @Test func aSelectorThatMatchesNothingIsATypedError() throws {
        let t = try item(base)
        var u = ComponentUpdate(selector: ComponentSelector(name: "VCALENDAR"))
        var ev = ComponentUpdate(
            selector: ComponentSelector(name: "VEVENT", properties: [ICalProperty("UID", .text("m1"))]))
        ev.properties.removes = [ICalProperty("LOCATION", .text("Nowhere"))]
        u.components.updates = [ev]
        #expect(throws: ApplyError.noMatch(path: "VCALENDAR > VEVENT uid=m1", what: "LOCATION Nowhere")) {
            try Applier.apply(u, to: t)
        }
        var gone = u
        gone.components.updates[0].selector.properties = [ICalProperty("UID", .text("nope"))]
        #expect(throws: ApplyError.self) { try Applier.apply(gone, to: t) }
    }

    @Test func aSelectorThatMatchesTwoDifferentThingsIsATypedError() throws {
        let t = try item(["BEGIN:VEVENT", "UID:a", "COMMENT;LANGUAGE=en:x", "COMMENT;LANGUAGE=de:x", "END:VEVENT"])
        var u = ComponentUpdate(selector: ComponentSelector(name: "VCALENDAR"))
        var ev = ComponentUpdate(
            selector: ComponentSelector(name: "VEVENT", properties: [ICalProperty("UID", .text("a"))]))
        ev.properties.removes = [ICalProperty("COMMENT", .text("x"))]
        u.components.updates = [ev]
        #expect(throws: ApplyError.ambiguous(path: "VCALENDAR > VEVENT uid=a", what: "COMMENT x", count: 2)) {
            try Applier.apply(u, to: t)
        }
    }

    @Test func removesComeBeforeChangesBeforeAdds() throws {
        // A selector ignores LANGUAGE, so each step finds two different matches (and refuses them
        // as ambiguous) if it runs after the step that makes the second one: the change makes a
        // second COMMENT "old" for the remove, the adds a second SUMMARY "A" for the remove and a
        // second COMMENT "keep" for the change.
        let t = try item([
            "BEGIN:VEVENT", "UID:a", "SUMMARY:A", "COMMENT;LANGUAGE=en:old", "COMMENT:keep", "END:VEVENT",
        ])
        var u = ComponentUpdate(selector: ComponentSelector(name: "VCALENDAR"))
        var ev = ComponentUpdate(
            selector: ComponentSelector(name: "VEVENT", properties: [ICalProperty("UID", .text("a"))]))
        ev.properties.removes = [ICalProperty("SUMMARY", .text("A")), ICalProperty("COMMENT", .text("old"))]
        ev.properties.changes = [
            PropertyChange(current: ICalProperty("COMMENT", .text("keep")), newValues: ICalValues([.text("old")]))
        ]
        ev.properties.adds = [
            ICalProperty("SUMMARY", .text("A"), parameters: [ICalParameter("LANGUAGE", "de")]),
            ICalProperty("COMMENT", .text("keep"), parameters: [ICalParameter("LANGUAGE", "de")]),
        ]
        u.components.updates = [ev]
        let out = try Applier.apply(u, to: t)
        let expected = try item([
            "BEGIN:VEVENT", "UID:a", "COMMENT:old", "SUMMARY;LANGUAGE=de:A", "COMMENT;LANGUAGE=de:keep", "END:VEVENT",
        ])
        #expect(same(out, expected, skip: .none), "\(ICalWriter.string([out.calendar()]))")
    }
}
