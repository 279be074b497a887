import CalendarModel
import CalWS
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SyncCore
@testable import TargetServer
import Testing
import TestSupport

/// The reference target's routes, CalWS operations, tokens, ETags and refusals, tested in process
/// on the same `buildTargetApplication` the executable runs (HummingbirdTesting's router
/// framework: no socket, no process). `TargetBinaryTests` keeps the real binary over real HTTP.
@Suite struct TargetApplicationTests {
    static func app(maxBodyBytes: Int = 64 << 20, directory: URL = TargetProcess.temporaryDirectory()) throws
        -> some ApplicationProtocol
    {
        let tokens = TokenTable(entries: [
            "all": Grants(all: true), "athletics": Grants(collections: ["/public/athletics"]),
        ])
        let config = TargetConfiguration(
            dataDirectory: directory.path, port: 0, tokens: tokens, maxBodyBytes: maxBodyBytes)
        return try buildTargetApplication(config, logger: Logger(label: "test"))
    }

    static func soap(_ request: CalWSRequest) -> ByteBuffer {
        ByteBuffer(bytes: MessageCodec.encode(request))
    }

    static func add(_ uid: String, to collection: String) throws -> ByteBuffer {
        let text =
            [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:\(uid)",
                "DTSTAMP:20260101T000000Z",
                "DTSTART:20260301T150000Z", "SUMMARY:Match", "END:VEVENT", "END:VCALENDAR",
            ].joined(separator: "\r\n") + "\r\n"
        return soap(CalWSRequest(.addItem(href: collection, calendar: try ICalParser().parse(text).calendars[0])))
    }

    static func bearer(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)", .contentType: "text/xml; charset=utf-8"]
    }

    /// CalWS calls in process as one token, typed as `TargetClient` types them: the values of an
    /// OK answer (any other answer is thrown), or with `refusal` the result of one that is not OK.
    struct CalWSCaller: Sendable {
        var client: any TestClientProtocol
        var token = "all"

        struct NotOK: Error, CustomStringConvertible {
            var description: String
        }

        /// The answer, whatever its CalWS status (HTTP 200 expected).
        func send(_ body: CalWSRequest.Body) async throws -> CalWSResponse {
            try await CalendarReportsTests.call(client, CalWSRequest(body), token: token)
        }

        /// The result of a request the target should refuse: its error element and message.
        func refusal(_ body: CalWSRequest.Body) async throws -> CalWSResult {
            try await send(body).result
        }

        /// The body of an OK answer.
        func ok(_ body: CalWSRequest.Body) async throws -> CalWSResponse.Body {
            let r = try await send(body)
            guard r.result.status == .ok else { throw NotOK(description: "not OK: \(r.result)") }
            return r.body
        }

        func add(_ calendar: ICalComponent, to collection: String) async throws -> (href: String, changeToken: String) {
            let body = try await ok(.addItem(href: collection, calendar: calendar))
            guard case .addItem(let href?, let changeToken?) = body else { throw NotOK(description: "\(body)") }
            return (href, changeToken)
        }

        func fetch(_ href: String) async throws -> EntityInfo {
            let body = try await ok(.fetchItem(href: href))
            guard case .fetchItem(let entity?) = body else { throw NotOK(description: "\(body)") }
            return entity
        }

        /// The entity with this UID, if the collection has one.
        func fetch(uid: String, in collection: String) async throws -> EntityInfo? {
            try await entities(.calendarQuery(CalendarQuery(href: collection, filter: .uid(uid), allData: true))).first
        }

        /// Applies a change set; returns the new change token.
        func update(_ href: String, changeToken: String, _ changes: ComponentUpdate) async throws -> String {
            let body = try await ok(.updateItem(href: href, changeToken: changeToken, update: changes))
            guard case .updateItem(let next?) = body else { throw NotOK(description: "\(body)") }
            return next
        }

        /// The entities a calendarQuery or a calendarMultiget answers.
        func entities(_ request: CalWSRequest.Body) async throws -> [EntityInfo] {
            let body = try await ok(request)
            guard case .calendarQuery(let entities) = body else { throw NotOK(description: "\(body)") }
            return entities
        }

        /// Every entity of a collection as a listing.
        func list(_ collection: String) async throws -> [EntityInfo] {
            try await entities(.calendarQuery(CalendarQuery(href: collection)))
        }

        func properties(_ href: String) async throws -> CollectionProperties? {
            let body = try await ok(.getProperties(href: href))
            guard case .getProperties(let properties) = body else { throw NotOK(description: "\(body)") }
            return properties
        }
    }

    @Test func healthAndMetricsNeedNoTokenButCalWSDoes() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/calws", method: .post, body: try Self.add("a@x", to: "/public/athletics")) {
                r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate] == "Bearer")
                #expect(String(buffer: r.body) == "a bearer token is required\n")
            }
            try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("nobody"),
                body: try Self.add("a@x", to: "/public/athletics")
            ) {
                #expect($0.status == .unauthorized, "an unknown token")
            }
        }
    }

    @Test func aTokenReachesOnlyItsCollections() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("athletics"),
                body: try Self.add("a@x", to: "/public/athletics")
            ) {
                #expect($0.status == .ok)
            }
            try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("athletics"),
                body: try Self.add("h@x", to: "/public/holidays")
            ) { r in
                #expect(r.status == .forbidden)
                #expect(String(buffer: r.body).contains("this token is not granted /public/holidays"))
            }
            try await client.execute(
                uri: "/calendars/public/holidays.ics", method: .get, headers: Self.bearer("athletics")
            ) {
                #expect($0.status == .forbidden)
            }
        }
    }

    /// Refused writes store nothing: a token the target does not know reads nothing either, and a
    /// multiOp touching a collection the token may not write is refused whole.
    @Test func aMultiOpTouchingAnUngrantedCollectionIsRefusedWholeAndNothingIsWritten() async throws {
        try await Self.app().test(.router) { client in
            let athletics = CalWSCaller(client: client, token: "athletics")
            let (granted, _) = try await athletics.add(try event("a@x", "Ok"), to: "/public/athletics")
            let b = CalWSRequest(.addItem(href: "/public/holidays", calendar: try event("b@x", "Not granted")))
            let denied = try await CalendarReportsTests.call(client, b, token: "athletics", status: .forbidden)
            #expect(denied.result.error == .forbidden)
            #expect(denied.result.message == "this token is not granted /public/holidays")
            try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("wrong"),
                body: Self.soap(CalWSRequest(.calendarQuery(CalendarQuery(href: "/public/athletics"))))
            ) {
                #expect($0.status == .unauthorized, "a read with a token the target does not know")
            }
            let mixed = CalWSRequest(
                .multiOp([
                    CalWSRequest(id: 1, .addItem(href: "/public/athletics", calendar: try event("c@x", "Granted"))),
                    CalWSRequest(id: 2, .addItem(href: "/public/holidays", calendar: try event("d@x", "Not granted"))),
                ]))
            let partly = try await CalendarReportsTests.call(client, mixed, token: "athletics", status: .forbidden)
            #expect(partly.result.error == .forbidden)
            #expect(partly.result.message == "this token is not granted /public/holidays")
            // None of the refused writes left anything: the one granted entity, and no holidays collection.
            let all = CalWSCaller(client: client)
            #expect(try await all.list("/public/athletics").map(\.href) == [granted])
            let holidays = try await all.refusal(.calendarQuery(CalendarQuery(href: "/public/holidays")))
            #expect(holidays.error == .targetDoesNotExist, "\(holidays)")
            #expect(holidays.message == "no collection /public/holidays")
        }
    }

    @Test func addFetchListAndDeleteAnEntity() async throws {
        try await Self.app().test(.router) { client in
            let calws = CalWSCaller(client: client)
            let c = "/t/basic"
            let (href, token) = try await calws.add(try event("e1@x", "Match"), to: c)
            #expect(href == "/t/basic/e1@x.ics")
            let fetched = try await calws.fetch(href)
            #expect(fetched.changeToken == token)
            #expect(
                fetched.calendar.map(item).map { CanonicalForm.hash(of: $0) }
                    == CanonicalForm.hash(of: item(try event("e1@x", "Match"))))
            let listed = try await calws.list(c)
            #expect(listed.map(\.href) == [href])
            #expect(listed.first?.calendar?.components.first?.properties.map(\.name) == ["UID", "LAST-MODIFIED"])
            #expect(try await calws.fetch(uid: "e1@x", in: c)?.href == href)
            #expect(try await calws.fetch(uid: "E1@X", in: c) == nil, "UID matching is exact")
            let multiget = CalWSRequest.Body.calendarMultiget(href: c, hrefs: [href, c + "/none.ics"], allData: true)
            #expect(try await calws.entities(multiget).map(\.href) == [href])
            _ = try await calws.ok(.deleteItem(href: href))
            #expect(try await calws.refusal(.fetchItem(href: href)).error == .targetDoesNotExist)
            #expect(try await calws.list(c).isEmpty)
        }
    }

    @Test func updateItemNeedsTheCurrentChangeTokenAndAppliesAllOrNothing() async throws {
        try await Self.app().test(.router) { client in
            let calws = CalWSCaller(client: client)
            let c = "/t/update"
            let old = try event("u1@x", "Old", extra: ["LOCATION:Hall"])
            let (href, token) = try await calws.add(old, to: c)
            let new = try event("u1@x", "New", extra: ["LOCATION:Hall", "CATEGORIES:Cup"])
            let changes = Differ.diff(source: item(new), target: item(old))
            let token2 = try await calws.update(href, changeToken: token, changes)
            #expect(token2 != token)
            let after = try await calws.fetch(href)
            #expect(after.calendar.map { CanonicalForm.hash(of: item($0)) } == CanonicalForm.hash(of: item(new)))

            // The same change again with the old token: refused, nothing written.
            let stale = try await calws.refusal(.updateItem(href: href, changeToken: token, update: changes))
            #expect(stale.error == .mismatchedChangeToken)
            let missing = try await calws.refusal(.updateItem(href: href, changeToken: "", update: changes))
            #expect(missing.error == .missingChangeToken)
            // A selector that matches nothing: typed error, and the entity is unchanged.
            var never = changes
            never.components.updates[0].properties.changes[0].current = ICalProperty("SUMMARY", .text("Never was"))
            let unmatched = try await calws.refusal(.updateItem(href: href, changeToken: token2, update: never))
            #expect(unmatched.error == .targetDoesNotExist)
            #expect(unmatched.message?.contains("SUMMARY") == true, "\(unmatched)")
            #expect(try await calws.fetch(href).changeToken == token2)
        }
    }

    @Test func uidsAreUniquePerCollection() async throws {
        try await Self.app().test(.router) { client in
            let calws = CalWSCaller(client: client)
            let c = "/t/uid"
            let (href, _) = try await calws.add(try event("dup@x", "One"), to: c)
            let second = try await calws.refusal(.addItem(href: c, calendar: try event("dup@x", "Two")))
            #expect(second.error == .uidConflict(href: href))
            // Another collection may hold the same UID.
            _ = try await calws.add(try event("dup@x", "Two"), to: "/t/uid-other")
        }
    }

    @Test func multiOpIsAtomic() async throws {
        try await Self.app().test(.router) { client in
            let calws = CalWSCaller(client: client)
            let c = "/t/multi"
            // Numbered from 1, as `TargetClient.multiOp` numbers them.
            let ops = [
                CalWSRequest(id: 1, .addItem(href: c, calendar: try event("m1@x", "A"))),
                CalWSRequest(id: 2, .addItem(href: c, calendar: try event("m2@x", "B"))),
            ]
            guard case .multiOp(let answers) = try await calws.ok(.multiOp(ops)) else {
                Issue.record("not a multiOp answer")
                return
            }
            #expect(answers.count == 2)
            #expect(answers.map(\.id) == [1, 2])
            let failing = [
                CalWSRequest(id: 1, .addItem(href: c, calendar: try event("m3@x", "C"))),
                CalWSRequest(id: 2, .addItem(href: c, calendar: try event("m1@x", "again"))),
            ]
            let refused = try await calws.refusal(.multiOp(failing))
            #expect(refused.error == .uidConflict(href: c + "/m1@x.ics"))
            #expect(
                Set(try await calws.list(c).map(\.href)) == [c + "/m1@x.ics", c + "/m2@x.ics"], "m3 was rolled back")
        }
    }

    @Test func invalidEntitiesAreRefusedWithTheirError() async throws {
        try await Self.app().test(.router) { client in
            let calws = CalWSCaller(client: client)
            let two = try calendar(["BEGIN:VEVENT", "UID:a", "END:VEVENT", "BEGIN:VEVENT", "UID:b", "END:VEVENT"])
            let several = try await calws.refusal(.addItem(href: "/t/bad", calendar: two))
            #expect(several.error == .invalidCalendarObjectResource)
            let ok = try event("x", "y")
            #expect(
                try await calws.refusal(.addItem(href: "not a path", calendar: ok)).error
                    == .invalidCalendarCollectionLocation)
            _ = try await calws.add(ok, to: "/t/bad")
            #expect(try await calws.refusal(.deleteItem(href: "/t/bad")).error == .targetNotEntity)
            #expect(try await calws.refusal(.fetchItem(href: "/t/none/x.ics")).error == .targetDoesNotExist)
        }
    }

    @Test func theRemainingErrorElements() async throws {
        try await Self.app().test(.router) { client in
            let calws = CalWSCaller(client: client)
            let c = "/t/errors"
            let journalAndEvent = try calendar([
                "BEGIN:VFREEBUSY", "UID:fb", "END:VFREEBUSY", "BEGIN:VEVENT", "UID:fb", "END:VEVENT",
            ])
            #expect(
                try await calws.refusal(.addItem(href: c, calendar: journalAndEvent)).error
                    == .unsupportedCalendarComponent)
            let twoComments = try calendar([
                "BEGIN:VEVENT", "UID:amb@x", "COMMENT;LANGUAGE=en:same", "COMMENT;LANGUAGE=de:same", "END:VEVENT",
            ])
            let (href, token) = try await calws.add(twoComments, to: c)
            var u = ComponentUpdate(selector: ComponentSelector(name: "VCALENDAR"))
            var ev = ComponentUpdate(
                selector: ComponentSelector(name: "VEVENT", properties: [ICalProperty("UID", .text("amb@x"))]))
            ev.properties.removes = [ICalProperty("COMMENT", .text("same"))]
            u.components.updates = [ev]
            let ambiguous = try await calws.refusal(.updateItem(href: href, changeToken: token, update: u))
            #expect(ambiguous.error == .invalidCalendarData)
            let methodCal = try calendar(["METHOD:REQUEST", "BEGIN:VEVENT", "UID:meth@x", "END:VEVENT"])
            #expect(
                try await calws.refusal(.addItem(href: c, calendar: methodCal)).error == .invalidCalendarObjectResource)
        }
    }

    @Test func metricsCountRequestsOperationsAndErrors() async throws {
        try await Self.app().test(.router) { client in
            let calws = CalWSCaller(client: client)
            _ = try await calws.add(try event("m@x", "A"), to: "/t/m")
            _ = try await calws.send(.addItem(href: "/t/m", calendar: try event("m@x", "A")))
            _ = try await calws.ok(
                .multiOp([
                    CalWSRequest(id: 1, .addItem(href: "/t/m", calendar: try event("m2@x", "B"))),
                    CalWSRequest(id: 2, .deleteItem(href: "/t/m/m@x.ics")),
                ]))
            let text = try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .ok)
                return String(buffer: r.body)
            }
            #expect(text.contains(#"outboard_target_requests_total{operation="addItem",status="OK"} 1"#), "\(text)")
            #expect(text.contains(#"outboard_target_requests_total{operation="addItem",status="Error"} 1"#))
            #expect(text.contains(#"outboard_target_operations_total{operation="addItem"} 3"#))
            #expect(text.contains(#"outboard_target_operations_total{operation="deleteItem"} 1"#))
            #expect(text.contains(#"outboard_target_errors_total{error="uidConflict"} 1"#))
            #expect(text.contains("outboard_target_request_duration"))
        }
    }

    @Test func aPublishedCollectionHasAStrongETagAndAnswers304() async throws {
        try await Self.app().test(.router) { client in
            _ = try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("all"),
                body: try Self.add("a@x", to: "/public/athletics"))
            let etag = try await client.execute(
                uri: "/calendars/public/athletics.ics", method: .get, headers: Self.bearer("all")
            ) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType] == "text/calendar; charset=utf-8")
                let feed = try ICalParser().parse(String(buffer: r.body))
                #expect(feed.calendars.first?.components.map(\.uid) == ["a@x"])
                return try #require(r.headers[.eTag])
            }
            #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))
            try await client.execute(
                uri: "/calendars/public/athletics.ics", method: .get,
                headers: [.authorization: "Bearer all", .ifNoneMatch: etag]
            ) {
                #expect($0.status == .notModified)
                #expect($0.body.readableBytes == 0)
            }
            // A write makes a new feed: the old ETag no longer matches.
            _ = try await CalWSCaller(client: client).add(try event("b@x", "More"), to: "/public/athletics")
            try await client.execute(
                uri: "/calendars/public/athletics.ics", method: .get,
                headers: [.authorization: "Bearer all", .ifNoneMatch: etag]
            ) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.eTag] != etag)
            }
            try await client.execute(uri: "/calendars/public/none.ics", method: .get, headers: Self.bearer("all")) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/calendars/public/athletics.ics", method: .get) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    /// The `link` command writes a collection's key into the store the running server reads.
    @Test func aSecretLinkFromTheLinkCommandPublishesWithoutAToken() async throws {
        let dir = TargetProcess.temporaryDirectory()
        try await Self.app(directory: dir).test(.router) { client in
            _ = try await CalWSCaller(client: client).add(try event("ny@x", "New Year"), to: "/public/holidays")
            let link = try runTarget(["link", "--data", dir.path, "/public/holidays"])
            #expect(link.hasPrefix("/calendars/public/holidays.ics?key="))
            try await client.execute(uri: link, method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/calendars/public/holidays.ics?key=wrong", method: .get) {
                #expect($0.status == .forbidden)
            }
            _ = try runTarget(["link", "--data", dir.path, "--revoke", "/public/holidays"])
            try await client.execute(uri: link, method: .get) { #expect($0.status == .forbidden) }
        }
    }

    @Test func hostileAndOversizedBodiesAreRefusedBeforeAnythingIsStored() async throws {
        try await Self.app(maxBodyBytes: 4096).test(.router) { client in
            let doctype = #"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#
            try await client.execute(
                uri: "/calws", method: .post, headers: Self.bearer("all"), body: ByteBuffer(string: doctype)
            ) { r in
                #expect(r.status == .internalServerError)
                #expect(String(buffer: r.body).contains("faultstring"))
            }
            let big = ByteBuffer(string: String(repeating: "x", count: 8192))
            try await client.execute(uri: "/calws", method: .post, headers: Self.bearer("all"), body: big) { r in
                #expect(r.status == .contentTooLarge)
                #expect(String(buffer: r.body).contains("the body exceeds 4096 bytes"))
            }
            try await client.execute(uri: "/calendars/public/athletics.ics", method: .get, headers: Self.bearer("all"))
            {
                #expect($0.status == .notFound, "nothing was stored")
            }
        }
    }

    @Test func hostileBodiesAreRefusedAndTheServerStillAnswers() async throws {
        try await Self.app().test(.router) { client in
            let envelope = { (inner: String) -> String in
                #"<?xml version="1.0"?>"# + "\n"
                    + #"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>"#
                    + inner + "</S:Body></S:Envelope>"
            }
            let laughs = """
                <?xml version="1.0"?>
                <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\
                <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
                <S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><x>&lol3;</x></S:Body>\
                </S:Envelope>
                """
            let xxe = """
                <?xml version="1.0"?>
                <!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
                <S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><x>&xxe;</x></S:Body>\
                </S:Envelope>
                """
            // Deep where the reader skips what it does not know (inside an item), so that only the
            // depth limit can refuse it.
            let deep = envelope(
                "<C:addItem xmlns:C=\"http://docs.oasis-open.org/ws-calendar/ns/soap\"><C:href>/t/deep</C:href>"
                    + "<icalendar xmlns=\"urn:ietf:params:xml:ns:icalendar-2.0\"><vcalendar>"
                    + String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)
                    + "</vcalendar></icalendar></C:addItem>")
            let garbage = "this is not xml"
            let unknownOp = envelope("<C:frobnicate xmlns:C=\"http://docs.oasis-open.org/ws-calendar/ns/soap\"/>")
            let doctype = "line 2: a DOCTYPE is not allowed (DTDs and entity declarations are refused)"
            for (body, why) in [
                (laughs, doctype), (xxe, doctype), (deep, "line 2: XML nested deeper than 64 levels"),
                (garbage, "line 1: malformed XML: Document is empty"),
                (unknownOp, "line 2: unknown operation &lt;frobnicate&gt;"),
            ] {
                try await client.execute(
                    uri: "/calws", method: .post, headers: Self.bearer("all"), body: ByteBuffer(string: body)
                ) { r in
                    #expect(r.status == .internalServerError)
                    let text = String(buffer: r.body)
                    let fault = "<faultstring>the request cannot be read: \(why)</faultstring>"
                    #expect(text.contains("<faultcode>S:Client</faultcode>" + fault), "\(text)")
                    #expect(!text.contains("root:"), "no file content leaks")
                }
            }
            // 100 MB, past the default limit (the executable's): refused before it is parsed.
            let huge = ByteBuffer(repeating: 0x20, count: 100 << 20)
            try await client.execute(uri: "/calws", method: .post, headers: Self.bearer("all"), body: huge) {
                #expect($0.status == .contentTooLarge)
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            _ = try await CalWSCaller(client: client).add(try event("h@x", "still works"), to: "/t/after-hostile")
        }
    }
}
