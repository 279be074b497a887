import CalendarModel
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
