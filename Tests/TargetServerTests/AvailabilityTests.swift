import CalendarModel
import CalWS
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import TargetServer
import Testing
import TestSupport

/// `POST /availability` in process, on the same `buildTargetApplication` the executable runs.
@Suite struct AvailabilityTests {
    static func app() throws -> some ApplicationProtocol {
        let tokens = TokenTable(entries: [
            "all": Grants(all: true), "alice": Grants(collections: ["/people/alice", "/people/bob"]),
        ])
        let config = TargetConfiguration(
            dataDirectory: TargetProcess.temporaryDirectory().path, port: 0, tokens: tokens)
        return try buildTargetApplication(config, logger: Logger(label: "test"))
    }

    /// An entity of one VEVENT (UTC times unless the lines say otherwise).
    static func add(_ uid: String, to collection: String, _ lines: [String], calendarLines: [String] = []) throws
        -> ByteBuffer
    {
        let text =
            (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + calendarLines
            + ["BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20260101T000000Z"] + lines + ["END:VEVENT", "END:VCALENDAR"])
            .joined(separator: "\r\n") + "\r\n"
        return ByteBuffer(
            bytes: MessageCodec.encode(
                CalWSRequest(.addItem(href: collection, calendar: try ICalParser().parse(text).calendars[0]))))
    }

    static func event(_ start: String, _ end: String, _ extra: [String] = []) -> [String] {
        ["DTSTART:\(start)", "DTEND:\(end)"] + extra
    }

    /// Alice is busy 10:00–11:00 and tentative 14:00–15:00; Bob busy 09:00–12:00; Carol busy
    /// 13:00–16:00 and at a cancelled 09:00 meeting; Dave has an all-day event on the Tuesday.
    static let calendars: [(String, String, [String])] = [
        ("/people/alice", "a1", event("20261207T100000Z", "20261207T110000Z")),
        ("/people/alice", "a2", event("20261207T140000Z", "20261207T150000Z", ["STATUS:TENTATIVE"])),
        ("/people/bob", "b1", event("20261207T090000Z", "20261207T120000Z")),
        ("/people/carol", "c1", event("20261207T130000Z", "20261207T160000Z")),
        ("/people/carol", "c2", event("20261207T090000Z", "20261207T100000Z", ["STATUS:CANCELLED"])),
        ("/people/dave", "d1", ["DTSTART;VALUE=DATE:20261208"]),
    ]

    static func seeded(_ client: some TestClientProtocol) async throws {
        for (collection, uid, lines) in calendars {
            try await client.execute(
                uri: "/calws", method: .post, headers: [.authorization: "Bearer all"],
                body: try add(uid, to: collection, lines)
            ) {
                #expect($0.status == .ok)
            }
        }
    }

    static func ask(
        _ client: some TestClientProtocol, _ json: String, token: String = "all",
        status: HTTPResponse.Status = .ok
    ) async throws -> [String: Any] {
        try await client.execute(
            uri: "/availability", method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
            body: ByteBuffer(string: json)
        ) { r in
            #expect(r.status == status, "\(String(buffer: r.body))")
            #expect(r.headers[.contentType] == "application/json")
            return try #require(try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any])
        }
    }

    /// `start–end member,member` lines of an answer's list (times shortened to HH:MM).
    static func lines(_ answer: [String: Any], _ key: String) -> [String] {
        let list = answer[key] as? [[String: Any]] ?? []
        return list.map { p in
            let members = (p["participants"] as? [[String: Any]] ?? []).compactMap { $0["member"] as? String }
            return "\(short(p["start"]))–\(short(p["end"])) " + members.joined(separator: ",")
        }
    }

    static func short(_ v: Any?) -> String {
        let s = v as? String ?? "?"
        return s.hasPrefix("2026-12-07T") && s.hasSuffix(":00Z") ? String(s.dropFirst(11).prefix(5)) : s
    }

    static let day = #"[{"start": "2026-12-07T08:00:00Z", "end": "2026-12-07T17:00:00Z"}]"#

    @Test func periodsWithTwoGroupsOneNeedingAllAndOneNeedingOne() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let answer = try await Self.ask(
                client,
                """
                {"participants": [{"members": ["/people/alice"], "required": "all"},
                                  {"members": ["/people/bob", "/people/carol"], "required": 1}],
                 "query_periods": \(Self.day), "required_duration": "PT1H"}
                """)
            // Alice: free 08–10, 11–14 (14–15 is tentative, which counts as busy), 15–17.
            // Bob or Carol: Carol 08–13 (her 09:00 is cancelled), Bob 12–17, both 12–13.
            #expect(
                Self.lines(answer, "available_periods") == [
                    "08:00–10:00 /people/alice,/people/carol",
                    "11:00–13:00 /people/alice,/people/carol",
                    "12:00–14:00 /people/alice,/people/bob",
                    "15:00–17:00 /people/alice,/people/bob",
                ])
            #expect(answer.keys.sorted() == ["available_periods", "sources"])
        }
    }

    @Test func requiredAllIsTheDefaultAndShortPeriodsAreLeftOut() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let answer = try await Self.ask(
                client,
                """
                {"participants": [{"members": ["/people/alice", "/people/bob"]}], "query_periods": \(Self.day), "required_duration": "PT2H"}
                """)
            // Both free 08–09, 12–14 and 15–17.
            #expect(
                Self.lines(answer, "available_periods") == [
                    "12:00–14:00 /people/alice,/people/bob", "15:00–17:00 /people/alice,/people/bob",
                ])
        }
    }

    @Test func buffersKeepFreeTimeBeforeAndAfterEachPeriod() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let answer = try await Self.ask(
                client,
                """
                {"participants": [{"members": ["/people/alice"]}], "query_periods": \(Self.day),
                 "buffer": {"before": "PT15M", "after": "PT30M"}}
                """)
            // Busy 10–11 and 14–15: 30 minutes free after a period, 15 minutes before one.
            #expect(
                Self.lines(answer, "available_periods") == [
                    "08:00–09:30 /people/alice", "11:15–13:30 /people/alice", "15:15–17:00 /people/alice",
                ])
        }
    }

    @Test func slotsStartEveryIntervalFromThePeriodsStart() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let answer = try await Self.ask(
                client,
                """
                {"participants": [{"members": ["/people/alice", "/people/bob"], "required": 1}],
                 "query_periods": [{"start": "2026-12-07T09:00:00Z", "end": "2026-12-07T12:00:00Z"}],
                 "required_duration": "PT1H", "start_interval": "PT30M", "response_format": "slots"}
                """)
            #expect(
                Self.lines(answer, "available_slots") == [
                    "09:00–10:00 /people/alice", "11:00–12:00 /people/alice",
                ])
            #expect(answer["available_periods"] == nil)
        }
    }

    @Test func busyListsEachMembersBusyAndTentativePeriodsClipped() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let answer = try await Self.ask(
                client,
                """
                {"participants": [{"members": ["/people/alice", "/people/bob", "/people/dave"]}],
                 "query_periods": [{"start": "2026-12-07T10:30:00+01:00", "end": "2026-12-08T06:00:00+01:00"}],
                 "response_format": "busy", "zone": "Europe/Berlin"}
                """)
            let entries = answer["busy"] as? [[String: String]] ?? []
            #expect(entries.allSatisfy { Set($0.keys) == ["member", "start", "end", "status"] }, "\(entries)")
            let busy = entries.map {
                "\($0["member"]!) \(Self.short($0["start"]))–\(Self.short($0["end"])) \($0["status"]!)"
            }
            // Dave's all-day Tuesday starts at midnight in Berlin (23:00Z on Monday).
            #expect(
                busy == [
                    "/people/alice 10:00–11:00 busy", "/people/alice 14:00–15:00 tentative",
                    "/people/bob 09:30–12:00 busy",
                    "/people/dave 23:00–2026-12-08T05:00:00Z busy",
                ])
        }
    }

    @Test func aBadRequestIsRefusedNamingEachField() async throws {
        try await Self.app().test(.router) { client in
            let answer = try await Self.ask(
                client,
                """
                {"participants": [{"members": ["/people/alice", "people"], "required": 3}],
                 "query_periods": [{"start": "2026-12-07T09:00:00", "end": "2026-12-07T08:00:00Z"}],
                 "required_duration": "P1M", "zone": "Mars/Olympus", "response_format": "table", "require_fresh": "yes"}
                """, status: .badRequest)
            let errors = (answer["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] }
            #expect(
                errors == [
                    "participants[0].members[1]", "participants[0].required", "query_periods[0].start",
                    "required_duration", "response_format", "zone", "require_fresh",
                ])
            let message = try #require(answer["error"] as? String)
            #expect(message.contains("require_fresh: expected true or false"))
            #expect(
                message.contains(
                    "participants[0].members[1]: \"people\" is not a collection path such as \"/people/alice\""))
            #expect(message.contains("query_periods[0].start: expected an RFC 3339 date-time with its offset"))

            let notJSON = try await Self.ask(client, "participants=alice", status: .badRequest)
            #expect((notJSON["error"] as? String)?.hasPrefix("body: expected a JSON object") == true)
            let slots = try await Self.ask(
                client,
                #"{"participants": [{"members": ["/people/alice"]}], "query_periods": \#(Self.day), "response_format": "slots"}"#,
                status: .badRequest)
            #expect(
                (slots["error"] as? String)?.hasPrefix(
                    "required_duration: response_format \"slots\" needs a required_duration") == true)
        }
    }

    @Test func aMemberTheTokenIsNotGrantedIsForbiddenAndNothingIsTold() async throws {
        try await Self.app().test(.router) { client in
            try await Self.seeded(client)
            let answer = try await Self.ask(
                client,
                """
                {"participants": [{"members": ["/people/alice", "/people/carol", "/people/nobody"]}], "query_periods": \(Self.day)}
                """, token: "alice", status: .forbidden)
            #expect(
                answer["error"] as? String
                    == "participants[0].members[1]: this token is not granted /people/carol; participants[0].members[2]: this token is not granted /people/nobody"
            )
            #expect(answer["available_periods"] == nil)
            let missing = try await Self.ask(
                client,
                """
                {"participants": [{"members": ["/people/nobody"]}], "query_periods": \(Self.day)}
                """, status: .notFound)
            #expect(missing["error"] as? String == "participants[0].members[0]: no collection /people/nobody")
            try await client.execute(uri: "/availability", method: .post, body: ByteBuffer(string: "{}")) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate] == "Bearer")
            }
        }
    }
}
