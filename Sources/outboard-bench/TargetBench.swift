import CalendarModel
import CalWS
import Engine
import EngineAdapters
import Foundation
import SyncCore
import TestSupport

/// `outboard-bench target`: the reference target over HTTP on 127.0.0.1: the `outboard-target`
/// built beside this executable (`TargetProcess`), with a fresh data directory, stopped after.
enum TargetBench {
    static func run() async throws {
        let target = try TargetProcess.start(environmentToken: "bench")
        defer {
            target.stop()
            try? FileManager.default.removeItem(at: target.dataDirectory)
        }
        let port = target.port
        let client = TargetClient(endpoint: target.endpoint, token: "bench")
        print("target: outboard-target on 127.0.0.1:\(port), data in a fresh SQLite file")

        // 10,000 adds in multiOp batches of 200.
        let total = 10_000
        let batch = 200
        var hrefs: [(String, String)] = []
        let start = DispatchTime.now().uptimeNanoseconds
        for b in stride(from: 0, to: total, by: batch) {
            let ops = (b..<min(b + batch, total)).map { i in
                CalWSRequest(.addItem(href: "/bench/events", calendar: event(i, "Event \(i)")))
            }
            let responses = try await client.multiOp(ops)
            for r in responses { if case .addItem(let h?, let t?) = r.body { hrefs.append((h, t)) } }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(
            String(
                format: "multiOp adds: %d entities in %.2f s = %.0f entity writes/s (batches of %d; goal 5,000/s)",
                hrefs.count, seconds, Double(hrefs.count) / seconds, batch))

        // 1,000 single-property updates, one updateItem each.
        var latencies: [Double] = []
        for i in 0..<1000 {
            let (href, token) = hrefs[i]
            let update = Differ.diff(source: item(event(i, "Event \(i) (moved)")), target: item(event(i, "Event \(i)")))
            let t0 = DispatchTime.now().uptimeNanoseconds
            let newToken = try await client.updateItem(href: href, changeToken: token, update: update)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            hrefs[i].1 = newToken
        }
        latencies.sort()
        print(
            String(
                format:
                    "updateItem (one SUMMARY change): p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d calls (goal p99 under 10 ms)",
                latencies[latencies.count / 2], latencies[latencies.count * 99 / 100], latencies.last!, latencies.count)
        )
    }

    static func event(_ i: Int, _ summary: String) -> ICalComponent {
        let day = 1 + i % 28
        let month = 1 + (i / 28) % 12
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return ICalComponent(
            name: "VCALENDAR", properties: ICalItem.defaultCalendarProperties,
            components: [
                ICalComponent(
                    name: "VEVENT",
                    properties: [
                        ICalProperty("UID", .text("bench-\(i)@outboard.test")),
                        ICalProperty(
                            "DTSTAMP",
                            .dateTime(.init(year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0, isUTC: true))),
                        ICalProperty(
                            "DTSTART",
                            .dateTime(
                                .init(year: 2027, month: month, day: day, hour: 18, minute: 0, second: 0, isUTC: true))),
                        ICalProperty(
                            "DTEND",
                            .dateTime(
                                .init(year: 2027, month: month, day: day, hour: 20, minute: 0, second: 0, isUTC: true))),
                        ICalProperty("SUMMARY", .text(summary)),
                        ICalProperty("LOCATION", .text("Hall \(i % 7)")),
                        ICalProperty("CATEGORIES", .text("Sport")),
                    ])
            ])
    }

    static func item(_ c: ICalComponent) -> ICalItem { ItemGrouper.items(from: ICalDocument(calendars: [c])).items[0] }
}
