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

/// The real `outboard-target serve` binary, each test with a process of its own, for what only
/// the executable does: its flags (`--port 0`, `--data`, `--tokens`, the OUTBOARD_TARGET_TOKEN
/// environment variable), its "listening on" line, a graceful exit on SIGTERM, and a restart on
/// the same data directory after SIGKILL; and the engine's `TargetClient` over real HTTP against
/// it. What the server answers is tested in process on `buildTargetApplication`
/// (TargetApplicationTests and the suites beside it), which needs no process.
@Suite struct TargetBinaryTests {
    @Test func startsOnAFreePortAnswersOverHTTPAndExitsCleanlyOnSIGTERM() async throws {
        let server = try TargetProcess.start()
        #expect(server.port > 0, "port 0 picks a free port, printed once listening")
        let client = TargetClient(endpoint: server.endpoint, token: TargetProcess.token)
        let (href, token) = try await client.addItem(collection: "/t/basic", calendar: try event("e1@x", "Match"))
        #expect(href == "/t/basic/e1@x.ics")
        #expect(try await client.fetchItem(href: href).changeToken == token)
        #expect(try await CurlHTTPClient().send(HTTPRequest(url: server.base + "/health")).status == 200)
        server.stop()
        #expect(server.process.terminationReason == .exit)
        #expect(server.process.terminationStatus == 0)
    }

    /// `--tokens FILE` and no OUTBOARD_TARGET_TOKEN: the file's tokens with their grants (a
    /// comment line, a collection, `*`), and no other token; the refusals as the client reports them.
    @Test func serveGrantsWhatItsTokensFileSaysAndNoOtherToken() async throws {
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
        // A write with a token the target does not know.
        let unknown = await clientError {
            _ = try await nobody.addItem(collection: "/public/athletics", calendar: try event("u@x", "Unknown token"))
        }
        #expect(unknown == .unauthorized(endpoint: server.endpoint))
        // A multiOp touching a collection it may not write is refused whole, named as the client names it.
        let mixed = [
            CalWSRequest(.addItem(href: "/public/athletics", calendar: try event("c@x", "Granted"))),
            CalWSRequest(.addItem(href: "/public/holidays", calendar: try event("d@x", "Not granted"))),
        ]
        let partly = await clientError { _ = try await athletics.multiOp(mixed) }
        #expect(partly == .forbidden(href: "multiOp", message: "this token is not granted /public/holidays"))
        // `*` reads everything: the one granted entity.
        #expect(try await admin.list(collection: "/public/athletics").map(\.href) == [granted])
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
