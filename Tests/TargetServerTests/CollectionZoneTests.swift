import CalendarModel
import CalWS
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import TargetServer
import SyncCore
import Testing
import TestSupport

/// A collection's zone (reported with its freshness, Outboard's extension of CalWS): its floating
/// times and DATE values are placed in it everywhere the target turns instances into instants,
/// whatever zone a query names; a collection without one keeps the query's.
@Suite struct CollectionZoneTests {
    /// An all-day holiday on Saturday 9 January 2027 and a floating meeting on Monday 11 January
    /// 09:00–10:00, in `/sport/zoned` (Berlin) and `/sport/plain` (no zone).
    static func seeded(_ client: some TestClientProtocol, zone: String? = "Europe/Berlin") async throws {
        let events = [
            [
                "BEGIN:VEVENT", "UID:holiday", "DTSTAMP:20261101T000000Z", "DTSTART;VALUE=DATE:20270109",
                "DTEND;VALUE=DATE:20270110", "SUMMARY:Holiday", "END:VEVENT",
            ],
            [
                "BEGIN:VEVENT", "UID:meeting", "DTSTAMP:20261101T000000Z", "DTSTART:20270111T090000",
                "DTEND:20270111T100000", "SUMMARY:Meeting", "END:VEVENT",
            ],
        ]
        for collection in ["/sport/zoned", "/sport/plain"] {
            for lines in events {
                let r = try await CalendarReportsTests.call(
                    client, CalWSRequest(.addItem(href: collection, calendar: try CalendarReportsTests.calendar(lines)))
                )
                #expect(r.result.status == .ok)
            }
        }
        try await report(client, "/sport/zoned", zone: zone)
        try await report(client, "/sport/plain", zone: nil)
    }

    static func report(_ client: some TestClientProtocol, _ collection: String, zone: String?) async throws {
        let r = try await CalendarReportsTests.call(
            client,
            CalWSRequest(
                .reportFreshness(
                    CollectionFreshness(
                        href: collection, subscription: "s", refreshInterval: 3600, timezone: zone))))
        #expect(r.result.status == .ok)
    }

    static func busy(_ client: some TestClientProtocol, _ member: String, zone: String) async throws -> [String] {
        let answer = try await AvailabilityTests.ask(
            client,
            """
            {"participants": [{"members": ["\(member)"]}],
             "query_periods": [{"start": "2027-01-08T00:00:00Z", "end": "2027-01-13T00:00:00Z"}],
             "response_format": "busy", "zone": "\(zone)"}
            """)
        return (answer["busy"] as? [[String: String]] ?? []).map { "\($0["start"]!)–\($0["end"]!)" }
    }

    @Test func availabilityPlacesAZonedCollectionsDaysInItsZoneWhateverTheQuerysZone() async throws {
        try await CalendarReportsTests.app().test(.router) { client in
            try await Self.seeded(client)
            let berlin = ["2027-01-08T23:00:00Z–2027-01-09T23:00:00Z", "2027-01-11T08:00:00Z–2027-01-11T09:00:00Z"]
            #expect(try await Self.busy(client, "/sport/zoned", zone: "America/New_York") == berlin)
            #expect(try await Self.busy(client, "/sport/zoned", zone: "UTC") == berlin)
            // Without a zone, the query's zone places them (New York: UTC-5).
            #expect(
                try await Self.busy(client, "/sport/plain", zone: "America/New_York") == [
                    "2027-01-09T05:00:00Z–2027-01-10T05:00:00Z", "2027-01-11T14:00:00Z–2027-01-11T15:00:00Z",
                ])
            // A changed zone applies at once, with no re-indexing; a report without one removes it.
            try await Self.report(client, "/sport/zoned", zone: "Asia/Tokyo")
            #expect(
                try await Self.busy(client, "/sport/zoned", zone: "UTC") == [
                    "2027-01-08T15:00:00Z–2027-01-09T15:00:00Z", "2027-01-11T00:00:00Z–2027-01-11T01:00:00Z",
                ])
            try await Self.report(client, "/sport/zoned", zone: nil)
            #expect(
                try await Self.busy(client, "/sport/zoned", zone: "UTC") == [
                    "2027-01-09T00:00:00Z–2027-01-10T00:00:00Z", "2027-01-11T09:00:00Z–2027-01-11T10:00:00Z",
                ])
        }
    }

    @Test func freebusyReportAndExpandedQueriesPlaceFloatingTimesInTheCollectionsZone() async throws {
        try await CalendarReportsTests.app().test(.router) { client in
            try await Self.seeded(client)
            let range = UTCRange(start: CalendarReportsTests.utc(8), end: CalendarReportsTests.utc(13))
            let fb = try await CalendarReportsTests.call(
                client, CalWSRequest(.freebusyReport(href: "/sport/zoned", range: range)))
            #expect(
                try CalendarReportsTests.freebusyLines(fb).last
                    == "FREEBUSY;FBTYPE=BUSY:20270108T230000Z/20270109T230000Z,20270111T080000Z/20270111T090000Z")
            let query = try await CalendarReportsTests.call(
                client, CalWSRequest(.calendarQuery(CalendarQuery(href: "/sport/zoned", allData: true, expand: range))))
            guard case .calendarQuery(let entities) = query.body else {
                Issue.record("not a query answer: \(query)")
                return
            }
            let starts = entities.compactMap { $0.calendar?.components.first?.property("DTSTART") }.map {
                ICalWriter.string([ICalComponent(name: "X", properties: [$0])])
            }
            // The all-day event stays a date; the floating meeting is 08:00 UTC (09:00 in Berlin).
            #expect(starts.contains { $0.contains("DTSTART:20270111T080000Z") }, "\(starts)")
            #expect(starts.contains { $0.contains("DTSTART;VALUE=DATE:20270109") }, "\(starts)")

            let properties = try await CalendarReportsTests.call(
                client, CalWSRequest(.getProperties(href: "/sport/zoned")))
            guard case .getProperties(let p?) = properties.body else {
                Issue.record("no properties: \(properties)")
                return
            }
            #expect(p.timezone == "Europe/Berlin")
        }
    }

    @Test func publishedFeedsCarryTheZoneAndBusyFeedsPlaceInIt() async throws {
        try await CalendarReportsTests.app().test(.router) { client in
            try await Self.seeded(client)
            func get(_ uri: String) async throws -> (String, String?) {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer all"]) { r in
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                    return (String(buffer: r.body), r.headers[.eTag])
                }
            }
            let (full, fullTag) = try await get("/calendars/sport/zoned.ics")
            #expect(full.contains("X-WR-TIMEZONE:Europe/Berlin\r\n"))
            let (plain, _) = try await get("/calendars/sport/plain.ics")
            #expect(!plain.contains("X-WR-TIMEZONE"))
            let (busy, _) = try await get("/calendars/sport/zoned.ics?view=busy&zone=America/New_York")
            #expect(busy.contains("X-WR-TIMEZONE:Europe/Berlin\r\n"))
            #expect(busy.contains("DTSTART:20270108T230000Z\r\n") && busy.contains("DTSTART:20270111T080000Z\r\n"))
            // A new zone is a new feed: its ETag changes though no entity did.
            try await Self.report(client, "/sport/zoned", zone: "Asia/Tokyo")
            let (_, tokyoTag) = try await get("/calendars/sport/zoned.ics")
            #expect(fullTag != nil && tokyoTag != fullTag)
        }
    }
}
