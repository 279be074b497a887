import CalendarModel
import CalWS
import Engine
import EngineAdapters
import Foundation
import SyncCore
@testable import TargetServer
import Testing
import TestSupport

func calendar(_ lines: [String]) throws -> ICalComponent {
    let text =
        (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + lines + ["END:VCALENDAR"]).joined(separator: "\r\n")
        + "\r\n"
    return try ICalParser().parse(text).calendars[0]
}

func event(_ uid: String, _ summary: String, extra: [String] = []) throws -> ICalComponent {
    try calendar(
        [
            "BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20260101T000000Z", "DTSTART:20260301T150000Z",
            "DTEND:20260301T170000Z", "SUMMARY:\(summary)",
        ] + extra + ["END:VEVENT"])
}

func item(_ c: ICalComponent) -> ICalItem {
    ItemGrouper.items(from: ICalDocument(calendars: [c])).items[0]
}

/// The client error a call ends with (nil when it succeeds or fails otherwise).
func clientError(_ body: () async throws -> Void) async -> TargetClientError? {
    do {
        try await body()
        return nil
    } catch let e as TargetClientError {
        return e
    } catch {
        return nil
    }
}

/// Each test gets a server of its own, stopped when the test ends.
@Suite final class TargetServerTests {
    let server: TargetProcess
    let client: TargetClient

    init() throws {
        server = try TargetProcess.start()
        client = TargetClient(endpoint: server.endpoint, token: TargetProcess.token)
    }

    deinit { server.stop() }

    @Test func addFetchListAndDeleteAnEntity() async throws {
        let c = "/t/basic"
        let (href, token) = try await client.addItem(collection: c, calendar: try event("e1@x", "Match"))
        #expect(href == "/t/basic/e1@x.ics")
        let fetched = try await client.fetchItem(href: href)
        #expect(fetched.changeToken == token)
        #expect(
            fetched.calendar.map(item).map { CanonicalForm.hash(of: $0) }
                == CanonicalForm.hash(of: item(try event("e1@x", "Match"))))
        let listed = try await client.list(collection: c)
        #expect(listed.map(\.href) == [href])
        #expect(listed[0].calendar?.components.first?.properties.map(\.name) == ["UID", "LAST-MODIFIED"])
        #expect(try await client.fetch(uid: "e1@x", in: c)?.href == href)
        #expect(try await client.fetch(uid: "E1@X", in: c) == nil, "UID matching is exact")
        #expect(try await client.multiget(collection: c, hrefs: [href, c + "/none.ics"]).map(\.href) == [href])
        try await client.deleteItem(href: href)
        await #expect(throws: TargetClientError.self) { try await client.fetchItem(href: href) }
        #expect(try await client.list(collection: c).isEmpty)
    }

    @Test func updateItemNeedsTheCurrentChangeTokenAndAppliesAllOrNothing() async throws {
        let c = "/t/update"
        let old = try event("u1@x", "Old", extra: ["LOCATION:Hall"])
        let (href, token) = try await client.addItem(collection: c, calendar: old)
        let new = try event("u1@x", "New", extra: ["LOCATION:Hall", "CATEGORIES:Cup"])
        let changes = Differ.diff(source: item(new), target: item(old))
        let token2 = try await client.updateItem(href: href, changeToken: token, update: changes)
        #expect(token2 != token)
        let after = try await client.fetchItem(href: href)
        #expect(CanonicalForm.hash(of: item(after.calendar!)) == CanonicalForm.hash(of: item(new)))

        // The same change again with the old token: refused, nothing written.
        do {
            _ = try await client.updateItem(href: href, changeToken: token, update: changes)
            Issue.record("a stale token was accepted")
        } catch {
            #expect(error.kind == .mismatchedChangeToken)
        }
        do {
            _ = try await client.updateItem(href: href, changeToken: "", update: changes)
            Issue.record("a missing token was accepted")
        } catch {
            #expect(error.kind == .missingChangeToken)
        }
        // A selector that matches nothing: typed error, and the entity is unchanged.
        var stale = changes
        stale.components.updates[0].properties.changes[0].current = ICalProperty("SUMMARY", .text("Never was"))
        do {
            _ = try await client.updateItem(href: href, changeToken: token2, update: stale)
            Issue.record("an update of a property that is not there was accepted")
        } catch {
            #expect(error.kind == .targetDoesNotExist)
            #expect("\(error)".contains("SUMMARY"))
        }
        #expect(try await client.fetchItem(href: href).changeToken == token2)
    }

    @Test func uidsAreUniquePerCollection() async throws {
        let c = "/t/uid"
        let (href, _) = try await client.addItem(collection: c, calendar: try event("dup@x", "One"))
        let second = try event("dup@x", "Two")
        #expect(
            await clientError { _ = try await client.addItem(collection: c, calendar: second) }?.kind
                == .uidConflict(href: href))
        // Another collection may hold the same UID.
        _ = try await client.addItem(collection: "/t/uid-other", calendar: try event("dup@x", "Two"))
    }

    @Test func multiOpIsAtomic() async throws {
        let c = "/t/multi"
        let ops = [
            CalWSRequest(.addItem(href: c, calendar: try event("m1@x", "A"))),
            CalWSRequest(.addItem(href: c, calendar: try event("m2@x", "B"))),
        ]
        let ok = try await client.multiOp(ops)
        #expect(ok.count == 2)
        #expect(ok.map(\.id) == [1, 2])
        let failing = [
            CalWSRequest(.addItem(href: c, calendar: try event("m3@x", "C"))),
            CalWSRequest(.addItem(href: c, calendar: try event("m1@x", "again"))),
        ]
        do {
            _ = try await client.multiOp(failing)
            Issue.record("a failing multiOp succeeded")
        } catch {
            #expect(error.kind == .uidConflict(href: c + "/m1@x.ics"))
        }
        #expect(
            Set(try await client.list(collection: c).map(\.href)) == [c + "/m1@x.ics", c + "/m2@x.ics"],
            "m3 was rolled back")
    }

    @Test func invalidEntitiesAreRefusedWithTheirError() async throws {
        let two = try calendar(["BEGIN:VEVENT", "UID:a", "END:VEVENT", "BEGIN:VEVENT", "UID:b", "END:VEVENT"])
        #expect(
            await clientError { _ = try await client.addItem(collection: "/t/bad", calendar: two) }?.kind
                == .invalidCalendarObjectResource)
        let ok = try event("x", "y")
        #expect(
            await clientError { _ = try await client.addItem(collection: "not a path", calendar: ok) }?.kind
                == .invalidCalendarCollectionLocation)
        _ = try await client.addItem(collection: "/t/bad", calendar: ok)
        #expect(await clientError { try await client.deleteItem(href: "/t/bad") }?.kind == .targetNotEntity)
        #expect(
            await clientError { _ = try await client.fetchItem(href: "/t/none/x.ics") }?.kind == .targetDoesNotExist)
    }

    @Test func collectionsArePublishedWithAStrongETag() async throws {
        let c = "/t/published"
        _ = try await client.addItem(collection: c, calendar: try event("p1@x", "Published"))
        let http = CurlHTTPClient()
        let url = server.base + "/calendars/t/published.ics"
        let auth = [("Authorization", "Bearer \(TargetProcess.token)")]
        let first = try await http.send(HTTPRequest(url: url, headers: auth))
        #expect(first.status == 200)
        #expect(first.header("content-type") == "text/calendar; charset=utf-8")
        let etag = try #require(first.header("etag"))
        #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))
        let doc = try ICalParser().parse(first.body)
        #expect(doc.calendars[0].components.map(\.uid) == ["p1@x"])
        let again = try await http.send(HTTPRequest(url: url, headers: auth + [("If-None-Match", etag)]))
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
        _ = try await client.addItem(collection: c, calendar: try event("p2@x", "More"))
        let changed = try await http.send(HTTPRequest(url: url, headers: auth + [("If-None-Match", etag)]))
        #expect(changed.status == 200)
        #expect(changed.header("etag") != etag)
        #expect(try await http.send(HTTPRequest(url: url)).status == 401, "reading needs a token or the secret link")
    }

    @Test func propertiesAndTimeRangeQueries() async throws {
        let c = "/t/range"
        _ = try await client.addItem(collection: c, calendar: try event("march@x", "March"))  // 2026-03-01 15:00-17:00Z
        _ = try await client.addItem(
            collection: c,
            calendar: try calendar([
                "BEGIN:VEVENT", "UID:weekly@x", "DTSTART:20250101T100000Z",
                "DTEND:20250101T110000Z", "RRULE:FREQ=WEEKLY", "END:VEVENT",
            ]))
        let props = try await client.properties(href: c)
        #expect(props?.href == c)
        #expect(props?.supportedFeatures == ["calendarAccessFeature"])
        #expect(props?.resourceType == "calendarCollection")
        func range(_ a: (Int, Int), _ b: (Int, Int)) async throws -> [String] {
            let q = CalendarQuery(
                href: c,
                filter: .timeRange(
                    start: .init(year: 2026, month: a.0, day: a.1, hour: 0, minute: 0, second: 0, isUTC: true),
                    end: .init(year: 2026, month: b.0, day: b.1, hour: 0, minute: 0, second: 0, isUTC: true)))
            return try await client.query(q).map(\.href).sorted()
        }
        #expect(try await range((3, 1), (3, 2)) == [c + "/march@x.ics", c + "/weekly@x.ics"])
        #expect(
            try await range((4, 1), (5, 1)) == [c + "/weekly@x.ics"], "the recurring series may recur into the range")
        #expect(await clientError { _ = try await client.properties(href: "/t/none") }?.kind == .targetDoesNotExist)
    }

    /// A time range compares instants: a local time with an IANA TZID is converted with the
    /// system's zone database (RFC 5545 §3.3.5 for the times a change of offset skips or
    /// repeats), one with an unknown TZID is read as if UTC.
    @Test func timeRangesCompareLocalTimesAsInstants() {
        func event(_ start: String, _ end: String) -> ICalComponent {
            let tzid = { (v: String) in v.hasSuffix("Z") ? "" : ";TZID=Europe/Berlin" }
            return try! ICalParser().parse(
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:z\r\nDTSTART\(tzid(start)):\(start)\r\nDTEND\(tzid(end)):\(end)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            ).calendars[0]
        }
        func utc(_ s: String) -> ICalDateTime {
            guard case .dateTime(let d)? = ICalValue.parse(s, as: .dateTime) else { fatalError(s) }
            return d
        }
        // 09:00-10:00 in Berlin in January is 08:00-09:00Z; in July 07:00-08:00Z.
        let winter = event("20260105T090000", "20260105T100000")
        let summer = event("20260705T090000", "20260705T100000")
        #expect(TimeRange.overlaps(winter, start: utc("20260105T083000Z"), end: utc("20260105T084500Z")))
        #expect(!TimeRange.overlaps(winter, start: utc("20260105T093000Z"), end: utc("20260105T094500Z")))
        #expect(TimeRange.overlaps(summer, start: utc("20260705T071500Z"), end: utc("20260705T073000Z")))
        #expect(!TimeRange.overlaps(summer, start: utc("20260705T083000Z"), end: utc("20260705T090000Z")))
        // 02:30 does not exist on 2026-03-29 in Berlin: the offset before the gap (+01:00) applies.
        #expect(TimeRange.utc(utc("20260329T023000Z").local, in: "Europe/Berlin") == utc("20260329T013000Z"))
        // 02:30 exists twice on 2026-10-25: the first (+02:00) is meant.
        #expect(TimeRange.utc(utc("20261025T023000Z").local, in: "Europe/Berlin") == utc("20261025T003000Z"))
        #expect(
            TimeRange.utc(utc("20260105T090000Z").local, in: "/Europe/Berlin") == utc("20260105T080000Z"),
            "a globally unique TZID")
        #expect(TimeRange.utc(utc("20260105T090000Z").local, in: "W. Europe Standard Time") == nil)
    }

    @Test func theRemainingErrorElements() async throws {
        let c = "/t/errors"
        let journalAndEvent = try calendar([
            "BEGIN:VFREEBUSY", "UID:fb", "END:VFREEBUSY", "BEGIN:VEVENT", "UID:fb", "END:VEVENT",
        ])
        #expect(
            await clientError { _ = try await client.addItem(collection: c, calendar: journalAndEvent) }?.kind
                == .unsupportedCalendarComponent)
        let twoComments = try calendar([
            "BEGIN:VEVENT", "UID:amb@x", "COMMENT;LANGUAGE=en:same", "COMMENT;LANGUAGE=de:same", "END:VEVENT",
        ])
        let (href, token) = try await client.addItem(collection: c, calendar: twoComments)
        var u = ComponentUpdate(selector: ComponentSelector(name: "VCALENDAR"))
        var ev = ComponentUpdate(
            selector: ComponentSelector(name: "VEVENT", properties: [ICalProperty("UID", .text("amb@x"))]))
        ev.properties.removes = [ICalProperty("COMMENT", .text("same"))]
        u.components.updates = [ev]
        #expect(
            await clientError { _ = try await client.updateItem(href: href, changeToken: token, update: u) }?.kind
                == .invalidCalendarData)
        let methodCal = try calendar(["METHOD:REQUEST", "BEGIN:VEVENT", "UID:meth@x", "END:VEVENT"])
        #expect(
            await clientError { _ = try await client.addItem(collection: c, calendar: methodCal) }?.kind
                == .invalidCalendarObjectResource)
    }

    @Test func metricsCountRequestsOperationsAndErrors() async throws {
        _ = try await client.addItem(collection: "/t/m", calendar: try event("m@x", "A"))
        let again = try event("m@x", "A")
        _ = await clientError { _ = try await client.addItem(collection: "/t/m", calendar: again) }
        _ = try await client.multiOp([
            CalWSRequest(.addItem(href: "/t/m", calendar: try event("m2@x", "B"))),
            CalWSRequest(.deleteItem(href: "/t/m/m@x.ics")),
        ])
        let r = try await CurlHTTPClient().send(HTTPRequest(url: server.base + "/metrics"))
        #expect(r.status == 200)
        let text = String(decoding: r.body, as: UTF8.self)
        #expect(text.contains(#"outboard_target_requests_total{operation="addItem",status="OK"} 1"#), "\(text)")
        #expect(text.contains(#"outboard_target_requests_total{operation="addItem",status="Error"} 1"#))
        #expect(text.contains(#"outboard_target_operations_total{operation="addItem"} 3"#))
        #expect(text.contains(#"outboard_target_operations_total{operation="deleteItem"} 1"#))
        #expect(text.contains(#"outboard_target_errors_total{error="uidConflict"} 1"#))
        #expect(text.contains("outboard_target_request_duration"))
    }

    @Test func hostileBodiesAreRefusedAndTheServerStillAnswers() async throws {
        let http = CurlHTTPClient()
        let auth = [("Authorization", "Bearer \(TargetProcess.token)"), ("Content-Type", "text/xml")]
        let envelope = { (inner: String) in
            "<?xml version=\"1.0\"?>\n<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Body>\(inner)</S:Body></S:Envelope>"
        }
        let laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
            <S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><x>&lol3;</x></S:Body></S:Envelope>
            """
        let xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><x>&xxe;</x></S:Body></S:Envelope>
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
            let r = try await http.send(
                HTTPRequest(method: "POST", url: server.endpoint, headers: auth, body: Array(body.utf8)))
            #expect(r.status == 500)
            let text = String(decoding: r.body, as: UTF8.self)
            #expect(
                text.contains(
                    "<faultcode>S:Client</faultcode><faultstring>the request cannot be read: \(why)</faultstring>"),
                "\(text)")
            #expect(!text.contains("root:"), "no file content leaks")
        }
        // 100 MB: refused before it is parsed.
        let huge = [UInt8](repeating: 0x20, count: 100 << 20)
        let r = try await http.send(
            HTTPRequest(method: "POST", url: server.endpoint, headers: auth, body: huge, timeout: 120))
        #expect(r.status == 413)
        let health = try await http.send(HTTPRequest(url: server.base + "/health"))
        #expect(health.status == 200)
        _ = try await client.addItem(collection: "/t/after-hostile", calendar: try event("h@x", "still works"))
    }
}

@Suite struct TargetAccessTests {
    @Test func tokensAreCheckedPerCollectionAndNothingIsWrittenWithoutOne() async throws {
        let dir = TargetProcess.temporaryDirectory()
        let tokens = dir.appendingPathComponent("tokens")
        try "# token  collections\nathletics /public/athletics\nadmin *\n".write(
            to: tokens, atomically: true, encoding: .utf8)
        let server = try TargetProcess.start(
            dataDirectory: dir.appendingPathComponent("data"), tokensFile: tokens.path, environmentToken: nil)
        defer { server.stop() }
        let athletics = TargetClient(endpoint: server.endpoint, token: "athletics")
        let admin = TargetClient(endpoint: server.endpoint, token: "admin")
        let nobody = TargetClient(endpoint: server.endpoint, token: "wrong")

        let (granted, _) = try await athletics.addItem(
            collection: "/public/athletics", calendar: try event("a@x", "Ok"))
        // A write outside the token's grant.
        let b = try event("b@x", "Not granted")
        let denied = await clientError { _ = try await athletics.addItem(collection: "/public/holidays", calendar: b) }
        #expect(denied == .forbidden(href: "/public/holidays", message: "this token is not granted /public/holidays"))
        // A write and a read with a token the target does not know.
        let unknown = await clientError {
            _ = try await nobody.addItem(collection: "/public/athletics", calendar: try event("u@x", "Unknown token"))
        }
        #expect(unknown == .unauthorized(endpoint: server.endpoint))
        let unknownRead = await clientError { _ = try await nobody.list(collection: "/public/athletics") }
        #expect(unknownRead == .unauthorized(endpoint: server.endpoint))
        // A write with no token at all (the client always sends one, so by hand).
        let bare = HTTPRequest(
            method: "POST", url: server.endpoint, headers: [("Content-Type", "text/xml; charset=utf-8")],
            body: MessageCodec.encode(
                CalWSRequest(.addItem(href: "/public/athletics", calendar: try event("n@x", "No token")))))
        let refused = try await CurlHTTPClient().send(bare)
        #expect(refused.status == 401)
        #expect(refused.header("www-authenticate") == "Bearer")
        #expect(String(decoding: refused.body, as: UTF8.self) == "a bearer token is required\n")
        // A multiOp touching a collection it may not write is refused whole.
        let mixed = [
            CalWSRequest(.addItem(href: "/public/athletics", calendar: try event("c@x", "Granted"))),
            CalWSRequest(.addItem(href: "/public/holidays", calendar: try event("d@x", "Not granted"))),
        ]
        let partly = await clientError { _ = try await athletics.multiOp(mixed) }
        #expect(partly == .forbidden(href: "multiOp", message: "this token is not granted /public/holidays"))
        // None of the refused writes left anything: the one granted entity, and no holidays collection.
        #expect(try await admin.list(collection: "/public/athletics").map(\.href) == [granted])
        let holidays = await clientError { _ = try await admin.list(collection: "/public/holidays") }
        #expect(holidays?.kind == .targetDoesNotExist, "\(String(describing: holidays))")
        #expect(holidays?.description == "/public/holidays: targetDoesNotExist: no collection /public/holidays")
    }

    @Test func aSecretLinkPublishesWithoutAToken() async throws {
        let dir = TargetProcess.temporaryDirectory()
        let server = try TargetProcess.start(dataDirectory: dir)
        defer { server.stop() }
        let client = TargetClient(endpoint: server.endpoint, token: TargetProcess.token)
        _ = try await client.addItem(collection: "/public/holidays", calendar: try event("ny@x", "New Year"))
        let link = try runTarget(["link", "--data", dir.path, "/public/holidays"])
        #expect(link.hasPrefix("/calendars/public/holidays.ics?key="))
        let http = CurlHTTPClient()
        #expect(try await http.send(HTTPRequest(url: server.base + link)).status == 200)
        #expect(
            try await http.send(HTTPRequest(url: server.base + "/calendars/public/holidays.ics?key=wrong")).status
                == 403)
        _ = try runTarget(["link", "--data", dir.path, "--revoke", "/public/holidays"])
        #expect(try await http.send(HTTPRequest(url: server.base + link)).status == 403)
    }

    @Test(.timeLimit(.minutes(2)))
    func acknowledgedWritesSurviveAKill() async throws {
        let dir = TargetProcess.temporaryDirectory()
        let server = try TargetProcess.start(dataDirectory: dir)
        let client = TargetClient(endpoint: server.endpoint, token: TargetProcess.token)
        // Writes in flight while the process is killed: every acknowledged one must be there after.
        let acknowledged = Acknowledged()
        let writer = Task {
            for i in 0..<2000 {
                guard
                    let (href, _) = try? await client.addItem(
                        collection: "/t/durable", calendar: try event("k\(i)@x", "n\(i)"))
                else { break }
                await acknowledged.add(href)
            }
            await acknowledged.end()
        }
        // Kill it once 50 writes are acknowledged; a writer that stops before fails the test
        // instead of leaving it waiting.
        let reached = await acknowledged.wait(for: 50)
        let before = await acknowledged.count
        try #require(reached, "the writer stopped after \(before) acknowledged writes, before the kill")
        server.kill9()
        _ = await writer.result
        let restarted = try TargetProcess.start(dataDirectory: dir)
        defer { restarted.stop() }
        let stored = Set(
            try await TargetClient(endpoint: restarted.endpoint, token: TargetProcess.token).list(
                collection: "/t/durable"
            ).map(\.href))
        let acked = await acknowledged.hrefs
        #expect(acked.count >= 50)
        #expect(acked.isSubset(of: stored), "\(acked.subtracting(stored).count) acknowledged writes were lost")
    }
}

actor Acknowledged {
    var hrefs = Set<String>()
    var count: Int { hrefs.count }
    private var ended = false
    private var waiters: [(count: Int, continuation: CheckedContinuation<Bool, Never>)] = []

    func add(_ h: String) {
        hrefs.insert(h)
        for w in waiters where w.count <= hrefs.count { w.continuation.resume(returning: true) }
        waiters.removeAll { $0.count <= hrefs.count }
    }

    /// The writer is done: nobody waits any longer for writes that will not come.
    func end() {
        ended = true
        for w in waiters { w.continuation.resume(returning: false) }
        waiters = []
    }

    /// True once `n` writes are acknowledged; false if the writer ends before.
    func wait(for n: Int) async -> Bool {
        if hrefs.count >= n { return true }
        if ended { return false }
        return await withCheckedContinuation { waiters.append((n, $0)) }
    }
}

/// Runs `outboard-target ARGS` to completion and returns its standard output's first line.
func runTarget(_ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = TargetProcess.executable
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    p.waitForExit()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return String(text.split(separator: "\n").first ?? "")
}

private extension ICalDateTime {
    /// The same wall-clock time, not UTC.
    var local: ICalDateTime {
        var d = self
        d.time.isUTC = false
        return d
    }
}
