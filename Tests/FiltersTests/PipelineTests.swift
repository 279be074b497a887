import CalendarModel
import Filters
import Testing

let now = ICalDateTime(year: 2026, month: 11, day: 21, hour: 12, minute: 0, second: 0, isUTC: true)

func item(_ lines: [String]) throws -> ICalItem {
    let text =
        (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:t"] + lines + ["END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
    let set = ItemGrouper.items(from: try ICalParser().parse(text))
    try #require(set.items.count == 1)
    return set.items[0]
}

func pipeline(_ yaml: String) throws -> FilterPipeline {
    FilterPipeline([try load(yaml).get()])
}

let match = [
    "BEGIN:VEVENT", "UID:m1", "DTSTAMP:20260101T000000Z", "DTSTART:20260301T150000Z", "DTEND:20260301T170000Z",
    "SUMMARY:Lions vs Tigers", "LOCATION:  Main   Hall ", "CLASS:PRIVATE", "CATEGORIES:Fussball,Sport",
    "ORGANIZER;CN=Club:mailto:club@x.org", "ATTENDEE;PARTSTAT=ACCEPTED;CN=Ann:mailto:ann@x.org",
    "X-MS-OLK-SENDER:mailto:x@x.org",
    "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "X-WR-ALARMUID:a1", "END:VALARM", "END:VEVENT",
]

@Suite struct PipelineTests {
    @Test func removalsReachEveryDepth() throws {
        let p = try pipeline(
            """
            stage: input
            rules:
              - remove-component: VALARM
              - remove-property: [ORGANIZER, X-MS-*]
              - remove-parameter: PARTSTAT
                from: ATTENDEE
            """)
        guard case .kept(let out, let effects) = p.run(try item(match), now: now) else {
            Issue.record("dropped")
            return
        }
        let e = out.master!
        #expect(e.components.isEmpty)
        #expect(e.property("ORGANIZER") == nil && e.property("X-MS-OLK-SENDER") == nil)
        #expect(e.property("ATTENDEE")?.parameters.map(\.name) == ["CN"])
        #expect(
            effects.map(\.description) == [
                "filter f rule 1 (remove component VALARM): 1 change",
                "filter f rule 2 (remove property ORGANIZER, X-MS-*): 2 changes",
                "filter f rule 3 (remove parameter PARTSTAT from ATTENDEE): 1 change",
            ])
    }

    @Test func editsSetAddDefaultRenameRewriteAndMap() throws {
        let p = try pipeline(
            """
            stage: output
            rules:
              - set: CLASS
                value: PUBLIC
              - add: CATEGORIES
                value: Athletics
              - add: CATEGORIES
                value: Sport
              - default: TRANSP
                value: TRANSPARENT
              - default: SUMMARY
                value: never used
              - rename-property: ORGANIZER
                to: X-ORIGINAL-ORGANIZER
              - rewrite: LOCATION
                pattern: '^\\s+|\\s+$'
                replacement: ''
              - rewrite: LOCATION
                pattern: '\\s{2,}'
                replacement: ' '
              - rewrite: SUMMARY
                pattern: '^(\\w+) vs (\\w+)$'
                replacement: '$2 host $1 ($$5)'
              - map: CATEGORIES
                values: { Fussball: Football }
            """)
        let out = try #require(p.run(try item(match), now: now).item?.master)
        #expect(out.properties(named: "CLASS").map(\.values) == [[.text("PUBLIC")]])
        #expect(
            out.properties(named: "CATEGORIES").flatMap(\.values) == [
                .text("Football"), .text("Sport"), .text("Athletics"),
            ])
        #expect(out.property("TRANSP")?.text == "TRANSPARENT")
        #expect(out.property("SUMMARY")?.text == "Tigers host Lions ($5)")
        #expect(out.property("LOCATION")?.text == "Main Hall")
        #expect(out.property("ORGANIZER") == nil && out.property("X-ORIGINAL-ORGANIZER")?.parameter("CN") == "Club")
        // The alarm is not an item component: edits leave it alone.
        #expect(out.components[0].property("CATEGORIES") == nil)
    }

    @Test func dropNamesTheFilterAndRule() throws {
        let p = try pipeline(
            String(
                decoding: Array(
                    """
                    stage: output
                    rules:
                      - add: CATEGORIES
                        value: X
                      - drop: true
                        when: { property: CLASS, matches: '(?i)^(private|confidential)$' }
                    """.utf8), as: UTF8.self))
        guard case .dropped(let filter, let rule, let line) = p.run(try item(match), now: now) else {
            Issue.record("kept")
            return
        }
        #expect((filter, rule, line) == ("f", 2, 5))
        let publicMatch = match.map { $0 == "CLASS:PRIVATE" ? "CLASS:PUBLIC" : $0 }
        #expect(p.run(try item(publicMatch), now: now).item != nil)
    }

    @Test(arguments: [
        ("DTEND:20261020T170000Z", 30, true),  // ended 32 days ago
        ("DTEND:20261101T170000Z", 30, false),  // ended 20 days ago
        ("DTEND;TZID=Europe/Berlin:20261022T000000", 30, false),  // local time: 12 hours of slack
        ("DTEND;TZID=Europe/Berlin:20261021T000000", 30, true),
    ])
    func pastEventsAreDroppedByAge(end: String, days: Int, dropped: Bool) throws {
        let p = try pipeline(
            """
            stage: input
            rules:
              - drop: true
                when: { ended-days-ago: \(days) }
            """)
        let ev = ["BEGIN:VEVENT", "UID:p", "DTSTART:20261001T150000Z", end, "END:VEVENT"]
        #expect((p.run(try item(ev), now: now).item == nil) == dropped)
        let recurring = [
            "BEGIN:VEVENT", "UID:p", "DTSTART:20200101T150000Z", "DTEND:20200101T160000Z", "RRULE:FREQ=WEEKLY",
            "END:VEVENT",
        ]
        #expect(p.run(try item(recurring), now: now).item != nil, "a recurring event is never dropped as past")
    }

    @Test func conditionsRestrictWhereARuleActs() throws {
        let p = try pipeline(
            """
            stage: input
            rules:
              - remove-property: X-WR-ALARMUID
                when: { component: VALARM, property: ACTION, matches: EMAIL }
              - set: STATUS
                value: CONFIRMED
                when: { has: ATTENDEE, missing: STATUS }
            """)
        let out = try #require(p.run(try item(match), now: now).item?.master)
        #expect(out.components[0].property("X-WR-ALARMUID") != nil, "the alarm is DISPLAY, not EMAIL")
        #expect(out.property("STATUS")?.text == "CONFIRMED")
    }

    @Test func thePipelineIsPureAndDeterministic() throws {
        let p = try pipeline(
            """
            stage: input
            rules:
              - remove-component: VALARM
              - add: CATEGORIES
                value: A
            """)
        let input = try item(match)
        let a = p.run(input, now: now).item
        let b = p.run(input, now: now).item
        // The input is left as it was read (compared with a fresh reading, not with a copy of
        // itself), the pipeline did change its output, and twice gives the same result.
        #expect(input == (try item(match)))
        let out = try #require(a?.master)
        #expect(out.components.isEmpty && out.properties(named: "CATEGORIES").flatMap(\.values).contains(.text("A")))
        #expect(input.master?.components.count == 1)
        #expect(a == b)
    }

    @Test func outputFiltersExtendTheDefaultSkipList() throws {
        let input = try load("stage: input\nrules:\n  - remove-component: VALARM\n").get()
        let output = try load("stage: output\nskip:\n  properties: [SEQUENCE, X-*-STAMP]\n").get()
        let skip = FilterPipeline(input: [input], output: [output]).skipList
        #expect(skip.skipsProperty("DTSTAMP") && skip.skipsProperty("SEQUENCE") && skip.skipsProperty("X-LAST-STAMP"))
        #expect(!skip.skipsProperty("SUMMARY"))
    }
}
