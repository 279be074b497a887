import Testing
@testable import CalendarModel

private let berlin = [
    "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
    "END:VTIMEZONE",
]
private let unused = [
    "BEGIN:VTIMEZONE", "TZID:Asia/Tokyo", "BEGIN:STANDARD", "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0900", "TZOFFSETTO:+0900", "END:STANDARD", "END:VTIMEZONE",
]

private func items(_ lines: [String]) throws -> ItemSet {
    ItemGrouper.items(
        from: try ICalParser().parse(ics(["BEGIN:VCALENDAR", "PRODID:t", "VERSION:2.0"] + lines + ["END:VCALENDAR"])))
}

private func hash(_ lines: [String], skip: SkipList = .defaults) throws -> String {
    let set = try items(lines)
    #expect(set.items.count == 1)
    return CanonicalForm.hash(of: set.items[0], skipping: skip)
}

@Suite struct ItemTests {
    @Test func groupsAMasterWithItsOverridesAndTheZonesTheyUse() throws {
        let set = try items(
            berlin + unused + [
                "BEGIN:VEVENT", "UID:s", "RECURRENCE-ID;TZID=Europe/Berlin:20260112T090000", "SUMMARY:moved",
                "END:VEVENT",
                "BEGIN:VEVENT", "UID:s", "DTSTART;TZID=Europe/Berlin:20260105T090000", "RRULE:FREQ=WEEKLY",
                "END:VEVENT",
                "BEGIN:VEVENT", "UID:other", "DTSTART:20260105T090000Z", "END:VEVENT",
                "BEGIN:VTODO", "UID:t", "END:VTODO",
            ])
        #expect(set.items.map(\.key) == ["s", "other", "t"])
        let s = set.items[0]
        #expect(s.master?.property("RRULE") != nil)
        #expect(s.overrides.count == 1)
        #expect(s.components.first?.recurrenceID == nil, "master first")
        #expect(s.timezones.map { $0.property("TZID")?.text } == ["Europe/Berlin"])
        #expect(set.items[1].timezones.isEmpty)
        #expect(set.diagnostics.isEmpty)
    }

    @Test func itemsCanBeGroupedWithoutTheirZones() throws {
        let lines =
            berlin + [
                "BEGIN:VEVENT", "UID:s", "DTSTART;TZID=Europe/Berlin:20260105T090000", "RRULE:FREQ=WEEKLY",
                "END:VEVENT",
            ]
        let document = try ICalParser().parse(
            ics(["BEGIN:VCALENDAR", "PRODID:t", "VERSION:2.0"] + lines + ["END:VCALENDAR"]))
        let with = ItemGrouper.items(from: document)
        let without = ItemGrouper.items(from: document, collectingZones: false)
        #expect(with.items[0].timezones.count == 1)
        #expect(without.items[0].timezones.isEmpty)
        #expect(without.items.map(\.components) == with.items.map(\.components))
        #expect(without.timezones == with.timezones, "the stream's zones are still listed")
    }

    @Test func anOrphanOverrideIsAnItemWithoutMaster() throws {
        let set = try items(["BEGIN:VEVENT", "UID:o", "RECURRENCE-ID:20260105T090000Z", "END:VEVENT"])
        #expect(set.items[0].master == nil)
        #expect(set.items[0].overrides.count == 1)
    }

    @Test func aComponentWithoutUIDGetsAStableDerivedKeyAndADiagnostic() throws {
        let a = try items(["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z", "SUMMARY:No uid", "END:VEVENT"])
        let b = try items(["BEGIN:VEVENT", "SUMMARY:No uid", "DTSTAMP:20270101T000000Z", "END:VEVENT"])
        #expect(a.items[0].key.hasPrefix("derived-"))
        #expect(a.items[0].key == b.items[0].key, "DTSTAMP and order do not change the derived key")
        #expect(a.items[0].uid == nil)
        #expect(a.diagnostics.count == 1)
        #expect(a.diagnostics[0].message.contains(a.items[0].key))
        #expect(a.diagnostics[0].line == 4, "the line of the component's BEGIN")
    }

    @Test func duplicateMastersKeepTheLaterRevisionWhateverTheOrder() throws {
        let v1 = ["BEGIN:VEVENT", "UID:d", "SEQUENCE:1", "SUMMARY:old", "END:VEVENT"]
        let v2 = ["BEGIN:VEVENT", "UID:d", "SEQUENCE:2", "SUMMARY:new", "END:VEVENT"]
        for order in [v1 + v2, v2 + v1] {
            let set = try items(order)
            #expect(set.items.count == 1)
            #expect(set.items[0].master?.property("SUMMARY")?.text == "new")
            #expect(set.diagnostics.count == 1)
            #expect(set.diagnostics[0].uid == "d")
            // Both copies are located: the second by the diagnostic's line, the first in its text.
            #expect(set.diagnostics[0].line == 9)
            #expect(set.diagnostics[0].message.contains("the other at line 4"))
        }
        // Equal SEQUENCE and stamps: still one deterministic choice.
        let x = ["BEGIN:VEVENT", "UID:d", "SUMMARY:x", "END:VEVENT"]
        let y = ["BEGIN:VEVENT", "UID:d", "SUMMARY:y", "END:VEVENT"]
        #expect(try items(x + y).items[0].master == items(y + x).items[0].master)
    }
}

@Suite struct PropertyTypesTests {
    @Test func everyKnownParameterHasItsType() {
        for name in PropertyTypes.knownParameterNames {
            #expect(PropertyTypes.parameterInfo(of: name).type != .unknown, "\(name)")
        }
        #expect(PropertyTypes.parameterInfo(of: "X-FOO").type == .unknown)
        #expect(PropertyTypes.parameterInfo(of: "RSVP") == (.boolean, true))
        #expect(PropertyTypes.parameterInfo(of: "DELEGATED-TO").type == .calAddress)
    }

    @Test func everyKnownPropertyHasItsTypeAndNoOtherNameHasOne() {
        let expected: [String: ValueType?] = [
            "DTSTART": .dateTime, "DTSTAMP": .dateTime, "DTEND": .dateTime, "RDATE": .dateTime, "RRULE": .recur,
            "EXRULE": .recur, "UID": .text, "DUE": .dateTime, "URL": .uri, "GEO": .geo, "TZID": .text,
            "PERCENT-COMPLETE": .integer, "REQUEST-STATUS": .requestStatus, "LAST-MODIFIED": .dateTime,
            "RECURRENCE-ID": .dateTime, "TZOFFSETFROM": .utcOffset, "ATTENDEE": .calAddress, "COLOR": .text,
            // Unknown: no default, whatever their length or likeness to a known name.
            "": nil, "D": nil, "DTSTARTS": nil, "DTSTAR": nil, "PERCENT-COMPLETEX": nil, "X-WR-TIMEZONE": nil,
            "REFRESH-INTERVAL": nil, "dtstart": nil, "A-VERY-LONG-EXPERIMENTAL-NAME": nil,
        ]
        for (name, type) in expected { #expect(PropertyTypes.defaultType(of: name) == type, "\(name)") }
        for name in PropertyTypes.knownPropertyNames where name != "REFRESH-INTERVAL" {
            #expect(PropertyTypes.defaultType(of: name) != nil, "\(name)")
        }
        #expect(PropertyTypes.knownPropertyNames.count == 53)
        #expect(PropertyTypes.info(of: "EXDATE") == (.dateTime, true))
        #expect(PropertyTypes.info(of: "CATEGORIES") == (.text, true))
        #expect(PropertyTypes.info(of: "DTSTART") == (.dateTime, false))
        #expect(PropertyTypes.info(of: "X-FOO") == (nil, false))
    }

    /// One hasher reuses what it computed for a zone only for that very zone: a zone that shares
    /// its property storage with another but has other observances, or the same zone in other
    /// storage, hashes as a fresh hasher hashes it.
    @Test func aHasherTellsZonesApartThatShareStorage() throws {
        let item = try #require(
            try items(berlin + ["BEGIN:VEVENT", "UID:z", "DTSTART;TZID=Europe/Berlin:20260105T090000", "END:VEVENT"])
                .items.first)
        var changed = item
        // Properties of the zone itself still shared.
        changed.timezones[0].components[0].properties.append(ICalProperty("TZNAME", .text("CET")))
        var copied = item
        copied.timezones[0].properties = item.timezones[0].properties.map { $0 }  // equal, in other storage
        copied.timezones[0].properties.reserveCapacity(64)
        var hasher = ItemHasher(skipping: .defaults)
        let fresh = [item, changed, copied, item].map { CanonicalForm.hash(of: $0, skipping: .defaults) }
        #expect([item, changed, copied, item].map { hasher.hash($0) } == fresh)
        #expect(fresh[0] != fresh[1] && fresh[0] == fresh[2])
        #expect(
            ItemHasher.hashes(of: Array(repeating: changed, count: 300) + Array(repeating: item, count: 300)) == Array(
                repeating: fresh[1], count: 300) + Array(repeating: fresh[0], count: 300))
    }

    @Test func theCanonicalTypePrefixIsTheXCalTypeName() {
        for t in ValueType.allCases { #expect("\(CanonicalForm.typePrefix(t))" == t.rawValue + "=") }
    }

    @Test func componentsCarryTheLineOfTheirBeginWhichEqualityIgnores() throws {
        let doc = try ICalParser().parse(
            ics([
                "BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:a", "BEGIN:VALARM", "ACTION:DISPLAY", "END:VALARM",
                "END:VEVENT", "END:VCALENDAR",
            ]))
        let event = doc.calendars[0].components[0]
        #expect(doc.calendars[0].line == 1 && event.line == 2 && event.components[0].line == 4)
        var moved = event
        moved.line = 40
        #expect(moved == event && moved.hashValue == event.hashValue)
    }
}

@Suite struct CanonicalFormTests {
    let base = [
        "BEGIN:VEVENT", "UID:u", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20260105T090000",
        "SUMMARY:Match", "CATEGORIES:A,B", "ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@x.org",
        "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=TU,MO", "DURATION:P1W", "END:VEVENT",
    ]

    @Test(arguments: [
        // property order
        [
            "BEGIN:VEVENT", "SUMMARY:Match", "UID:u", "DURATION:P1W", "DTSTAMP:20260101T000000Z",
            "DTSTART;TZID=Europe/Berlin:20260105T090000", "RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=TU,MO", "CATEGORIES:A,B",
            "ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@x.org", "END:VEVENT",
        ],
        // folding, parameter order and case, name case, redundant VALUE, equivalent spellings
        [
            "BEGIN:VEVENT", "uid:u", "DTSTAMP:20990101T000000Z",
            "DTSTART;VALUE=DATE-TIME;TZID=Europe/Berlin:20260105T090000",
            "SUMM", " ARY:Match", "CATEGORIES:B", "CATEGORIES:A", "ATTENDEE;partstat=accepted;cn=Ann:MAILTO:ann@x.org",
            "RRULE:BYDAY=MO,TU;FREQ=WEEKLY;WKST=MO", "DURATION:P7D", "END:VEVENT",
        ],
    ])
    func theHashIgnoresSpellingOrderAndSkippedFields(variant: [String]) throws {
        #expect(try hash(variant) == hash(base))
    }

    @Test func severalParameterValuesAreASetOfCanonicalValues() throws {
        func with(_ delegates: String) throws -> String {
            try hash(
                base.map {
                    $0.hasPrefix("ATTENDEE") ? "ATTENDEE;CN=Ann;DELEGATED-TO=\(delegates):mailto:ann@x.org" : $0
                })
        }
        #expect(try with("\"MAILTO:a@x.org\",\"mailto:b@x.org\"") == with("\"mailto:a@x.org\",\"MAILTO:b@x.org\""))
        #expect(try with("\"mailto:b@x.org\",\"MAILTO:a@x.org\"") == with("\"mailto:a@x.org\",\"mailto:b@x.org\""))
        #expect(try with("\"mailto:b@x.org\",\"mailto:a@x.org\"") != with("\"mailto:a@x.org\",\"mailto:c@x.org\""))
    }

    @Test(arguments: [
        ("SUMMARY:Match", "SUMMARY:Match!"),
        ("DTSTART;TZID=Europe/Berlin:20260105T090000", "DTSTART:20260105T090000"),
        ("DTSTART;TZID=Europe/Berlin:20260105T090000", "DTSTART;TZID=Europe/Berlin:20260105T090000Z"),
        ("ATTENDEE;CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@x.org", "ATTENDEE;CN=ann;PARTSTAT=ACCEPTED:mailto:ann@x.org"),
        ("DURATION:P1W", "DURATION:PT168H"),
        ("CATEGORIES:A,B", "CATEGORIES:A,C"),
    ])
    func theHashChangesWithMeaning(from: String, to: String) throws {
        let changed = base.map { $0 == from ? to : $0 }
        #expect(try hash(changed) != hash(base))
    }

    @Test func theSkipListLeavesFieldsOutAtEveryLevel() throws {
        let withAlarm =
            base.dropLast() + [
                "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "X-WR-ALARMUID:1", "END:VALARM", "END:VEVENT",
            ]
        let otherAlarmUID =
            base.dropLast() + [
                "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "X-WR-ALARMUID:2", "END:VALARM", "END:VEVENT",
            ]
        let skip = SkipList.defaults.merging(SkipList(properties: ["X-WR-*"]))
        #expect(try hash(Array(withAlarm), skip: skip) == hash(Array(otherAlarmUID), skip: skip))
        #expect(try hash(Array(withAlarm)) != hash(Array(otherAlarmUID)))
        #expect(
            try hash(Array(withAlarm), skip: SkipList.defaults.merging(SkipList(components: ["VALARM"]))) == hash(base))
        let noPartstat = base.map { $0.hasPrefix("ATTENDEE") ? "ATTENDEE;CN=Ann:mailto:ann@x.org" : $0 }
        #expect(
            try hash(noPartstat, skip: SkipList.defaults.merging(SkipList(parameters: ["PARTSTAT"])))
                == hash(base, skip: SkipList.defaults.merging(SkipList(parameters: ["PARTSTAT"]))))
    }

    @Test func theHashIsStableAcrossProcesses() throws {
        // A fixed input has a fixed digest: computed once and pinned, so any change to the
        // canonical form (which would re-sync every item of every feed) fails here first.
        let item = ICalItem(
            key: "k", uid: "k",
            components: [
                ICalComponent(
                    name: "VEVENT", properties: [ICalProperty("UID", .text("k")), ICalProperty("SUMMARY", .text("S"))])
            ])
        #expect(
            String(decoding: CanonicalForm.bytes(of: item), as: UTF8.self)
                == "BEGIN:VEVENT\nSUMMARY:text=S\nUID:text=k\nEND:VEVENT\n")
        #expect(CanonicalForm.hash(of: item) == "47606c673ec88d921a364ce9ded28772a0c875310433b0abcc97d39d4c1c746e")
    }

    @Test func namePatternsMatchGlobs() {
        #expect(NamePattern("X-MS-*").matches("X-MS-OLK-FORCEINSPECTOROPEN"))
        #expect(!NamePattern("X-MS-*").matches("X-MICROSOFT-CDO"))
        #expect(NamePattern("*-STAMP").matches("X-LAST-STAMP"))
        #expect(NamePattern("x-*-id").matches("X-ABC-ID"))
        #expect(!NamePattern("X-*-ID").matches("X-ID"))
        #expect(NamePattern("dtstamp").matches("DTSTAMP"))
    }
}
