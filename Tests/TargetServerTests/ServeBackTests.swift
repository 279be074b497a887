import CalendarModel
import CalWS
import Engine
import EngineAdapters
import SyncCore
import Foundation
import GRDB
@testable import TargetServer
import Testing
import TestSupport

/// The target stores only what it can serve back, and one entity it cannot read never takes a
/// collection's feed or queries down.
extension TargetServerTests {
    func feed(_ collection: String) async throws -> HTTPResponse {
        try await CurlHTTPClient().send(
            HTTPRequest(
                url: server.base + "/calendars" + collection + ".ics",
                headers: [("Authorization", "Bearer \(TargetProcess.token)")]))
    }

    @Test func anEntityTooLargeToServeBackIsRefusedNamingTheLimit() async throws {
        let c = "/t/big"
        _ = try await client.addItem(collection: c, calendar: try event("small@x", "Small"))
        // 3 MiB of commas: escaped, the SUMMARY line would be 6 MiB, past the reader's 4 MiB.
        let commas = ICalProperty("SUMMARY", .text(String(repeating: ",", count: 3 << 20)))
        var huge = try event("huge@x", "")
        huge.components[0].properties.removeAll { $0.name == "SUMMARY" }
        huge.components[0].properties.append(commas)
        let error = await clientError { _ = try await self.client.addItem(collection: c, calendar: huge) }
        #expect(error?.kind == .exceedsMaxResourceSize, "\(String(describing: error))")
        #expect("\(String(describing: error))".contains("\(Entities.maxEntityBytes) bytes"))
        // An update that would grow an entity past the limit is refused the same way.
        let small = try #require(try await client.fetch(uid: "small@x", in: c))
        var grown = try event("small@x", "")
        grown.components[0].properties.removeAll { $0.name == "SUMMARY" }
        grown.components[0].properties.append(commas)
        let update = Differ.diff(source: item(grown), target: item(small.calendar!), skip: .defaults)
        let updateError = await clientError {
            _ = try await self.client.updateItem(href: small.href, changeToken: small.changeToken, update: update)
        }
        #expect(updateError?.kind == .exceedsMaxResourceSize, "\(String(describing: updateError))")
        let served = try await feed(c)
        #expect(served.status == 200)
        #expect(String(decoding: served.body, as: UTF8.self).contains("UID:small@x"))
        #expect(try await client.list(collection: c).count == 1)
    }

    @Test func anUnreadableStoredEntityIsLeftOutAndCountedNotFatal() async throws {
        let c = "/t/broken"
        _ = try await client.addItem(collection: c, calendar: try event("good@x", "Good"))
        _ = try await client.addItem(collection: c, calendar: try event("bad@x", "Bad"))
        // An entity the store holds but cannot read (an older version wrote it, or a hand edit).
        let db = try DatabaseQueue(path: server.dataDirectory.appendingPathComponent("target.sqlite").path)
        try await db.write { db in
            try db.execute(
                sql: "UPDATE entity SET data = ? WHERE uid = 'bad@x'",
                arguments: [
                    "BEGIN:VCALENDAR\r\nSUMMARY:" + String(repeating: "x", count: 5 << 20) + "\r\nEND:VCALENDAR\r\n"
                ])
        }
        let served = try await feed(c)
        #expect(served.status == 200)
        let text = String(decoding: served.body, as: UTF8.self)
        #expect(text.contains("UID:good@x") && !text.contains("UID:bad@x"))
        #expect(
            try await client.list(collection: c, allData: true).compactMap { $0.calendar?.components.first?.uid } == [
                "good@x"
            ])
        let fetchError = await clientError { _ = try await self.client.fetchItem(href: c + "/bad@x.ics") }
        #expect(fetchError?.kind == .invalidCalendarData, "\(String(describing: fetchError))")
        let metrics = String(
            decoding: try await CurlHTTPClient().send(HTTPRequest(url: server.base + "/metrics")).body, as: UTF8.self)
        #expect(metrics.contains("outboard_target_unreadable_entities_total 3"), "\(metrics)")
    }
}
