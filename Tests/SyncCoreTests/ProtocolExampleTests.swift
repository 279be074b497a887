import CalendarModel
import CalWS
import Foundation
import SyncCore
import Testing

/// The example messages of Sources/CalWS/PROTOCOL.md: each file is decoded and compared with the
/// message built here, and the message encoded again must give the file byte for byte.
/// `OUTBOARD_WRITE_EXAMPLES=1 swift test --filter ProtocolExample` rewrites the files.
enum ProtocolExamples {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/CalWS/Examples")

    static func cal(_ lines: [String]) -> ICalComponent {
        let text =
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Outboard//EN"] + lines + ["END:VCALENDAR"]).joined(
                separator: "\r\n") + "\r\n"
        return try! ICalParser().parse(text).calendars[0]
    }

    static let holiday = cal([
        "BEGIN:VEVENT", "UID:new-year-2027@holidays.example", "DTSTAMP:20261101T000000Z",
        "DTSTART;VALUE=DATE:20270101", "SUMMARY:New Year's Day", "TRANSP:TRANSPARENT", "END:VEVENT",
    ])
    static let holidayRenamed = cal([
        "BEGIN:VEVENT", "UID:new-year-2027@holidays.example", "DTSTAMP:20261101T000000Z",
        "DTSTART;VALUE=DATE:20270101", "SUMMARY:Neujahr", "TRANSP:TRANSPARENT", "CATEGORIES:Holiday", "END:VEVENT",
    ])
    static let href = "/public/holidays/new-year-2027@holidays.example.ics"
    static func jan(_ day: Int) -> ICalDateTime {
        ICalDateTime(year: 2027, month: 1, day: day, hour: 0, minute: 0, second: 0, isUTC: true)
    }
    static var update: ComponentUpdate {
        let items = [holidayRenamed, holiday].map { ItemGrouper.items(from: ICalDocument(calendars: [$0])).items[0] }
        return Differ.diff(source: items[0], target: items[1])
    }

    enum Message {
        case request(CalWSRequest)
        case response(CalWSResponse)
        case fault(String, String)
    }

    static let all: [(String, Message)] = [
        ("getProperties.request", .request(CalWSRequest(id: 1, .getProperties(href: "/public/holidays")))),
        (
            "getProperties.response",
            .response(
                CalWSResponse(
                    id: 1,
                    .getProperties(
                        CollectionProperties(
                            href: "/public/holidays", displayName: "holidays", timezone: "Europe/Berlin"))))
        ),
        (
            "calendarQuery-list.request",
            .request(CalWSRequest(id: 2, .calendarQuery(CalendarQuery(href: "/public/holidays"))))
        ),
        (
            "calendarQuery-list.response",
            .response(
                CalWSResponse(
                    id: 2,
                    .calendarQuery([
                        EntityInfo(
                            href: href, changeToken: "r7",
                            calendar: ICalComponent(
                                name: "VCALENDAR",
                                components: [
                                    ICalComponent(
                                        name: "VEVENT",
                                        properties: [
                                            ICalProperty("UID", .text("new-year-2027@holidays.example")),
                                            ICalProperty(
                                                "LAST-MODIFIED",
                                                .dateTime(
                                                    .init(
                                                        year: 2026, month: 11, day: 21, hour: 9, minute: 0, second: 0,
                                                        isUTC: true))),
                                        ])
                                ]))
                    ])))
        ),
        (
            "calendarQuery-uid.request",
            .request(
                CalWSRequest(
                    id: 3,
                    .calendarQuery(
                        CalendarQuery(
                            href: "/public/holidays", filter: .uid("new-year-2027@holidays.example"), allData: true))))
        ),
        (
            "calendarQuery-timerange.request",
            .request(
                CalWSRequest(
                    id: 4,
                    .calendarQuery(
                        CalendarQuery(
                            href: "/public/holidays",
                            filter: .timeRange(
                                start: .init(year: 2027, month: 1, day: 1, hour: 0, minute: 0, second: 0, isUTC: true),
                                end: .init(year: 2027, month: 2, day: 1, hour: 0, minute: 0, second: 0, isUTC: true)),
                            allData: true))))
        ),
        (
            "calendarMultiget.request",
            .request(CalWSRequest(id: 5, .calendarMultiget(href: "/public/holidays", hrefs: [href], allData: true)))
        ),
        (
            "calendarMultiget.response",
            .response(
                CalWSResponse(id: 5, .calendarQuery([EntityInfo(href: href, changeToken: "r7", calendar: holiday)])))
        ),
        ("fetchItem.request", .request(CalWSRequest(id: 6, .fetchItem(href: href)))),
        (
            "fetchItem.response",
            .response(CalWSResponse(id: 6, .fetchItem(EntityInfo(href: href, changeToken: "r7", calendar: holiday))))
        ),
        ("addItem.request", .request(CalWSRequest(id: 7, .addItem(href: "/public/holidays", calendar: holiday)))),
        ("addItem.response", .response(CalWSResponse(id: 7, .addItem(href: href, changeToken: "r7")))),
        (
            "addItem-uidConflict.response",
            .response(
                CalWSResponse(
                    id: 7,
                    result: .failure(
                        .uidConflict(href: href), "UID new-year-2027@holidays.example is already in /public/holidays"),
                    .addItem(href: nil, changeToken: nil)))
        ),
        (
            "updateItem.request",
            .request(CalWSRequest(id: 8, .updateItem(href: href, changeToken: "r7", update: update)))
        ),
        ("updateItem.response", .response(CalWSResponse(id: 8, .updateItem(changeToken: "r8")))),
        (
            "updateItem-mismatchedChangeToken.response",
            .response(
                CalWSResponse(
                    id: 8,
                    result: .failure(.mismatchedChangeToken, "\(href) has changed: its change token is no longer r7"),
                    .updateItem(changeToken: nil)))
        ),
        ("deleteItem.request", .request(CalWSRequest(id: 9, .deleteItem(href: href)))),
        ("deleteItem.response", .response(CalWSResponse(id: 9, .deleteItem))),
        (
            "deleteItem-staleWriter.request",
            .request(CalWSRequest(id: 9, .deleteItem(href: href), pass: PassStamp(writer: "3f9a27c1", number: 41)))
        ),
        (
            "deleteItem-staleWriter.response",
            .response(
                CalWSResponse(
                    id: 9,
                    result: .failure(
                        .staleWriter,
                        "pass 41 of /public/holidays's writer is older than pass 42, which has since read or written it: nothing was applied"
                    ), .deleteItem))
        ),
        (
            "multiOp.request",
            .request(
                CalWSRequest(
                    id: 10,
                    .multiOp([
                        CalWSRequest(id: 1, .addItem(href: "/public/holidays", calendar: holiday)),
                        CalWSRequest(id: 2, .deleteItem(href: "/public/holidays/old@holidays.example.ics")),
                    ])))
        ),
        (
            "multiOp.response",
            .response(
                CalWSResponse(
                    id: 10,
                    .multiOp([
                        CalWSResponse(id: 1, .addItem(href: href, changeToken: "r8")),
                        CalWSResponse(id: 2, .deleteItem),
                    ])))
        ),
        (
            "calendarQuery-expand.request",
            .request(
                CalWSRequest(
                    id: 11,
                    .calendarQuery(
                        CalendarQuery(
                            href: "/sport/fixtures",
                            filter: .timeRange(start: jan(5), end: jan(12)), allData: true,
                            expand: UTCRange(start: jan(5), end: jan(12))))))
        ),
        (
            "calendarQuery-expand.response",
            .response(
                CalWSResponse(
                    id: 11,
                    .calendarQuery([
                        EntityInfo(
                            href: "/sport/fixtures/training@club.example.ics", changeToken: "r12",
                            calendar: cal([
                                "BEGIN:VEVENT", "UID:training@club.example", "DTSTART:20270106T170000Z",
                                "DTEND:20270106T183000Z", "RECURRENCE-ID:20270106T170000Z", "DTSTAMP:20261101T000000Z",
                                "SUMMARY:Training", "END:VEVENT", "BEGIN:VEVENT", "UID:training@club.example",
                                "DTSTART:20270108T180000Z", "DTEND:20270108T193000Z",
                                "RECURRENCE-ID:20270108T170000Z", "DTSTAMP:20261101T000000Z",
                                "SUMMARY:Training (late)", "END:VEVENT",
                            ]))
                    ])))
        ),
        (
            "freebusyReport.request",
            .request(
                CalWSRequest(
                    id: 12, .freebusyReport(href: "/sport/fixtures", range: UTCRange(start: jan(5), end: jan(12)))))
        ),
        (
            "freebusyReport.response",
            .response(
                CalWSResponse(
                    id: 12,
                    .freebusyReport(
                        cal([
                            "BEGIN:VFREEBUSY", "UID:freebusy-1799107200-1799712000/sport/fixtures",
                            "DTSTAMP:20261130T120000Z", "DTSTART:20270105T000000Z", "DTEND:20270112T000000Z",
                            "FREEBUSY;FBTYPE=BUSY:20270106T170000Z/20270106T183000Z,20270108T180000Z/20270108T193000Z",
                            "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270110T090000Z/20270110T120000Z", "END:VFREEBUSY",
                        ]))))
        ),
        (
            "reportFreshness.request",
            .request(
                CalWSRequest(
                    id: 13,
                    .reportFreshness(
                        CollectionFreshness(
                            href: "/public/holidays", subscription: "holidays", refreshInterval: 3600,
                            lastSuccess: .init(
                                year: 2026, month: 11, day: 30, hour: 9, minute: 0, second: 2, isUTC: true),
                            lastAttempt: .init(
                                year: 2026, month: 11, day: 30, hour: 10, minute: 0, second: 1, isUTC: true),
                            lastError: "the feed answered HTTP 503 (https://holidays.example/feed.ics)",
                            timezone: "Europe/Berlin"))))
        ),
        ("reportFreshness.response", .response(CalWSResponse(id: 13, .reportFreshness))),
        (
            "fault.response",
            .fault("Client", "the request cannot be read: line 1: malformed XML: Start tag expected, '<' not found")
        ),
    ]
}

@Suite struct ProtocolExampleTests {
    @Test(arguments: ProtocolExamples.all.map(\.0))
    func everyExampleDecodesAndEncodesToItself(name: String) throws {
        let message = ProtocolExamples.all.first { $0.0 == name }!.1
        let encoded: [UInt8]
        switch message {
        case .request(let r): encoded = MessageCodec.encode(r, indent: true)
        case .response(let r): encoded = MessageCodec.encode(r, indent: true)
        case .fault(let code, let text): encoded = MessageCodec.fault(code: code, text, indent: true)
        }
        let file = ProtocolExamples.directory.appendingPathComponent(name + ".xml")
        if ProcessInfo.processInfo.environment["OUTBOARD_WRITE_EXAMPLES"] == "1" {
            try Data(encoded).write(to: file)
        }
        let bytes = Array(try Data(contentsOf: file))
        #expect(bytes == encoded, "\(name).xml differs from what the codec writes")
        switch message {
        case .request(let r): #expect(try MessageCodec.decodeRequest(bytes) == r)
        case .response(let r): #expect(try MessageCodec.decodeResponse(bytes) == r)
        case .fault(let code, let text):
            guard case .fault(let c, let t) = try MessageCodec.payload(bytes) else {
                Issue.record("not a fault")
                return
            }
            #expect((c, t) == ("S:" + code, text))
        }
    }
}

@Suite struct ErrorElementTests {
    static let kinds: [CalWSErrorKind] = [
        .forbidden, .targetExists, .targetDoesNotExist, .targetNotEntity, .notCalendarData, .invalidCalendarData,
        .invalidCalendarObjectResource, .unsupportedCalendarComponent, .invalidCalendarCollectionLocation,
        .exceedsMaxResourceSize, .beforeMinDateTime, .afterMaxDateTime, .tooManyInstances, .tooManyAttendeesPerInstance,
        .partialSuccess, .missingChangeToken, .mismatchedChangeToken, .invalidFilter(detail: "textMatch on DTSTART"),
        .uidConflict(href: "/c/x.ics"), .staleWriter,
    ]

    @Test(arguments: kinds)
    func everyErrorElementEncodesAndDecodes(kind: CalWSErrorKind) throws {
        let r = CalWSResponse(id: 3, result: .failure(kind, "why"), .deleteItem)
        let bytes = MessageCodec.encode(r)
        let prefix = kind.namespace == CalWSNamespace.uri ? "C" : "O"
        #expect(String(decoding: bytes, as: UTF8.self).contains("<\(prefix):\(kind.elementName)"))
        #expect(try MessageCodec.decodeResponse(bytes) == r)
    }
}
