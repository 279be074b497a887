import CalendarModel
import CalWS
import Engine
import EngineAdapters
import Filters
import Foundation
import Hummingbird
import NIOCore
import ServerSupport
import Testing
import TestSupport

/// Kills `p` (SIGKILL) `after` microseconds once `condition` holds (or once 60 s have passed), and
/// waits for it to end. A thread of its own watches and kills, so the moment does not wait for the
/// test's task to be scheduled on a busy test run.
func killWhen(_ p: Process, after delay: UInt32 = 0, _ condition: @escaping @Sendable () -> Bool) {
    signalWhen(p, SIGKILL, after: delay, condition)
    p.waitForExit()
}

/// Sends `signal` to `p` `after` microseconds once `condition` holds (or once 60 s have passed),
/// from a thread of its own that polls every millisecond; returns at once.
func signalWhen(
    _ p: Process, _ signal: Int32, after delay: UInt32 = 0, _ condition: @escaping @Sendable () -> Bool
) {
    let watcher = Thread {
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning, Date() < deadline, !condition() { usleep(1000) }
        usleep(delay)
        if p.isRunning { kill(p.processIdentifier, signal) }
    }
    watcher.start()
}

/// How the target's collection differs from the feed's items after `pipeline`, by canonical hash
/// (missing, extra, other content), or nil when it holds exactly the feed.
func divergence(
    _ client: TargetClient, _ collection: String, feed bytes: [UInt8], pipeline: FilterPipeline = FilterPipeline([])
) async throws -> String? {
    var want: [String: String] = [:]
    for item in ItemGrouper.items(from: try ICalParser().parse(bytes)).items {
        guard case .kept(let kept, _) = pipeline.run(item, now: .utc(Date())) else { continue }
        want[kept.key] = ItemHasher.hashes(of: [kept], skipping: pipeline.skipList)[0]
    }
    var have: [String: String] = [:]
    for e in try await client.list(collection: collection, allData: true) {
        for item in ItemGrouper.items(from: ICalDocument(calendars: [e.calendar!])).items {
            if have[item.key] != nil { return "\(item.key) twice" }
            have[item.key] = ItemHasher.hashes(of: [item], skipping: pipeline.skipList)[0]
        }
    }
    let missing = want.keys.filter { have[$0] == nil }
    let extra = have.keys.filter { want[$0] == nil }
    let other = want.keys.filter { have[$0] != nil && have[$0] != want[$0] }
    if missing.isEmpty, extra.isEmpty, other.isEmpty { return nil }
    return
        "\(missing.count) missing, \(extra.count) extra, \(other.count) with other content (e.g. \((missing + extra + other).prefix(3)))"
}

/// How the status store and the target disagree, item by item (nil: they agree): each item state
/// must name an entity the target holds, by href and current change token, and each entity must
/// have its item state.
func storeDisagreement(_ bed: Bed, _ id: String, _ collection: String) async throws -> String? {
    let recorded = try bed.store.items(id)
    var problems: [String] = []
    var seen = Set<String>()
    for e in try await bed.client.list(collection: collection) {
        guard let uid = e.calendar?.components.first?.uid else { continue }
        seen.insert(uid)
        guard let state = recorded[uid] else {
            problems.append("\(uid) is on the target only")
            continue
        }
        if state.href != e.href || state.changeToken != e.changeToken {
            problems.append(
                "\(uid): recorded \(state.href) \(state.changeToken), on the target \(e.href) \(e.changeToken)")
        }
    }
    problems += recorded.keys.filter { !seen.contains($0) }.map { "\($0) is in the store only" }
    return problems.isEmpty ? nil : problems.sorted().prefix(5).joined(separator: "; ")
}

/// The cases of issue 14, each with nginx and the real reference target: after any of them, one
/// ordinary pass leaves the target equal to the feed, and the one after says nothing to do.
@Suite struct DivergenceTests {
    /// The real `outboard sync` of one subscription, in a directory of its own.
    struct EngineRun {
        let subs: URL, filters: URL, state: URL, env: [String: String]

        init(bed: Bed, url: String, collection: String) throws {
            let dir = TargetProcess.temporaryDirectory()
            subs = dir.appendingPathComponent("Subscriptions")
            filters = dir.appendingPathComponent("Filters")
            state = bed.state
            env = bed.env
            try FileManager.default.createDirectory(at: subs, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: filters, withIntermediateDirectories: true)
            try
                "source:\n  url: \(url)\ntarget:\n  url: \(bed.target.endpoint)\n  collection: \(collection)\n  token-env: TEST_TARGET_TOKEN\nguard:\n  max-delete-fraction: 1\n"
                .write(to: subs.appendingPathComponent("s.yaml"), atomically: true, encoding: .utf8)
        }

        func process() -> Process {
            let p = Process()
            p.executableURL = TargetProcess.executable.deletingLastPathComponent().appendingPathComponent("outboard")
            p.arguments = ["sync", "s", "--subscriptions", subs.path, "--filters", filters.path, "--state", state.path]
            p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            return p
        }

        var subscription: Subscription {
            get throws {
                try SubscriptionLoader.load(
                    id: "s", text: try String(contentsOf: subs.appendingPathComponent("s.yaml"), encoding: .utf8),
                    file: "s.yaml", filters: [:], environment: env
                ).get()
            }
        }
    }

    @Test func passesKilledAtRandomOverAChangingFeedEndExactWithoutReconcile() async throws {
        let bed = try Bed()
        let engine = try EngineRun(bed: bed, url: bed.nginx.url("k.ics"), collection: "/t/kill")
        var rng = SplitMix64(seed: 14)
        var feed = SimulatedFeed(count: 500, rng: &rng)
        var versions: [[UInt8]] = []
        var killedMidPass = 0
        for round in 0..<10 {
            // A new export, changing about half of the items; twice, the one before it again,
            // byte for byte (a killed pass of A, then B once more).
            if round % 4 == 3, versions.count >= 2 {
                versions.append(versions[versions.count - 2])
            } else {
                feed.evolve(&rng)
                feed.evolve(&rng)
                versions.append(feed.bytes)
            }
            try bed.nginx.put("k.ics", versions.last!)
            let p = engine.process()
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            let before = try bed.store.feed("s").lastAttempt
            try p.run()
            if round == 0 {
                await p.exited()
                continue
            }
            // Killed once it has begun writing (just before its first write, the pass records its
            // start with its intents), after a random moment more. A thread of its own watches and
            // kills, so the timing does not wait for the test's task to be scheduled.
            let store = bed.store
            killWhen(p, after: UInt32.random(in: 0...15_000, using: &rng)) {
                (try? store.feed("s").lastAttempt) != before
            }
            if try bed.store.feed("s").passOpen != nil { killedMidPass += 1 }
        }
        #expect(killedMidPass >= 3, "passes were killed while they wrote (\(killedMidPass) of 9)")
        // The last export is an earlier one again, byte for byte: what the killed passes wrote
        // of the later ones must be taken back.
        versions.append(versions[versions.count - 3])
        try bed.nginx.put("k.ics", versions.last!)
        // A killed engine's last writes may still be on their way: none may land after the next
        // pass has looked (`aWriteThatLandsAfterTheNextPassLookedForIt…` covers writes that do).
        try bed.drainTarget()
        let s = try engine.subscription
        func pass(_ now: Date = Date()) async -> SyncReport {
            await SyncPass(
                subscription: s, filters: FilterPipeline([]), store: bed.store, target: bed.calws, source: FeedFetcher()
            ).run(
                now: now)
        }
        let r = await pass()
        #expect(r.succeeded, "\(r.error ?? "") \(r.failed.prefix(3))")
        let diverged = try await divergence(bed.client, "/t/kill", feed: versions.last!)
        #expect(diverged == nil, "\(diverged ?? "")")
        let disagree = try await storeDisagreement(bed, "s", "/t/kill")
        #expect(disagree == nil, "\(disagree ?? "")")
        await expectConverged(pass)
    }

    @Test func aGuardTrippedPassThatWroteIsNotForgottenBehindA304() async throws {
        let bed = try Bed()
        let all = feed((1...10).map { match($0) })
        try bed.nginx.put("g.ics", all)
        let url = bed.nginx.root.appendingPathComponent("g.ics")
        let original = try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as! Date
        let s = try bed.subscription("g", feed: "g.ics", collection: "/t/guard")
        #expect(await bed.pass(s).succeeded)
        // 80% gone and one title changed: the guard stops the deletions, the update is applied.
        try bed.nginx.put("g.ics", feed([match(1, summary: "Renamed"), match(2)]))
        let tripped = await bed.pass(s)
        #expect(tripped.errorKind == .guard)
        #expect(try await bed.summaries("/t/guard")["match-1@club"] == "Renamed")
        // The feed returns, with the same ETag (nginx: mtime and size): a conditional GET would be a 304.
        try Data(all).write(to: url)
        try FileManager.default.setAttributes([.modificationDate: original], ofItemAtPath: url.path)
        let back = await bed.pass(s)
        #expect(back.succeeded && !back.notModified, "\(back.error ?? "")")
        #expect(back.updated.map(\.key) == ["match-1@club"])
        let diverged = try await divergence(
            bed.client, "/t/guard", feed: all,
            pipeline: FilterPipeline(input: [bed.filters["strip-alarms"]!], output: []))
        #expect(diverged == nil, "\(diverged ?? "")")
        #expect(await bed.pass(s).notModified)
    }

    @Test func aSecondPassOfTheSameSubscriptionSaysWhichProcessIsRunningOne() async throws {
        let bed = try Bed()
        try bed.nginx.put("l.ics", feed([match(1)]))
        let engine = try EngineRun(bed: bed, url: bed.nginx.url("l.ics"), collection: "/t/lock")
        // This process holds the pass lock, as a running daemon's pass would.
        let lease = try await bed.store.lockPass("s", wait: 0)
        let p = engine.process()
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        await p.exited()  // about 5 s: it waits that long for the lock before it gives up
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 1)
        #expect(text.contains("a pass of s is already running"), "\(text)")
        #expect(text.contains("by process \(getpid())"), "\(text)")
        #expect(!text.contains("SQLite"), "\(text)")
        lease.release()
        // Once it is released, the next pass runs.
        let r = await SyncPass(
            subscription: try engine.subscription, filters: FilterPipeline([]), store: bed.store, target: bed.calws,
            source: FeedFetcher()
        ).run()
        #expect(r.succeeded, "\(r.error ?? "")")
    }

    @Test func aDeadTargetStopsThePassAfterItsFirstBatchesNotOneRequestPerItem() async throws {
        let bed = try Bed()
        try bed.nginx.put("d.ics", feed((1...9).map { match($0) }))
        let s = try bed.subscription("d", feed: "d.ics", collection: "/t/dead")
        #expect(await bed.pass(s).succeeded)
        // 900 new events, and the target gone.
        let many = (100..<1000).map { n in
            [
                "BEGIN:VEVENT", "UID:new-\(n)@club", "DTSTAMP:20260101T000000Z", "DTSTART:20260401T100000Z",
                "SUMMARY:New \(n)", "END:VEVENT",
            ]
        }
        try bed.nginx.put("d.ics", feed((1...9).map { match($0) } + many))
        bed.target.stop()
        let r = await bed.pass(s)
        #expect(r.errorKind == .target)
        #expect(
            r.failed.count <= 300, "at most the batches in flight fail, not one request per item: \(r.failed.count)")
        #expect(r.error?.contains("not sent") == true, "\(r.error ?? "")")
        // Back up (elsewhere): the next pass checks the unanswered writes and completes.
        bed.target = try TargetProcess.start(dataDirectory: bed.target.dataDirectory)
        let next = await bed.pass(s)
        #expect(next.succeeded, "\(next.error ?? "")")
        #expect(try await bed.client.list(collection: "/t/dead").count == 909)
    }
}

@Suite struct RedactionTests {
    @Test(arguments: [
        ("https://club:hunter2@feeds.example.org/cal.ics?token=s3cret#x", "https://feeds.example.org/cal.ics?…"),
        ("http://feeds.example.org:8080/a/b.ics", "http://feeds.example.org:8080/a/b.ics"),
        ("webcal://u@h/x?k=v", "webcal://h/x?…"),
        ("not a url with:pw@host?key=abc", "host?…"),
        ("http://user:p@ss@host/", "http://host/"),
    ])
    func urlsLoseTheirUserinfoAndQuery(raw: String, shown: String) {
        #expect(Redact.url(raw) == shown)
    }

    @Test func aFeedURLThatFailsValidationIsShownWithoutItsSecrets() {
        let yaml =
            "source:\n  url: \"ftp://club:hunter2@feeds.example.org/cal.ics?token=s3cret\"\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n"
        guard
            case .failure(let problems) = SubscriptionLoader.load(
                id: "x", text: yaml, file: "x.yaml", filters: [:], environment: ["T": "t"])
        else {
            Issue.record("the URL was accepted")
            return
        }
        let text = problems.problems.map(\.description).joined(separator: "\n")
        #expect(text.contains("x.yaml:2"), "\(text)")
        #expect(text.contains("ftp://feeds.example.org/cal.ics?…"), "\(text)")
        #expect(!text.contains("hunter2") && !text.contains("s3cret"), "\(text)")
    }
}

/// A gateway in front of the target that passes reads on. In the first two modes it answers every
/// write with a 504 of its own: it either forwards the write first and waits for the target's
/// answer (the write is applied, its answer lost: issue 14, case 3), or holds it and forwards it
/// only when `release` is called (the write lands late, after its pass has given up on it, as a
/// write queued in a busy proxy or in a target's socket buffer after the engine died). In the
/// third it passes the first `after` writes on and makes the later ones wait until `open` is
/// called (then passes them on too): a pass is stopped mid-way however fast engine and target are.
final class WriteGateway: Sendable {
    enum Mode {
        case loseAnswers, hold
        case gate(after: Int)
    }

    let task: Task<Void, Error>
    let endpoint: String
    private let target: String
    private let held: Held

    /// The writes held back, each as its headers and body, in the order they came.
    final class Held: @unchecked Sendable {
        // Unchecked: every field is read and written under `lock`.
        let lock = NSLock()
        var writes: [([(String, String)], [UInt8])] = []
        var seen = 0, waiting = 0, forwarded = 0
        var open = false
    }

    private init(task: Task<Void, Error>, port: Int, target: String, held: Held) {
        self.task = task
        endpoint = "http://127.0.0.1:\(port)/calws"
        self.target = target
        self.held = held
    }

    static func start(forwardingTo target: String, _ mode: Mode) async throws -> WriteGateway {
        let held = Held()
        let router = Router()
        router.post("calws") { request, _ -> Response in
            var request = request
            let body = Array(buffer: try await request.collectBody(upTo: 64 << 20))
            let forwarded: Set<String> = ["content-type", "authorization", "soapaction"]
            let headers = request.headers.filter { forwarded.contains($0.name.canonicalName) }.map {
                ($0.name.rawName, $0.value)
            }
            let action = request.headers.first { $0.name.canonicalName == "soapaction" }?.value ?? ""
            let write = ["multiOp", "addItem", "updateItem", "deleteItem"].contains { action.contains("/\($0)") }
            switch mode {
            case .hold where write:
                held.lock.withLock { held.writes.append((headers, body)) }
            case .loseAnswers where write:
                _ = try await CurlHTTPClient().send(
                    EngineAdapters.HTTPRequest(method: "POST", url: target, headers: headers, body: body))
            default:
                if case .gate(let after) = mode, write {
                    let waits = held.lock.withLock {
                        held.seen += 1
                        if held.seen > after && !held.open { held.waiting += 1 }
                        return held.seen > after && !held.open
                    }
                    // A held write is forwarded once the gate opens even when its engine is gone
                    // (its connection closed, the handler cancelled): it arrives late.
                    while waits, !held.lock.withLock({ held.open }) {
                        if (try? await Task.sleep(nanoseconds: 5_000_000)) == nil { usleep(5000) }
                    }
                }
                let answer = try await CurlHTTPClient().send(
                    EngineAdapters.HTTPRequest(method: "POST", url: target, headers: headers, body: body))
                if write { held.lock.withLock { held.forwarded += 1 } }
                return Response(
                    status: .init(code: answer.status),
                    headers: [.contentType: answer.header("content-type") ?? "text/xml"],
                    body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
            return Response(
                status: .gatewayTimeout, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "upstream timed out\n")))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        let task = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return WriteGateway(task: task, port: port, target: target, held: held)
    }

    /// Forwards the held writes to the target, in order; returns how many the target applied
    /// and the CalWS errors of those it refused. `strippingPass` takes their pass number out
    /// (`O:pass`, in the SOAP header), as from an engine that does not number its passes.
    @discardableResult
    func release(strippingPass: Bool = false) async throws -> (applied: Int, refused: [String]) {
        let writes = held.lock.withLock {
            defer { held.writes = [] }
            return held.writes
        }
        var applied = 0
        var refused: [String] = []
        for (headers, body) in writes {
            var bytes = body
            if strippingPass {
                let text = String(decoding: body, as: UTF8.self)
                bytes = Array(
                    text.replacingOccurrences(of: "<S:Header>.*</S:Header>", with: "", options: .regularExpression).utf8
                )
            }
            let answer = try await CurlHTTPClient().send(
                EngineAdapters.HTTPRequest(method: "POST", url: target, headers: headers, body: bytes))
            let decoded = try? MessageCodec.decodeResponse(answer.body)
            if answer.status == 200, let decoded, decoded.result.status == .ok {
                applied += 1
            } else {
                refused.append(decoded?.result.error.map { "\($0)" } ?? "HTTP \(answer.status)")
            }
        }
        return (applied, refused)
    }

    /// How many writes wait at the gate.
    var waiting: Int { held.lock.withLock { held.waiting } }

    /// How many writes came, and how many were forwarded to the target (and answered).
    var counts: (seen: Int, forwarded: Int) { held.lock.withLock { (held.seen, held.forwarded) } }

    /// Lets the writes waiting at the gate, and every later one, pass.
    func open() { held.lock.withLock { held.open = true } }

    func stop() {
        task.cancel()
    }
}

extension DivergenceTests {
    @Test func aWriteWhoseAnswerWasLostIsLookedUpNotAssumed() async throws {
        let bed = try Bed()
        let events = (1...6).map { match($0) }
        try bed.nginx.put("a.ics", feed(events))
        var s = try bed.subscription("a", feed: "a.ics", collection: "/t/lost")
        #expect(await bed.pass(s).succeeded)
        // Match 1 renamed; the update reaches the target through a gateway that loses its answer.
        try bed.nginx.put("a.ics", feed([match(1, summary: "Renamed")] + events.dropFirst()))
        let proxy = try await WriteGateway.start(forwardingTo: bed.target.endpoint, .loseAnswers)
        defer { proxy.stop() }
        s.targetURL = proxy.endpoint
        let pipeline = FilterPipeline(input: [bed.filters["strip-alarms"]!], output: [])
        let lost = await SyncPass(
            subscription: s, filters: pipeline, store: bed.store,
            target: CalWSTarget(endpoint: proxy.endpoint, token: TargetProcess.token),
            source: FeedFetcher()
        ).run()
        #expect(lost.errorKind == .target, "\(lost.error ?? "")")
        #expect(try await bed.summaries("/t/lost")["match-1@club"] == "Renamed", "the gateway forwarded the write")
        // The feed takes the rename back, byte for byte, and changes another event: match 1's bytes
        // are the ones recorded before the lost write.
        let final = feed(events.dropLast() + [match(6, summary: "Final")])
        try bed.nginx.put("a.ics", final)
        let next = await bed.pass(s)
        #expect(next.succeeded, "\(next.error ?? "")")
        let diverged = try await divergence(bed.client, "/t/lost", feed: final, pipeline: pipeline)
        #expect(diverged == nil, "\(diverged ?? "")")
        #expect(try await bed.summaries("/t/lost")["match-1@club"] == "Match 1")
    }

    /// A write that lands late: a pass sends it and hears no answer (a 504); the next pass lists
    /// the collection before the write lands, so the write is not there yet; then it arrives.
    /// `outboard-target` refuses it (a later pass has read the collection: the fence), and when
    /// it carries no pass number (a target that cannot fence) it lands, and the passes after it
    /// must see it and bring the target back to the feed.
    enum LateWrite: String, CaseIterable { case add, delete, update }

    @Test(arguments: LateWrite.allCases, [true, false])
    func aWriteThatLandsAfterTheNextPassLookedIsRefusedOrFoundAndUndone(_ late: LateWrite, fenced: Bool) async throws {
        let bed = try Bed()
        let base = feed((1...4).map { match($0) })
        let changed: [UInt8] =
            switch late {
            case .add: feed((1...6).map { match($0) })
            case .delete: feed((1...3).map { match($0) })
            case .update: feed([match(1, summary: "Renamed")] + (2...4).map { match($0) })
            }
        try bed.nginx.put("l.ics", base)
        var s = try bed.subscription("l", feed: "l.ics", collection: "/t/late")
        let pipeline = FilterPipeline(input: [bed.filters["strip-alarms"]!], output: [])
        #expect(await bed.pass(s).succeeded)
        // The change goes through a gateway that holds the writes and answers 504.
        try bed.nginx.put("l.ics", changed)
        let gateway = try await WriteGateway.start(forwardingTo: bed.target.endpoint, .hold)
        defer { gateway.stop() }
        s.targetURL = gateway.endpoint
        let unanswered = await SyncPass(
            subscription: s, filters: pipeline, store: bed.store,
            target: CalWSTarget(endpoint: gateway.endpoint, token: TargetProcess.token),
            source: FeedFetcher()
        ).run()
        #expect(unanswered.errorKind == .target, "\(unanswered.error ?? "")")
        // The feed goes back; the next pass finds the target as the feed wants it (the writes are
        // still held) and has nothing to write.
        try bed.nginx.put("l.ics", base)
        let next = await bed.pass(s)
        #expect(next.succeeded, "\(next.error ?? "")")
        #expect(try await divergence(bed.client, "/t/late", feed: base, pipeline: pipeline) == nil)
        #expect(
            next.diagnostics.contains {
                $0.contains("were looked up on the target; a write without an answer may still land")
            },
            "\(next.diagnostics)")
        // Then the held writes arrive: the target refuses the dead pass's write, or (without its
        // number) applies it.
        let released = try await gateway.release(strippingPass: !fenced)
        if fenced {
            #expect(released.applied == 0 && released.refused == ["staleWriter"], "\(released)")
            #expect(try await divergence(bed.client, "/t/late", feed: base, pipeline: pipeline) == nil)
            return
        }
        #expect(released.applied == 1, "the target applied the held write: \(released)")
        #expect(try await divergence(bed.client, "/t/late", feed: base, pipeline: pipeline) != nil)
        // The feed has not changed (a 304 would end the pass): the next pass still looks.
        let after = await bed.pass(s)
        #expect(after.succeeded, "\(after.error ?? "")")
        let diverged = try await divergence(bed.client, "/t/late", feed: base, pipeline: pipeline)
        #expect(diverged == nil, "\(diverged ?? "")")
        // Still in doubt, but the keys are as recorded now: the pass looks, then takes its 304.
        let quiet = await bed.pass(s)
        #expect(quiet.notModified, "\(quiet)")
        await expectConverged { await bed.pass(s, now: $0) }
        let last = Date().addingTimeInterval(3 * WriteIntent.doubtWindow)
        #expect(
            await bed.pass(s, now: last).diagnostics.allSatisfy { !$0.contains("looked up") }, "the doubts are gone")
    }

    @Test func twoEnginesStartedTogetherOnANewStateDirectoryNeitherFailsWithSQLite() async throws {
        let bed = try Bed()
        let body = feed((1...40).map { match($0) })
        try bed.nginx.put("t.ics", body)
        let engine = try EngineRun(bed: bed, url: bed.nginx.url("t.ics"), collection: "/t/two")
        let fresh = TargetProcess.temporaryDirectory().appendingPathComponent("state")
        var outputs: [Pipe] = []
        var processes: [Process] = []
        for _ in 0..<2 {
            let p = engine.process()
            p.arguments = p.arguments!.dropLast() + [fresh.path]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            outputs.append(out)
            processes.append(p)
        }
        for p in processes { try p.run() }
        for p in processes { await p.exited() }
        let texts = outputs.map { String(decoding: $0.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        #expect(!texts.joined().contains("SQLite"), "\(texts)")
        #expect(!texts.joined().contains("database is locked"), "\(texts)")
        // One applied the feed; the other waited for it and found nothing to do, or said a pass was running.
        #expect(processes.contains { $0.terminationStatus == 0 }, "\(texts)")
        let diverged = try await divergence(bed.client, "/t/two", feed: body)
        #expect(diverged == nil, "\(diverged ?? "")")
    }
}

/// The stores' files are made once and never replaced: a second engine opening a new state
/// directory used to replace the file the first one was migrating (SQLite's "disk I/O error" and
/// "no such table: feed" in `twoEnginesStartedTogether…`, about one run in thirty side by side).
@Suite struct PrivateFileTests {
    @Test func aStoreFileIsCreatedPrivateAndNeverReplaced() throws {
        let path = TargetProcess.temporaryDirectory().appendingPathComponent("status.sqlite").path
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try PrivateFile.create(atPath: path)
        let made = try FileManager.default.attributesOfItem(atPath: path)
        #expect((made[.posixPermissions] as? Int) == 0o600)
        try Data("in use".utf8).write(to: URL(fileURLWithPath: path))
        let inode = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
        try PrivateFile.create(atPath: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "in use")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int == inode)
        #expect(throws: PrivateFileError.self) { try PrivateFile.create(atPath: "/nonexistent-dir/x.sqlite") }
    }
}

/// `outboard sync` on a pseudo-terminal shows its progress line; on a pipe it does not.
@Suite(.serialized) struct ProgressOnATerminalTests {
    /// Runs the real `outboard sync` with standard output on a pseudo-terminal (through
    /// util-linux's `script`, which gives the program a terminal and copies what it shows), or on
    /// a pipe, and returns everything it wrote there.
    static func run(_ engine: DivergenceTests.EngineRun, terminal: Bool) async throws -> String {
        let sync = engine.process()
        let p = Process()
        if terminal {
            let command = ([sync.executableURL!.path] + sync.arguments!).map { "'\($0)'" }.joined(separator: " ")
            p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            p.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        } else {
            p.executableURL = sync.executableURL
            p.arguments = sync.arguments
        }
        p.environment = (sync.environment ?? [:]).merging(["OUTBOARD_PROGRESS_AFTER": "0"]) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        await p.exited()  // what it shows is a few lines: the pipe holds them until then
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    @Test func aPassShowsItsProgressOnATerminalOnly() async throws {
        let bed = try Bed()
        try bed.nginx.put("p.ics", feed((1...9).map { match($0) }))
        let engine = try DivergenceTests.EngineRun(bed: bed, url: bed.nginx.url("p.ics"), collection: "/t/progress")
        let onTerminal = try await Self.run(engine, terminal: true)
        #expect(onTerminal.contains("\r\u{1B}[2Ks: fetched"), "\(onTerminal.debugDescription)")
        #expect(onTerminal.contains(", 9 items, applied 9 of 9"), "\(onTerminal.debugDescription)")
        #expect(onTerminal.contains("s: added 9, updated 0"), "\(onTerminal.debugDescription)")
        try bed.nginx.put("p.ics", feed((1...9).map { match($0, summary: "Moved \($0)") }))
        let onPipe = try await Self.run(engine, terminal: false)
        #expect(!onPipe.contains("\u{1B}["), "\(onPipe.debugDescription)")
        #expect(onPipe.hasPrefix("s: added 0, updated 9"), "\(onPipe.debugDescription)")
    }
}

/// A TCP listener on 127.0.0.1 that never answers: connections are queued and left waiting, as
/// with a hung server.
final class HungServer {
    let fd: Int32
    let port: Int

    init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        guard bound == 0, listen(socketFD, 64) == 0 else {
            close(socketFD)
            throw CocoaError(.fileWriteUnknown)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        fd = socketFD
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

extension DivergenceTests {
    @Test func aHungTargetStopsThePassAfterOneTimeoutNotOnePerItem() async throws {
        let bed = try Bed()
        try bed.nginx.put("h.ics", feed((1...9).map { match($0) }))
        let s = try bed.subscription("h", feed: "h.ics", collection: "/t/hung", extra: "timeouts:\n  total: 2s")
        #expect(await bed.pass(s).succeeded)
        let many = (100..<1000).map { n in
            [
                "BEGIN:VEVENT", "UID:new-\(n)@club", "DTSTAMP:20260101T000000Z", "DTSTART:20260401T100000Z",
                "SUMMARY:New \(n)", "END:VEVENT",
            ]
        }
        try bed.nginx.put("h.ics", feed((1...9).map { match($0) } + many))
        let hung = try HungServer()
        var sub = s
        sub.targetURL = "http://127.0.0.1:\(hung.port)/calws"
        let pipeline = FilterPipeline(input: [bed.filters["strip-alarms"]!], output: [])
        let client = CalWSTarget(endpoint: sub.targetURL, token: TargetProcess.token, timeout: sub.totalTimeout)
        let r = await SyncPass(
            subscription: sub, filters: pipeline, store: bed.store, target: client, source: FeedFetcher()
        ).run()
        #expect(r.errorKind == .target, "\(r.error ?? "")")
        #expect(r.failed.count <= 300, "one timeout per batch in flight, not one per item: \(r.failed.count)")
        #expect(r.error?.contains("600 not sent") == true, "\(r.error ?? "")")
        // The target comes back: the unanswered writes are looked up and the pass completes.
        let next = await bed.pass(s)
        #expect(next.succeeded, "\(next.error ?? "")")
        #expect(try await bed.client.list(collection: "/t/hung").count == 909)
    }
}
