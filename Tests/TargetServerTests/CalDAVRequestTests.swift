import CalWS
import CalendarModel
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SyncCore
@testable import TargetServer
import Testing
import TestSupport

/// The CalDAV face in process: hostile and malformed requests are refused without effect, as
/// the CalWS endpoint refuses them; unknown reports, infinite depth and path tricks included.
@Suite struct CalDAVRequestTests {
    static func basic(_ token: String, depth: String? = nil) -> HTTPFields {
        var h: HTTPFields = [
            .authorization: "Basic " + Data("someone:\(token)".utf8).base64EncodedString(),
            .contentType: "application/xml; charset=utf-8",
        ]
        if let depth { h[HTTPField.Name("Depth")!] = depth }
        return h
    }

    static let propfind = HTTPRequest.Method("PROPFIND")!
    static let report = HTTPRequest.Method("REPORT")!

    @Test func hostileAndMalformedRequestsAreRefusedWithoutEffect() async throws {
        let app = try TargetApplicationTests.app()
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/calws", method: .post, headers: TargetApplicationTests.bearer("all"),
                body: try TargetApplicationTests.add("a@x", to: "/public/athletics")
            ) { #expect($0.status == .ok) }
            let revision = { () async throws -> String in
                try await client.execute(
                    uri: "/dav/public/athletics/", method: Self.propfind, headers: Self.basic("all", depth: "0")
                ) { r in String(buffer: r.body) }
            }
            let before = try await revision()
            #expect(before.contains("<d:getetag>&quot;c1&quot;</d:getetag>") || before.contains("\"c1\""), "\(before)")

            // No credentials, wrong ones.
            try await client.execute(uri: "/dav/", method: Self.propfind) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/dav/", method: Self.propfind, headers: Self.basic("nobody")) {
                #expect($0.status == .unauthorized)
            }
            // A body over the limit; XML nested past the reader's depth; an entity declaration.
            let huge = ByteBuffer(repeating: UInt8(ascii: " "), count: (1 << 20) + 10)
            try await client.execute(
                uri: "/dav/public/athletics/", method: Self.report, headers: Self.basic("all"), body: huge
            ) {
                #expect($0.status == .contentTooLarge)
            }
            let deep = String(repeating: "<d:x>", count: 5000) + String(repeating: "</d:x>", count: 5000)
            try await client.execute(
                uri: "/dav/public/athletics/", method: Self.report, headers: Self.basic("all"),
                body: ByteBuffer(string: "<d:sync-collection xmlns:d=\"DAV:\">\(deep)</d:sync-collection>")
            ) { #expect($0.status == .badRequest) }
            let bomb = """
                <?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
                <d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&b;</d:displayname></d:prop></d:propfind>
                """
            try await client.execute(
                uri: "/dav/public/athletics/", method: Self.propfind, headers: Self.basic("all", depth: "0"),
                body: ByteBuffer(string: bomb)
            ) { #expect($0.status == .badRequest) }
            // An unknown report, an infinite depth, a report on the home.
            try await client.execute(
                uri: "/dav/public/athletics/", method: Self.report, headers: Self.basic("all"),
                body: ByteBuffer(string: "<d:expand-property xmlns:d=\"DAV:\"/>")
            ) { r in
                #expect(r.status == .forbidden && String(buffer: r.body).contains("supported-report"))
            }
            try await client.execute(uri: "/dav/", method: Self.propfind, headers: Self.basic("all", depth: "infinity"))
            { r in
                #expect(r.status == .forbidden && String(buffer: r.body).contains("propfind-finite-depth"))
            }
            // Path tricks: out of /dav, a dot segment, an empty segment, an encoded slash.
            for path in [
                "/dav/../calws", "/dav/public/%2e%2e/athletics/", "/dav/public//athletics/",
                "/dav/public%2Fathletics/x.ics",
            ] {
                try await client.execute(uri: path, method: .get, headers: Self.basic("all")) { r in
                    #expect(r.status == .notFound || r.status == .methodNotAllowed, "\(path): \(r.status)")
                }
            }
            // A PUT that is not calendar data, and one to a collection the token may only read.
            try await client.execute(
                uri: "/dav/public/athletics/b.ics", method: .put, headers: Self.basic("all"),
                body: ByteBuffer(string: "<html>not a calendar</html>")
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/dav/public/holidays/", method: HTTPRequest.Method("MKCALENDAR")!,
                headers: Self.basic("athletics")
            ) { #expect($0.status == .forbidden) }
            #expect(try await revision() == before, "nothing was written")
        }
    }
}

/// Views as read-only calendars: a full view holds its collections' objects; a busy one only
/// busy blocks (no title, no UID of the original); neither takes writes.
@Suite struct CalDAVViewTests {
    @Test func aBusyViewHoldsOnlyBusyBlocksAndAFullViewItsCollectionsObjects() async throws {
        let views = ViewSet([
            View(name: "team", collections: ["/people/alice", "/people/bob"], detail: .busy),
            View(name: "everyone", collections: ["/people/alice", "/people/bob"], detail: .full),
        ])
        let tokens = TokenTable(entries: ["all": Grants(all: true), "peek": Grants([.init("views/team", .freebusy)])])
        let config = TargetConfiguration(
            dataDirectory: TargetProcess.temporaryDirectory().path, port: 0, tokens: tokens, views: views,
            now: { Date(timeIntervalSince1970: 1_772_668_800) })  // 2026-03-05
        let app = try buildTargetApplication(config, logger: .init(label: "test"))
        try await app.test(.router) { client in
            for (uid, who) in [("a@x", "alice"), ("b@x", "bob")] {
                let text =
                    [
                        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", "UID:\(uid)",
                        "DTSTAMP:20260101T000000Z", "DTSTART:20260301T150000Z", "DTEND:20260301T170000Z",
                        "SUMMARY:Match",
                        "END:VEVENT", "END:VCALENDAR",
                    ].joined(separator: "\r\n") + "\r\n"
                let add = CalWSRequest(
                    .addItem(href: "/people/\(who)", calendar: try ICalParser().parse(text).calendars[0]))
                try await client.execute(
                    uri: "/calws", method: .post, headers: TargetApplicationTests.bearer("all"),
                    body: TargetApplicationTests.soap(add)
                ) { #expect($0.status == .ok) }
            }
            let full = try await client.execute(
                uri: "/dav/@views/everyone/", method: CalDAVRequestTests.propfind,
                headers: CalDAVRequestTests.basic("all", depth: "1")
            ) { String(buffer: $0.body) }
            #expect(
                full.contains("/dav/@views/everyone/people@alice@") && full.contains("/dav/@views/everyone/people@bob@")
            )
            #expect(full.contains("sync-token"))

            let feed = try await client.execute(
                uri: "/views/team.ics", method: .get, headers: TargetApplicationTests.bearer("all")
            ) { String(buffer: $0.body) }
            #expect(feed.contains("SUMMARY:Busy"), "the published busy feed: \(feed)")
            let busy = try await client.execute(
                uri: "/dav/@views/team/", method: CalDAVRequestTests.propfind,
                headers: CalDAVRequestTests.basic("peek", depth: "1")
            ) { String(buffer: $0.body) }
            let objects = busy.components(separatedBy: "<d:href>/dav/@views/team/").dropFirst().map {
                String($0.prefix { $0 != "<" })
            }.filter { !$0.isEmpty }
            #expect(objects.count == 2 && objects.allSatisfy { $0.hasSuffix("@busy.outboard.ics") }, "\(busy)")
            let one = try await client.execute(
                uri: "/dav/@views/team/\(objects[0])", method: .get, headers: CalDAVRequestTests.basic("peek")
            ) { String(buffer: $0.body) }
            #expect(one.contains("SUMMARY:Busy") && !one.contains("Match") && !one.contains("a@x"), "\(one)")
            try await client.execute(
                uri: "/dav/@views/team/", method: CalDAVRequestTests.report, headers: CalDAVRequestTests.basic("peek"),
                body: ByteBuffer(string: "<d:sync-collection xmlns:d=\"DAV:\"><d:sync-token/></d:sync-collection>")
            ) { #expect($0.status == .forbidden) }
            try await client.execute(
                uri: "/dav/@views/everyone/x.ics", method: .put, headers: CalDAVRequestTests.basic("all"),
                body: ByteBuffer(string: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
            ) { #expect($0.status == .forbidden) }
            // The busy view's token sees neither the full view nor the collections.
            try await client.execute(
                uri: "/dav/@views/everyone/", method: CalDAVRequestTests.propfind,
                headers: CalDAVRequestTests.basic("peek", depth: "0")
            ) { #expect($0.status == .notFound) }
        }
    }
}

/// `calendar-timezone`, where known: the collection's zone (as the engine reports it) with the
/// VTIMEZONE one of its entities carries; asked for by name.
@Suite struct CalDAVCalendarTimezoneTests {
    @Test func aCollectionsZoneIsItsCalendarTimezone() async throws {
        let app = try TargetApplicationTests.app()
        try await app.test(.router) { client in
            let text =
                (["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"] + CalDAVCalendarTimezoneTests.berlin + [
                    "BEGIN:VEVENT", "UID:z@x", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Europe/Berlin:20260301T150000",
                    "SUMMARY:Zoned", "END:VEVENT", "END:VCALENDAR",
                ]).joined(separator: "\r\n") + "\r\n"
            let add = CalWSRequest(.addItem(href: "/public/zoned", calendar: try ICalParser().parse(text).calendars[0]))
            try await client.execute(
                uri: "/calws", method: .post, headers: TargetApplicationTests.bearer("all"),
                body: TargetApplicationTests.soap(add)
            ) { #expect($0.status == .ok) }
            let ask = ByteBuffer(
                string:
                    "<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:prop><c:calendar-timezone/></d:prop></d:propfind>"
            )
            let before = try await client.execute(
                uri: "/dav/public/zoned/", method: CalDAVRequestTests.propfind,
                headers: CalDAVRequestTests.basic("all", depth: "0"), body: ask
            ) { String(buffer: $0.body) }
            #expect(before.contains("404 Not Found"), "no zone reported yet: \(before)")
            let report = CalWSRequest(
                .reportFreshness(
                    CollectionFreshness(
                        href: "/public/zoned", subscription: "z", refreshInterval: 60, timezone: "Europe/Berlin")))
            try await client.execute(
                uri: "/calws", method: .post, headers: TargetApplicationTests.bearer("all"),
                body: TargetApplicationTests.soap(report)
            ) { #expect($0.status == .ok) }
            let after = try await client.execute(
                uri: "/dav/public/zoned/", method: CalDAVRequestTests.propfind,
                headers: CalDAVRequestTests.basic("all", depth: "0"), body: ask
            ) { String(buffer: $0.body) }
            #expect(after.contains("BEGIN:VTIMEZONE") && after.contains("TZID:Europe/Berlin"), "\(after)")

            // The same object PUT again changes nothing, its ETag included; a changed one gets a new ETag.
            let listed = try await client.execute(
                uri: "/dav/public/zoned/", method: CalDAVRequestTests.propfind,
                headers: CalDAVRequestTests.basic("all", depth: "1")
            ) { String(buffer: $0.body) }
            let href = try #require(
                listed.components(separatedBy: "<d:href>").dropFirst().map { String($0.prefix { $0 != "<" }) }
                    .first { $0.hasSuffix(".ics") })
            let etag = { () async throws -> String? in
                try await client.execute(uri: href, method: .get, headers: CalDAVRequestTests.basic("all")) {
                    $0.headers[.eTag]
                }
            }
            let first = try await etag()
            try await client.execute(
                uri: href, method: .put, headers: CalDAVRequestTests.basic("all"), body: ByteBuffer(string: text)
            ) { #expect($0.status == .noContent && $0.headers[.eTag] == first) }
            #expect(try await etag() == first)
            try await client.execute(
                uri: href, method: .put, headers: CalDAVRequestTests.basic("all"),
                body: ByteBuffer(string: text.replacingOccurrences(of: "SUMMARY:Zoned", with: "SUMMARY:Zoned again"))
            ) { #expect($0.status == .noContent) }
            #expect(try await etag() != first)
        }
    }

    static let berlin = [
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
        "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200", "END:DAYLIGHT", "END:VTIMEZONE",
    ]
}
