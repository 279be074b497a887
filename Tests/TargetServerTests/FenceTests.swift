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

/// Fences against late writes, on the application the executable runs: only a token that may
/// write a collection moves its fence, so a reader cannot fence the writer out.
@Suite struct FenceTests {
    static func app() throws -> some ApplicationProtocol {
        let tokens = TokenTable(entries: [
            "writer": Grants([.init("/c/f")]), "reader": Grants([.init("/c/f", .read)]),
        ])
        let config = TargetConfiguration(
            dataDirectory: TargetProcess.temporaryDirectory().path, port: 0, tokens: tokens)
        return try buildTargetApplication(config, logger: Logger(label: "test"))
    }

    static func add(_ uid: String) throws -> CalWSRequest.Body {
        .addItem(
            href: "/c/f",
            calendar: try CalendarReportsTests.calendar([
                "BEGIN:VEVENT", "UID:\(uid)", "DTSTAMP:20260101T000000Z", "DTSTART:20270101T100000Z", "END:VEVENT",
            ]))
    }

    @Test func onlyAWritersNumbersFenceAndAReadersMoveNothing() async throws {
        try await Self.app().test(.router) { client in
            func call(_ body: CalWSRequest.Body, pass: Int?, token: String) async throws -> CalWSResponse {
                try await CalendarReportsTests.call(
                    client, CalWSRequest(body, pass: pass.map { PassStamp(writer: "engine", number: $0) }), token: token
                )
            }
            #expect(try await call(Self.add("a@x"), pass: 5, token: "writer").result.status == .ok)
            // A reader's read with a far higher number, and its write (refused), fence nothing.
            let list = CalWSRequest.Body.calendarQuery(CalendarQuery(href: "/c/f"))
            #expect(try await call(list, pass: 1_000, token: "reader").result.status == .ok)
            _ = try await CalendarReportsTests.call(
                client, CalWSRequest(try Self.add("b@x"), pass: PassStamp(writer: "engine", number: 2_000)),
                token: "reader",
                status: .forbidden)
            #expect(try await call(Self.add("c@x"), pass: 5, token: "writer").result.status == .ok)
            // The writer's next pass reads; the last pass's late write is refused, nothing applied.
            #expect(try await call(list, pass: 6, token: "writer").result.status == .ok)
            let late = try await call(Self.add("d@x"), pass: 5, token: "writer")
            #expect(late.result.error == .staleWriter && late.result.status == .error, "\(late)")
            guard case .calendarQuery(let entities) = try await call(list, pass: nil, token: "writer").body else {
                Issue.record("no listing")
                return
            }
            #expect(entities.count == 2)
        }
    }
}
