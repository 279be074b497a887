import CalendarModel
import CalWS
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOCore
import SyncCore
@testable import TargetServer
import Testing
import TestSupport

/// The target stores only what it can serve back, and one entity it cannot read never takes a
/// collection's feed or queries down: in process on the application the executable runs.
@Suite struct ServeBackTests {
    static func feed(_ client: some TestClientProtocol, _ collection: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/calendars" + collection + ".ics", method: .get, headers: [.authorization: "Bearer all"])
    }

    @Test func anEntityTooLargeToServeBackIsRefusedNamingTheLimit() async throws {
        try await TargetApplicationTests.app().test(.router) { client in
            let calws = TargetApplicationTests.CalWSCaller(client: client)
            let c = "/t/big"
            _ = try await calws.add(try event("small@x", "Small"), to: c)
            // 3 MiB of commas: escaped, the SUMMARY line would be 6 MiB, past the reader's 4 MiB.
            let commas = ICalProperty("SUMMARY", .text(String(repeating: ",", count: 3 << 20)))
            var huge = try event("huge@x", "")
            huge.components[0].properties.removeAll { $0.name == "SUMMARY" }
            huge.components[0].properties.append(commas)
            let tooLarge = try await calws.refusal(.addItem(href: c, calendar: huge))
            #expect(tooLarge.error == .exceedsMaxResourceSize, "\(tooLarge)")
            #expect(tooLarge.message?.contains("\(Entities.maxEntityBytes) bytes") == true, "\(tooLarge)")
            // An update that would grow an entity past the limit is refused the same way.
            let small = try #require(try await calws.fetch(uid: "small@x", in: c))
            let smallCalendar = try #require(small.calendar)
            var grown = try event("small@x", "")
            grown.components[0].properties.removeAll { $0.name == "SUMMARY" }
            grown.components[0].properties.append(commas)
            let update = Differ.diff(source: item(grown), target: item(smallCalendar), skip: .defaults)
            let updateError = try await calws.refusal(
                .updateItem(href: small.href, changeToken: small.changeToken, update: update))
            #expect(updateError.error == .exceedsMaxResourceSize, "\(updateError)")
            let served = try await Self.feed(client, c)
            #expect(served.status == .ok)
            #expect(String(buffer: served.body).contains("UID:small@x"))
            #expect(try await calws.list(c).count == 1)
        }
    }

    @Test func anUnreadableStoredEntityIsLeftOutAndCountedNotFatal() async throws {
        let dir = TargetProcess.temporaryDirectory()
        try await TargetApplicationTests.app(directory: dir).test(.router) { client in
            let calws = TargetApplicationTests.CalWSCaller(client: client)
            let c = "/t/broken"
            _ = try await calws.add(try event("good@x", "Good"), to: c)
            _ = try await calws.add(try event("bad@x", "Bad"), to: c)
            // An entity the store holds but cannot read (an older version wrote it, or a hand edit).
            let db = try DatabaseQueue(path: dir.appendingPathComponent("target.sqlite").path)
            try await db.write { db in
                try db.execute(
                    sql: "UPDATE entity SET data = ? WHERE uid = 'bad@x'",
                    arguments: [
                        "BEGIN:VCALENDAR\r\nSUMMARY:" + String(repeating: "x", count: 5 << 20) + "\r\nEND:VCALENDAR\r\n"
                    ])
            }
            try db.close()
            let served = try await Self.feed(client, c)
            #expect(served.status == .ok)
            let text = String(buffer: served.body)
            #expect(text.contains("UID:good@x") && !text.contains("UID:bad@x"))
            let whole = try await calws.entities(.calendarQuery(CalendarQuery(href: c, allData: true)))
            #expect(whole.compactMap { $0.calendar?.components.first?.uid } == ["good@x"])
            let fetchError = try await calws.refusal(.fetchItem(href: c + "/bad@x.ics"))
            #expect(fetchError.error == .invalidCalendarData, "\(fetchError)")
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains("outboard_target_unreadable_entities_total 3"), "\(metrics)")
        }
    }
}
