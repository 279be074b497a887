import CalendarModel
import CalWS
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import TargetServer
import SyncCore
import Testing
import TestSupport

/// Views, busy-only feeds and access levels, in process on the same `buildTargetApplication`
/// the executable runs: every level against every endpoint, and nothing of an event's detail in
/// any refusal or busy-only answer.
@Suite struct ViewsAndAccessTests {
    /// 2026-12-01T00:00:00Z: busy-only feeds expand around this day.
    static let now = Date(timeIntervalSince1970: 1_796_083_200)

    static let tokens = TokenTable(entries: [
        "admin": Grants(all: true),
        "reader": Grants([.init("/people/alice", .read)]),
        "freebusy": Grants([.init("/people/alice", .freebusy)]),
        // FreeBusyWrite: writes its own collection, sees only free/busy of every other one.
        "fbw": Grants([.init("/people/carol"), .init("*", .freebusy)]),
        "team": Grants([.init("views/team", .freebusy)]),
        "everyone": Grants([.init("views/everyone", .read)]),
    ])

    static let views = ViewSet([
        View(name: "team", collections: ["/people/alice", "/people/bob"], detail: .busy),
        View(name: "everyone", collections: ["/people/alice", "/people/bob"], detail: .full),
    ])

    static func app(directory: URL = TargetProcess.temporaryDirectory()) throws -> some ApplicationProtocol {
        let config = TargetConfiguration(
            dataDirectory: directory.path, port: 0, tokens: tokens, views: views, refreshInterval: 1800,
            now: { now })
        return try buildTargetApplication(config, logger: Logger(label: "test"))
    }

    /// Text of the stored events that no busy-only answer and no refusal may show, by collection.
    static let secretsOf = [
        "/people/alice": [
            "Merger talks", "Boardroom", "ceo@corp.example", "Bring the numbers", "Confidential", "X-SECRET",
            "alice-1@corp", "alice-2@corp", "ORGANIZER", "VALARM",
        ],
        "/people/bob": ["bob-1@corp", "Dentist"],
    ]
    static let secrets = secretsOf.values.flatMap { $0 }

    static let berlin = [
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
        "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200", "END:DAYLIGHT", "END:VTIMEZONE",
    ]

    /// Alice: a detailed busy meeting and a tentative weekly series of three (Berlin time); Bob:
    /// a busy appointment and a cancelled one.
    static let stored: [(collection: String, lines: [String])] = [
        (
            "/people/alice",
            [
                "UID:alice-1@corp", "DTSTART:20261207T100000Z", "DTEND:20261207T110000Z", "SUMMARY:Merger talks",
                "LOCATION:Boardroom", "ATTENDEE;CN=CEO:mailto:ceo@corp.example",
                "ORGANIZER:mailto:ceo@corp.example", "DESCRIPTION:Bring the numbers", "CATEGORIES:Confidential",
                "X-SECRET:yes", "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Merger talks", "TRIGGER:-PT15M",
                "END:VALARM",
            ]
        ),
        (
            "/people/alice",
            [
                "UID:alice-2@corp", "DTSTART;TZID=Europe/Berlin:20261208T090000",
                "DTEND;TZID=Europe/Berlin:20261208T093000", "RRULE:FREQ=WEEKLY;COUNT=3", "STATUS:TENTATIVE",
                "SUMMARY:Merger talks prep",
            ]
        ),
        ("/people/bob", ["UID:bob-1@corp", "DTSTART:20261207T130000Z", "DTEND:20261207T140000Z", "SUMMARY:Dentist"]),
        (
            "/people/bob",
            [
                "UID:bob-2@corp", "DTSTART;TZID=Europe/Berlin:20261209T150000",
                "DTEND;TZID=Europe/Berlin:20261209T160000", "STATUS:CANCELLED", "SUMMARY:Dentist again",
            ]
        ),
    ]

    static func entity(_ lines: [String]) throws -> ICalComponent {
        let zone = lines.contains { $0.contains("TZID=Europe/Berlin") } ? berlin : []
        let text =
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + zone + [
                "BEGIN:VEVENT", "DTSTAMP:20260101T000000Z",
            ]
            + lines + ["END:VEVENT", "END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
        return try ICalParser().parse(text).calendars[0]
    }

    static func soap(_ body: CalWSRequest.Body) -> ByteBuffer {
        ByteBuffer(bytes: MessageCodec.encode(CalWSRequest(body)))
    }

    static func seeded(_ client: some TestClientProtocol) async throws {
        for (collection, lines) in stored {
            try await client.execute(
                uri: "/calws", method: .post, headers: [.authorization: "Bearer admin"],
                body: soap(.addItem(href: collection, calendar: try entity(lines)))
            ) { r in
                #expect(r.status == .ok)
                #expect(!String(buffer: r.body).contains("errorResponse"), "\(String(buffer: r.body))")
            }
        }
    }

    static func availability(_ member: String) -> ByteBuffer {
        ByteBuffer(
            string: """
                {"participants": [{"members": ["\(member)"]}], "response_format": "busy",
                 "query_periods": [{"start": "2026-12-07T00:00:00Z", "end": "2026-12-14T00:00:00Z"}]}
                """)
    }

    /// One request of the matrix: what it is, how to send it, and the collections whose detail a
    /// successful answer may show (none for busy-only answers, availability, properties, writes).
    struct Call: CustomStringConvertible {
        var description: String
        var method: HTTPRequest.Method
        var uri: String
        var body: ByteBuffer?
        var shows: [String] = []

        func showing(_ collections: String...) -> Call {
            var c = self
            c.shows = collections
            return c
        }

        static func get(_ uri: String) -> Call { Call(description: "GET \(uri)", method: .get, uri: uri) }
        static func calws(_ name: String, _ body: CalWSRequest.Body) -> Call {
            Call(description: "CalWS \(name)", method: .post, uri: "/calws", body: ViewsAndAccessTests.soap(body))
        }
        static func availability(_ member: String) -> Call {
            Call(
                description: "availability of \(member)", method: .post, uri: "/availability",
                body: ViewsAndAccessTests.availability(member))
        }
    }

    /// Every endpoint and CalWS operation, and for each token the answer: 200 (or CalWS success),
    /// `granted` (past the access check, refused by CalWS for another reason), or 403 naming the
    /// level that would allow it ("" when the token holds nothing there at all).
    static func matrix() throws -> [(Call, [String: String])] {
        let calendarQuery = CalWSRequest.Body.calendarQuery(CalendarQuery(href: "/people/alice", allData: true))
        let multiget = CalWSRequest.Body.calendarMultiget(
            href: "/people/alice", hrefs: ["/people/alice/alice-1@corp.ics"], allData: true)
        let add = CalWSRequest.Body.addItem(
            href: "/people/alice", calendar: try entity(["UID:new@x", "DTSTART:20261210T100000Z"]))
        let week = UTCRange(
            start: ICalDateTime(year: 2026, month: 12, day: 7, hour: 0, minute: 0, second: 0, isUTC: true),
            end: ICalDateTime(year: 2026, month: 12, day: 14, hour: 0, minute: 0, second: 0, isUTC: true))
        let ok = "ok"
        let granted = "granted"
        let everyone = ["admin": ok, "reader": ok, "freebusy": ok, "fbw": ok, "team": ok, "everyone": ok]
        func writers(_ admin: String) -> [String: String] {
            ["admin": admin, "reader": "write", "freebusy": "write", "fbw": "write", "team": "", "everyone": ""]
        }
        let freshness = CollectionFreshness(href: "/people/alice", subscription: "a", refreshInterval: 60)
        let stale = CalWSRequest.Body.updateItem(
            href: "/people/alice/alice-1@corp.ics", changeToken: "r0",
            update: ComponentUpdate(selector: ComponentSelector(name: "VCALENDAR")))
        return [
            (.get("/health"), everyone),
            (.get("/metrics"), everyone),
            (.calws("getProperties of /", .getProperties(href: "/")), everyone),
            (
                .get("/calendars/people/alice.ics").showing("/people/alice"),
                ["admin": ok, "reader": ok, "freebusy": "read", "fbw": "read", "team": "", "everyone": ""]
            ),
            (
                .get("/calendars/people/bob.ics").showing("/people/bob"),
                ["admin": ok, "reader": "", "freebusy": "", "fbw": "read", "team": "", "everyone": ""]
            ),
            (
                .get("/calendars/people/alice.ics?view=busy"),
                ["admin": ok, "reader": ok, "freebusy": ok, "fbw": ok, "team": "", "everyone": ""]
            ),
            (
                .get("/views/team.ics"),
                ["admin": ok, "reader": "", "freebusy": "", "fbw": ok, "team": ok, "everyone": ""]
            ),
            (
                .get("/views/everyone.ics").showing("/people/alice", "/people/bob"),
                ["admin": ok, "reader": "", "freebusy": "", "fbw": "read", "team": "", "everyone": ok]
            ),
            (
                .get("/views/everyone.ics?view=busy"),
                ["admin": ok, "reader": "", "freebusy": "", "fbw": ok, "team": "", "everyone": ok]
            ),
            (
                .availability("/people/alice"),
                ["admin": ok, "reader": ok, "freebusy": ok, "fbw": ok, "team": "", "everyone": ""]
            ),
            (
                .availability("views/team"),
                ["admin": ok, "reader": "", "freebusy": "", "fbw": ok, "team": ok, "everyone": ""]
            ),
            (
                .calws("getProperties", .getProperties(href: "/people/alice")),
                ["admin": ok, "reader": ok, "freebusy": ok, "fbw": ok, "team": "", "everyone": ""]
            ),
            (
                .calws("calendarQuery", calendarQuery).showing("/people/alice"),
                ["admin": ok, "reader": ok, "freebusy": "read", "fbw": "read", "team": "", "everyone": ""]
            ),
            (
                .calws("calendarMultiget", multiget).showing("/people/alice"),
                ["admin": ok, "reader": ok, "freebusy": "read", "fbw": "read", "team": "", "everyone": ""]
            ),
            (
                .calws("fetchItem", .fetchItem(href: "/people/alice/alice-1@corp.ics")).showing("/people/alice"),
                ["admin": ok, "reader": ok, "freebusy": "read", "fbw": "read", "team": "", "everyone": ""]
            ),
            (
                .calws("freebusyReport", .freebusyReport(href: "/people/alice", range: week)),
                ["admin": ok, "reader": ok, "freebusy": ok, "fbw": ok, "team": "", "everyone": ""]
            ),
            (
                .calws("freebusyReport of a view", .freebusyReport(href: "/views/team", range: week)),
                ["admin": ok, "reader": "", "freebusy": "", "fbw": ok, "team": ok, "everyone": ""]
            ),
            // A refusal past the access check names the entity the caller named.
            (.calws("updateItem with an old change token", stale).showing("/people/alice"), writers(granted)),
            (.calws("deleteItem of what is not there", .deleteItem(href: "/people/alice/none.ics")), writers(granted)),
            (.calws("reportFreshness", .reportFreshness(freshness)), writers(ok)),
            (.calws("multiOp", .multiOp([CalWSRequest(add)])), writers(ok)),
            // The UID is there now: past the access check, addItem meets the uidConflict.
            (.calws("addItem", add), writers(granted)),
        ]
    }

    @Test func everyAccessLevelAgainstEveryEndpointAndNothingLeaks() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            for (call, answers) in try Self.matrix() {
                for (token, expected) in answers.sorted(by: { $0.key < $1.key }) {
                    let what = "\(token): \(call)"
                    try await client.execute(
                        uri: call.uri, method: call.method, headers: [.authorization: "Bearer \(token)"],
                        body: call.body
                    ) { r in
                        let body = String(buffer: r.body)
                        if expected == "ok" || expected == "granted" {
                            #expect(r.status == .ok, "\(what): \(body)")
                            #expect(body.contains("errorResponse") == (expected == "granted"), "\(what): \(body)")
                            #expect(!body.contains("forbidden"), "\(what): \(body)")
                            // A successful answer shows the detail of what it reads at read level,
                            // and nothing of any other collection; a busy-only one, none at all.
                            let allowed = Set(call.shows.flatMap { Self.secretsOf[$0] ?? [] })
                            for secret in Self.secrets where !allowed.contains(secret) {
                                #expect(!body.contains(secret), "\(what) shows \(secret): \(body)")
                            }
                            return
                        }
                        #expect(r.status == .forbidden, "\(what): \(body)")
                        if expected.isEmpty {
                            #expect(body.contains("this token is not granted"), "\(what): \(body)")
                        } else {
                            #expect(body.contains("needs level \(expected)"), "\(what): \(body)")
                        }
                        for secret in Self.secrets {
                            #expect(!body.contains(secret), "\(what) shows \(secret): \(body)")
                        }
                    }
                }
            }
            // Only admin's addItem wrote: Alice has her two entities and that one.
            try await client.execute(
                uri: "/calws", method: .post, headers: [.authorization: "Bearer admin"],
                body: Self.soap(.calendarQuery(CalendarQuery(href: "/people/alice")))
            ) { r in
                let body = String(buffer: r.body)
                #expect(body.components(separatedBy: "<C:href>").count - 1 == 3, "\(body)")
            }
        }
    }

    /// The VEVENTs of a feed, each as its lines by property name (a sub-component shows as BEGIN).
    static func events(_ body: String) -> [[String: String]] {
        var out: [[String: String]] = []
        var current: [String: String]?
        for line in body.components(separatedBy: "\r\n") {
            if line == "BEGIN:VEVENT" {
                current = [:]
            } else if line == "END:VEVENT", let c = current {
                out.append(c)
                current = nil
            } else if current != nil {
                current?[String(line.prefix { $0 != ":" && $0 != ";" })] = line
            }
        }
        return out
    }

    @Test func aBusyOnlyFeedShowsTimesAndNothingElse() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let feed = try await client.execute(
                uri: "/calendars/people/alice.ics?view=busy", method: .get, headers: [.authorization: "Bearer freebusy"]
            ) { r in
                #expect(r.status == .ok)
                return String(buffer: r.body)
            }
            for secret in Self.secrets { #expect(!feed.contains(secret), "the busy feed shows \(secret)") }
            #expect(feed.contains("REFRESH-INTERVAL;VALUE=DURATION:PT30M\r\n"))
            #expect(feed.contains("X-PUBLISHED-TTL:PT30M\r\n"))
            #expect(!feed.contains("VTIMEZONE"))
            let events = Self.events(feed)
            // The meeting, then the tentative series expanded (09:00 Berlin is 08:00 UTC).
            #expect(
                events.map { [$0["DTSTART"] ?? "", $0["DTEND"] ?? "", $0["SUMMARY"] ?? ""].joined(separator: " ") } == [
                    "DTSTART:20261207T100000Z DTEND:20261207T110000Z SUMMARY:Busy",
                    "DTSTART:20261208T080000Z DTEND:20261208T083000Z SUMMARY:Tentative",
                    "DTSTART:20261215T080000Z DTEND:20261215T083000Z SUMMARY:Tentative",
                    "DTSTART:20261222T080000Z DTEND:20261222T083000Z SUMMARY:Tentative",
                ])
            for e in events {
                #expect(Set(e.keys) == ["UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"])
                #expect(e["UID"]?.hasSuffix("@busy.outboard") == true)
                #expect(e["DTSTAMP"] == "DTSTAMP:20261201T000000Z")
            }
            #expect(Set(events.compactMap { $0["UID"] }).count == 4, "one UID per instance")
            // The same instances keep their UIDs when another entity is added.
            try await client.execute(
                uri: "/calws", method: .post, headers: [.authorization: "Bearer admin"],
                body: Self.soap(
                    .addItem(
                        href: "/people/alice",
                        calendar: try Self.entity([
                            "UID:alice-3@corp", "DTSTART:20261201T100000Z", "DTEND:20261201T103000Z",
                        ])))
            ) { #expect($0.status == .ok) }
            let again = try await client.execute(
                uri: "/calendars/people/alice.ics?view=busy", method: .get, headers: [.authorization: "Bearer admin"]
            ) { Self.events(String(buffer: $0.body)) }
            #expect(again.count == 5)
            #expect(Set(events.compactMap { $0["UID"] }).isSubset(of: Set(again.compactMap { $0["UID"] })))
        }
    }

    /// Busy UIDs are hashed with a key the store made for itself: the same on every restart of
    /// one server, different on another, and not the plain hash of what someone could guess.
    @Test func busyOnlyUIDsAreKeyedByTheServerThatServesThem() async throws {
        func uids(_ directory: URL, seed: Bool) async throws -> [String] {
            try await Self.app(directory: directory).test(.router) { client in
                if seed { try await Self.seeded(client) }
                return try await client.execute(
                    uri: "/calendars/people/alice.ics?view=busy", method: .get,
                    headers: [.authorization: "Bearer freebusy"]
                ) { Self.events(String(buffer: $0.body)).compactMap { $0["UID"] } }
            }
        }
        let one = TargetProcess.temporaryDirectory()
        let first = try await uids(one, seed: true)
        #expect(first.count == 4)
        #expect(try await uids(one, seed: false) == first, "the same server, restarted, keeps its UIDs")
        let other = try await uids(TargetProcess.temporaryDirectory(), seed: true)
        #expect(other.count == 4 && Set(other).isDisjoint(with: first), "another server's UIDs are its own")
        // The meeting (alice-1@corp at 2026-12-07T10:00:00Z): its UID is the keyed hash, and the
        // hash without the key, which anyone could compute from a guessed UID, is not served.
        let key = try TargetStore(directory: one.path).busyKey
        #expect(key.count == 64)
        let start: Int64 = 1_796_637_600
        func served(_ key: String) -> String {
            "UID:" + BusyFeed.uid(key: key, collection: "/people/alice", uid: "alice-1@corp", recurrenceID: start)
        }
        #expect(first.contains(served(key)))
        #expect(!first.contains(served("")))
    }

    @Test func aBusyViewIsTheUnionOfItsCollectionsWithoutDetail() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let feed = try await client.execute(
                uri: "/views/team.ics", method: .get, headers: [.authorization: "Bearer team"]
            ) { r in
                #expect(r.status == .ok)
                return String(buffer: r.body)
            }
            for secret in Self.secrets { #expect(!feed.contains(secret), "the busy view shows \(secret)") }
            #expect(feed.contains("X-WR-CALNAME:team\r\n"))
            // Alice's meeting and series, Bob's dentist (his cancelled one is free), by start.
            #expect(
                Self.events(feed).compactMap { $0["SUMMARY"] } == [
                    "SUMMARY:Busy", "SUMMARY:Busy", "SUMMARY:Tentative", "SUMMARY:Tentative", "SUMMARY:Tentative",
                ])
            // A busy view is busy-only even when asked for in full.
            try await client.execute(
                uri: "/views/team.ics?view=full", method: .get, headers: [.authorization: "Bearer team"]
            ) { r in
                #expect(r.status == .ok)
                #expect(!String(buffer: r.body).contains("Dentist"))
            }
            try await client.execute(
                uri: "/views/team.ics?view=bogus", method: .get, headers: [.authorization: "Bearer team"]
            ) { r in
                #expect(r.status == .badRequest)
                #expect(String(buffer: r.body) == "view=bogus is not a feed form: use view=busy (or none)\n")
            }
            try await client.execute(uri: "/views/nope.ics", method: .get, headers: [.authorization: "Bearer admin"]) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test func aFullViewHasOneCalendarWithEachZoneOnceAndAnETagFromItsCollections() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let (etag, feed) = try await client.execute(
                uri: "/views/everyone.ics", method: .get, headers: [.authorization: "Bearer everyone"]
            ) { r in
                #expect(r.status == .ok)
                return (try #require(r.headers[.eTag]), String(buffer: r.body))
            }
            #expect(feed.components(separatedBy: "BEGIN:VCALENDAR").count - 1 == 1)
            #expect(feed.components(separatedBy: "BEGIN:VTIMEZONE").count - 1 == 1, "Berlin once, for both")
            for uid in ["alice-1@corp", "alice-2@corp", "bob-1@corp", "bob-2@corp"] {
                #expect(feed.contains("UID:\(uid)\r\n"))
            }
            #expect(feed.contains("REFRESH-INTERVAL;VALUE=DURATION:PT30M\r\n"))
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
            try await client.execute(
                uri: "/views/everyone.ics", method: .get,
                headers: [.authorization: "Bearer everyone", .ifNoneMatch: etag]
            ) { r in
                #expect(r.status == .notModified)
                #expect(r.body.readableBytes == 0)
                #expect(r.headers[.eTag] == etag)
            }
            // A write to one member changes the view's ETag; one to another collection does not.
            try await client.execute(
                uri: "/calws", method: .post, headers: [.authorization: "Bearer fbw"],
                body: Self.soap(
                    .addItem(href: "/people/carol", calendar: try Self.entity(["UID:c@x", "DTSTART:20261207T100000Z"])))
            ) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/views/everyone.ics", method: .get,
                headers: [.authorization: "Bearer everyone", .ifNoneMatch: etag]
            ) { #expect($0.status == .notModified) }
            try await client.execute(
                uri: "/calws", method: .post, headers: [.authorization: "Bearer admin"],
                body: Self.soap(
                    .addItem(
                        href: "/people/bob", calendar: try Self.entity(["UID:bob-3@corp", "DTSTART:20261207T100000Z"])))
            ) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/views/everyone.ics", method: .get,
                headers: [.authorization: "Bearer everyone", .ifNoneMatch: etag]
            ) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.eTag] != etag)
                #expect(String(buffer: r.body).contains("UID:bob-3@corp"))
            }
        }
    }

    @Test func viewsAreAvailabilityMembers() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            try await client.execute(
                uri: "/availability", method: .post,
                headers: [.authorization: "Bearer team", .contentType: "application/json"],
                body: Self.availability("views/team")
            ) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                let answer = try #require(
                    try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
                let entries = answer["busy"] as? [[String: Any]] ?? []
                // Each entry has these four fields and no other: a field added later (a title, a
                // place) would tell a freebusy token more than when.
                #expect(entries.allSatisfy { Set($0.keys) == ["member", "start", "end", "status"] }, "\(entries)")
                let lines = entries.map {
                    "\($0["member"] ?? "") \($0["start"] ?? "")–\($0["end"] ?? "") \($0["status"] ?? "")"
                }
                #expect(
                    lines == [
                        "views/team 2026-12-07T10:00:00Z–2026-12-07T11:00:00Z busy",
                        "views/team 2026-12-07T13:00:00Z–2026-12-07T14:00:00Z busy",
                        "views/team 2026-12-08T08:00:00Z–2026-12-08T08:30:00Z tentative",
                    ])
            }
            try await client.execute(
                uri: "/availability", method: .post,
                headers: [.authorization: "Bearer admin", .contentType: "application/json"],
                body: Self.availability("views/nope")
            ) { r in
                #expect(r.status == .notFound)
                #expect(String(buffer: r.body).contains("no view nope in the views file"))
            }
        }
    }

    @Test func aFreeBusyWriteTokenWritesItsOwnCollectionAndSeesOnlyFreeBusyOfOthers() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let fbw: HTTPFields = [.authorization: "Bearer fbw"]
            // Its own collection: write, then read back in full.
            try await client.execute(
                uri: "/calws", method: .post, headers: fbw,
                body: Self.soap(
                    .addItem(
                        href: "/people/carol",
                        calendar: try Self.entity(["UID:carol-1@x", "DTSTART:20261207T120000Z", "SUMMARY:Lunch"])))
            ) { r in
                #expect(r.status == .ok)
                #expect(!String(buffer: r.body).contains("errorResponse"))
            }
            try await client.execute(uri: "/calendars/people/carol.ics", method: .get, headers: fbw) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("SUMMARY:Lunch"))
            }
            // Others: free/busy yes, detail no, writes no.
            try await client.execute(
                uri: "/availability", method: .post, headers: fbw, body: Self.availability("/people/alice")
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "/calendars/people/alice.ics?view=busy", method: .get, headers: fbw) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/calendars/people/alice.ics", method: .get, headers: fbw) { r in
                #expect(r.status == .forbidden)
                #expect(
                    String(buffer: r.body)
                        == "this token holds /people/alice at level freebusy, and the full feed needs level read (/people/alice:read in the tokens file); ask for ?view=busy\n"
                )
            }
            try await client.execute(
                uri: "/calws", method: .post, headers: fbw,
                body: Self.soap(.fetchItem(href: "/people/alice/alice-1@corp.ics"))
            ) { r in
                #expect(r.status == .forbidden)
                let body = String(buffer: r.body)
                #expect(body.contains("noAccess") || body.contains("forbidden"))
                #expect(
                    body.contains(
                        "this token holds /people/alice at level freebusy, and fetchItem needs level read (/people/alice:read in the tokens file)"
                    ))
            }
            try await client.execute(
                uri: "/calws", method: .post, headers: fbw,
                body: Self.soap(
                    .addItem(href: "/people/alice", calendar: try Self.entity(["UID:x@x", "DTSTART:20261207T120000Z"])))
            ) { r in
                #expect(r.status == .forbidden)
                #expect(String(buffer: r.body).contains("addItem needs level write (/people/alice in the tokens file)"))
            }
        }
    }

    @Test func aViewHasASecretLinkOfItsOwn() async throws {
        let dir = TargetProcess.temporaryDirectory()
        try await Self.app(directory: dir).test(.router) { client in
            try await Self.seeded(client)
            let key = try TargetStore(directory: dir.path).viewSecret(for: "team")
            try await client.execute(uri: "/views/team.ics?key=\(key)", method: .get) { r in
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("SUMMARY:Tentative"))
            }
            try await client.execute(uri: "/views/everyone.ics?key=\(key)", method: .get) { r in
                #expect(r.status == .forbidden, "another view's key")
                #expect(String(buffer: r.body) == "the key is not this feed's secret link\n")
            }
            try await client.execute(uri: "/views/team.ics", method: .get) { #expect($0.status == .unauthorized) }
            try TargetStore(directory: dir.path).revokeViewSecret(for: "team")
            try await client.execute(uri: "/views/team.ics?key=\(key)", method: .get) {
                #expect($0.status == .forbidden)
            }
        }
    }
}
