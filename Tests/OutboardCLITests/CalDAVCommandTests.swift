import CalendarModel
import EngineAdapters
import Foundation
import Testing
import TestSupport

/// The commands on a CalDAV target (Radicale) as on CalWS: `sync`, `verify`, `sync --dry-run`
/// and `sync --reconcile`.
@Suite struct CalDAVCommandTests {
    @Test func syncVerifyDryRunAndReconcileWorkOnACalDAVTarget() async throws {
        let server = try CalDAVServerProcess.start(.radicale)
        defer { server.stop() }
        try server.makeCalendar("/outboard/mirror/")
        let config = try ConfigFolder(feed: VerifyCommandTests.feed(rule: "FREQ=WEEKLY;COUNT=6"))
        let secret = config.root.appendingPathComponent("caldav-password")
        try CalDAVServerProcess.password.write(to: secret, atomically: true, encoding: .utf8)
        try """
        source:
          url: \(config.feed.absoluteString)
        target:
          type: caldav
          url: \(server.base)/outboard/mirror/
          auth:
            type: basic
            username: \(CalDAVServerProcess.user)
            password-file: \(secret.path)

        """.write(to: config.subscriptions.appendingPathComponent("s.yaml"), atomically: true, encoding: .utf8)

        let first = await outboard(["sync", "s"] + config.options)
        #expect(first.code == 0, "\(first.err)")
        let equal = await outboard(["verify", "s"] + VerifyCommandTests.window + config.options)
        #expect(equal.code == 0, "\(equal.err)")
        #expect(equal.out == "s: equal: 7 instances from 2026-01-01T00:00:00Z to 2026-03-01T00:00:00Z\n")

        // By hand on the server: lunch moves an hour later. verify sees it; a plain sync does not
        // look (the feed has not changed); a reconciling one puts it right.
        let lunch =
            [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:lunch@x",
                "DTSTART:20260107T130000Z", "DTEND:20260107T140000Z", "SUMMARY:Lunch", "END:VEVENT", "END:VCALENDAR",
            ].joined(separator: "\r\n") + "\r\n"
        #expect(try server.put("/outboard/mirror/lunch@x.ics", Array(lunch.utf8)) == 204)
        let different = await outboard(["verify", "s"] + VerifyCommandTests.window + config.options)
        #expect(different.code == 1)
        #expect(different.out.contains("moved uid=lunch@x"), "\(different.out)")
        #expect(await outboard(["sync", "s", "--reconcile"] + config.options).code == 0)
        #expect(await outboard(["verify", "s"] + VerifyCommandTests.window + config.options).code == 0)

        // The feed renames lunch: a dry run prints the field edit and writes nothing.
        try VerifyCommandTests.feed(rule: "FREQ=WEEKLY;COUNT=6").replacingOccurrences(
            of: "SUMMARY:Lunch", with: "SUMMARY:Team lunch"
        ).write(to: config.feed, atomically: true, encoding: .utf8)
        let before = server.requests().count
        let dry = await outboard(["sync", "s", "--dry-run"] + config.options)
        #expect(dry.code == 0, "\(dry.err)")
        #expect(dry.out.contains("SUMMARY") && dry.out.contains("Team lunch"), "\(dry.out)")
        let sent = server.requests().dropFirst(before)
        #expect(!sent.contains { $0.hasPrefix("PUT") || $0.hasPrefix("DELETE") }, "a dry run writes nothing: \(sent)")
        #expect(await outboard(["sync", "s"] + config.options).code == 0)
        #expect(await outboard(["verify", "s"] + VerifyCommandTests.window + config.options).code == 0)
    }
}

/// A calendar app writes into a mirrored collection through `outboard-target`'s CalDAV face:
/// `outboard verify` shows the difference, and the next reconciling pass overwrites it, as it
/// does a CalWS write made behind the engine's back.
@Suite struct CalDAVClientWriteTests {
    @Test func aClientsWriteToAMirroredCollectionIsShownByVerifyAndOverwrittenByReconcile() async throws {
        let config = try ConfigFolder(feed: VerifyCommandTests.feed(rule: "FREQ=WEEKLY;COUNT=6"))
        let server = try TargetProcess.start(environmentToken: "secret-token")
        defer { server.stop() }
        try config.subscription("s", collection: "/c", target: server.endpoint)
        #expect(await outboard(["sync", "s"] + config.options).code == 0)

        // The app finds lunch by its UID over CalDAV and moves it an hour later.
        let base = server.endpoint.replacingOccurrences(of: "/calws", with: "")
        let auth = "Basic " + Data("app:secret-token".utf8).base64EncodedString()
        func send(_ method: String, _ path: String, _ body: String, _ headers: [(String, String)] = [])
            async throws -> HTTPResponse
        {
            try await CurlHTTPClient().send(
                HTTPRequest(
                    method: method, url: base + path,
                    headers: [("Authorization", auth), ("Depth", "1"), ("Content-Type", "application/xml")] + headers,
                    body: Array(body.utf8)))
        }
        let found = try await send(
            "REPORT", "/dav/c/",
            """
            <c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="UID"><c:text-match>lunch@x</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>
            """)
        let text = String(decoding: found.body, as: UTF8.self)
        let href = try #require(
            text.range(of: "<d:href>").flatMap { start in
                text.range(of: "</d:href>", range: start.upperBound..<text.endIndex).map {
                    String(text[start.upperBound..<$0.lowerBound])
                }
            })
        let etag = try #require(
            text.range(of: "<d:getetag>").flatMap { start in
                text.range(of: "</d:getetag>", range: start.upperBound..<text.endIndex).map {
                    String(text[start.upperBound..<$0.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
                }
            })
        let moved =
            [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//app//EN", "BEGIN:VEVENT", "UID:lunch@x",
                "DTSTART:20260107T130000Z", "DTEND:20260107T140000Z", "SUMMARY:Lunch", "END:VEVENT", "END:VCALENDAR",
            ].joined(separator: "\r\n") + "\r\n"
        let put = try await send("PUT", href, moved, [("If-Match", etag), ("Content-Type", "text/calendar")])
        #expect(put.status == 204, "\(put.status): \(String(decoding: put.body, as: UTF8.self))")

        let different = await outboard(["verify", "s"] + VerifyCommandTests.window + config.options)
        #expect(different.code == 1 && different.out.contains("moved uid=lunch@x"), "\(different.out)")
        #expect(await outboard(["sync", "s", "--reconcile"] + config.options).code == 0)
        let again = await outboard(["verify", "s"] + VerifyCommandTests.window + config.options)
        #expect(again.code == 0, "the reconciling pass put the mirror back: \(again.out)")
    }
}
