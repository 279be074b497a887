import CalendarModel
import CalWS
import Engine
import EngineAdapters
import Filters
import Foundation
import SyncCore
import Testing
import TestSupport
import YAMLConfig

/// A feed as iCalendar bytes.
func feed(_ events: [[String]]) -> [UInt8] {
    let lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Feed//EN"] + events.flatMap { $0 } + ["END:VCALENDAR"]
    return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
}

func match(_ n: Int, summary: String? = nil, extra: [String] = []) -> [String] {
    [
        "BEGIN:VEVENT", "UID:match-\(n)@club", "DTSTAMP:20260101T000000Z",
        "DTSTART:202603\(n < 10 ? "0" : "")\(n)T150000Z",
        "DTEND:202603\(n < 10 ? "0" : "")\(n)T170000Z", "SUMMARY:\(summary ?? "Match \(n)")", "LOCATION:Hall",
        "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT1H", "END:VALARM",
    ] + extra + ["END:VEVENT"]
}

/// After a pass that converged: the next writes nothing (while a killed pass's writes may still
/// land it looks at the target all the same), and once they cannot (`WriteIntent.doubtWindow`
/// later) a last look is followed by a plain 304.
func expectConverged(
    _ pass: (Date) async -> SyncReport, sourceLocation: SourceLocation = #_sourceLocation
) async {
    let again = await pass(Date())
    #expect(
        again.succeeded && again.added.isEmpty && again.updated.isEmpty && again.deleted.isEmpty,
        "a converged mirror is followed by nothing to write: \(again)", sourceLocation: sourceLocation)
    let later = Date().addingTimeInterval(WriteIntent.doubtWindow + 1)
    #expect(await pass(later).succeeded, sourceLocation: sourceLocation)
    #expect(
        await pass(later.addingTimeInterval(1)).notModified, "a converged mirror ends with a 304",
        sourceLocation: sourceLocation)
}

/// A test bed: nginx serving feeds, the real outboard-target, a status store, and a subscription.
final class Bed: @unchecked Sendable {
    let nginx: NginxProcess
    var target: TargetProcess
    let state: URL
    let store: StatusStore
    let filters: [String: Filter]

    init() throws {
        nginx = try NginxProcess.start()
        target = try TargetProcess.start()
        state = TargetProcess.temporaryDirectory()
        store = try StatusStore(directory: state.path)
        let stripAlarms = try FilterLoader.load(
            name: "strip-alarms", text: "stage: input\nrules:\n  - remove-component: VALARM\n",
            file: "strip-alarms.yaml"
        ).get()
        filters = ["strip-alarms": stripAlarms]
    }

    deinit {
        nginx.stop()
        target.stop()
    }

    var env: [String: String] { ["TEST_TARGET_TOKEN": TargetProcess.token] }

    /// `source` is more of the source mapping (its lines indented by two spaces); `extra` more
    /// top-level keys.
    func subscription(_ id: String, feed: String, collection: String, source: String = "", extra: String = "") throws
        -> Subscription
    {
        let yaml = """
            source:
              url: \(nginx.url(feed))
            \(source)
            target:
              url: \(target.endpoint)
              collection: \(collection)
              token-env: TEST_TARGET_TOKEN
            filters:
              input: [strip-alarms]
            \(extra)
            """
        return try SubscriptionLoader.load(id: id, text: yaml, file: "\(id).yaml", filters: filters, environment: env)
            .get()
    }

    var client: TargetClient { TargetClient(endpoint: target.endpoint, token: TargetProcess.token) }
    var calws: CalWSTarget { CalWSTarget(client: client) }

    func pass(
        _ s: Subscription, now: Date = Date(), reconcile: Bool = false, batchSize: Int? = nil,
        source: any FeedSource = FeedFetcher()
    ) async -> SyncReport {
        var sub = s
        sub.targetURL = target.endpoint  // a restarted target listens elsewhere
        let pipeline = FilterPipeline(input: s.inputFilters.compactMap { filters[$0] }, output: [])
        var pass = SyncPass(subscription: sub, filters: pipeline, store: store, target: calws, source: source)
        if let batchSize { pass.batchSize = batchSize }
        return await pass.run(now: now, reconcile: reconcile)
    }

    /// Stops the target gracefully and starts it again on its data, so no write a killed engine
    /// sent is still on its way (in the target's socket, or read and not yet applied) when the
    /// next pass looks.
    func drainTarget() throws {
        target.stop()
        target = try TargetProcess.start(dataDirectory: target.dataDirectory)
    }

    /// Someone else edits an entity on the target: a COMMENT is added to its first component.
    /// Returns the entity as it was before.
    @discardableResult
    func comment(_ uid: String, in collection: String, _ text: String) async throws -> EntityInfo {
        let e = try #require(try await client.fetch(uid: uid, in: collection))
        let before = try #require(e.calendar)
        var edited = before
        edited.components[0].properties.append(ICalProperty("COMMENT", .text(text)))
        _ = try await client.updateItem(
            href: e.href, changeToken: e.changeToken,
            update: Differ.diff(
                source: ItemGrouper.items(from: ICalDocument(calendars: [edited])).items[0],
                target: ItemGrouper.items(from: ICalDocument(calendars: [before])).items[0]))
        return e
    }

    /// The target's answer to `POST /availability` with the JSON `body`.
    func availability(_ body: String) async throws -> [String: Any] {
        let answer = try await CurlHTTPClient().send(
            HTTPRequest(
                method: "POST", url: target.base + "/availability",
                headers: [("Authorization", "Bearer \(TargetProcess.token)"), ("Content-Type", "application/json")],
                body: Array(body.utf8)))
        return try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
    }

    /// The target's metric lines that start with `prefix`.
    func metrics(_ prefix: String) async throws -> [String] {
        let text = String(
            decoding: try await CurlHTTPClient().send(HTTPRequest(url: target.base + "/metrics")).body, as: UTF8.self)
        return text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }

    /// The target's entities of a collection as (UID, summary of the master) pairs.
    func summaries(_ collection: String) async throws -> [String: String] {
        var out: [String: String] = [:]
        for e in try await client.list(collection: collection, allData: true) {
            let master = e.calendar?.components.first { $0.name == "VEVENT" && $0.recurrenceID == nil }
            out[e.calendar?.components.first { $0.uid != nil }?.uid ?? "?"] =
                master?.property("SUMMARY")?.text ?? "(no master)"
        }
        return out
    }
}

@Suite struct SyncTests {
    @Test func initialLoadThenAnUnchangedFeedIsA304WithNoTargetWrite() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1), match(2), match(3)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/a")
        let first = await bed.pass(s)
        #expect(first.succeeded, "\(String(describing: first.error))")
        #expect(first.added.sorted() == ["match-1@club", "match-2@club", "match-3@club"])
        let tokens = try await bed.client.list(collection: "/t/a").map(\.changeToken).sorted()
        #expect(
            try await bed.summaries("/t/a") == [
                "match-1@club": "Match 1", "match-2@club": "Match 2", "match-3@club": "Match 3",
            ])
        // The alarm was stripped by the input filter before it reached the target.
        #expect(
            try await bed.client.list(collection: "/t/a", allData: true).allSatisfy {
                $0.calendar?.components.first?.components.isEmpty ?? false
            })

        let second = await bed.pass(s)
        #expect(second.notModified, "nginx answers the stored ETag with 304")
        #expect(
            try await bed.client.list(collection: "/t/a").map(\.changeToken).sorted() == tokens,
            "no write reached the target")
        #expect(try bed.store.feed("s").etag != nil)

        // Both passes told the target how fresh the mirror is: its availability answers say so.
        let body =
            #"{"participants": [{"members": ["/t/a"]}], "query_periods": [{"start": "2026-03-01T00:00:00Z", "end": "2026-03-08T00:00:00Z"}]}"#
        let json = try await bed.availability(body)
        let source = try #require((json["sources"] as? [[String: Any]])?.first)
        let lastSuccess = try #require(try bed.store.feed("s").lastSuccess)
        #expect(source["subscription"] as? String == "s" && source["stale"] as? Bool == false)
        #expect(source["synced-at"] as? String == ISO8601DateFormatter().string(from: lastSuccess))
        #expect(source["refresh-interval"] as? Int == 3600)
    }

    @Test func oneChangedSummaryIsExactlyOneUpdateOfOneField() async throws {
        let bed = try Bed()
        try bed.nginx.put("f.ics", feed([match(1), match(2)]))
        let s = try bed.subscription("s", feed: "f.ics", collection: "/t/b")
        _ = await bed.pass(s)
        let before = try await bed.client.list(collection: "/t/b")
        try bed.nginx.put("f.ics", feed([match(1, summary: "Match 1 (moved to Sunday)"), match(2)]))
        let r = await bed.pass(s)
        #expect(r.succeeded)
        #expect(r.updated.map(\.key) == ["match-1@club"])
        #expect(r.updated.map(\.edits) == [1])
        #expect(r.unchanged == 1 && r.added.isEmpty && r.deleted.isEmpty)
        let after = try await bed.client.list(collection: "/t/b")
        let changedTokens = zip(before.sorted { $0.href < $1.href }, after.sorted { $0.href < $1.href }).filter {
            $0.changeToken != $1.changeToken
        }
        #expect(changedTokens.count == 1, "only one entity was written")
        #expect(try await bed.summaries("/t/b")["match-1@club"] == "Match 1 (moved to Sunday)")
    }

    @Test func aKilledEngineMidPassConvergesWithNoDuplicateAndNoLoss() async throws {
        let bed = try Bed()
        let big = FeedGenerator(events: 600, seed: 11).text()
        try bed.nginx.put("big.ics", Array(big.utf8))
        // The real `outboard sync` process, killed with SIGKILL while it writes.
        let dir = TargetProcess.temporaryDirectory()
        let subs = dir.appendingPathComponent("Subscriptions")
        let filtersDir = dir.appendingPathComponent("Filters")
        try FileManager.default.createDirectory(at: subs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: filtersDir, withIntermediateDirectories: true)
        // Its writes go through a gateway that passes the first batch and holds the next ones,
        // so it is killed mid-pass however fast engine and target are.
        let gateway = try await WriteGateway.start(forwardingTo: bed.target.endpoint, .gate(after: 1))
        defer { gateway.stop() }
        try
            "source:\n  url: \(bed.nginx.url("big.ics"))\ntarget:\n  url: \(gateway.endpoint)\n  collection: /t/kill\n  token-env: TEST_TARGET_TOKEN\n"
            .write(to: subs.appendingPathComponent("big.yaml"), atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = TargetProcess.executable.deletingLastPathComponent().appendingPathComponent("outboard")
        p.arguments = [
            "sync", "big", "--subscriptions", subs.path, "--filters", filtersDir.path, "--state", bed.state.path,
        ]
        p.environment = ProcessInfo.processInfo.environment.merging(bed.env) { $1 }
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Killed once its first batch is recorded (on the target too, by then) while the next
        // ones wait at the gateway. The wait leaves the cooperative pool, which the gateway in
        // this process needs to pass the first batch on.
        let store = bed.store
        signalWhen(p, SIGKILL) { gateway.waiting > 0 && ((try? store.items("big").count) ?? 0) > 0 }
        await p.exited()
        // Then the writes it left at the gateway arrive, after its death: the next pass must not
        // add what they wrote a second time.
        gateway.open()
        let deadline = Date().addingTimeInterval(20)
        while gateway.counts.forwarded < gateway.counts.seen, Date() < deadline {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(gateway.counts.forwarded == gateway.counts.seen, "the held writes arrived: \(gateway.counts)")
        let partial = try await bed.client.list(collection: "/t/kill").count
        // The next pass converges: every feed item exactly once, equal to the feed.
        let s = try SubscriptionLoader.load(
            id: "big", text: try String(contentsOf: subs.appendingPathComponent("big.yaml"), encoding: .utf8),
            file: "big.yaml", filters: [:], environment: bed.env
        ).get()
        try bed.drainTarget()
        func pass(_ now: Date = Date()) async -> SyncReport {
            await SyncPass(
                subscription: s, filters: FilterPipeline([]), store: bed.store, target: bed.calws, source: FeedFetcher()
            ).run(
                now: now)
        }
        let r = await pass()
        #expect(r.succeeded && r.failed.isEmpty, "\(String(describing: r.error)) \(r.failed.prefix(3))")
        let items = ItemGrouper.items(from: try ICalParser().parse(big)).items
        #expect(partial > 0 && partial < items.count, "the engine was killed mid-pass (it had written \(partial))")
        // No loss: the target holds the feed, item by item, by canonical hash.
        let differs = try await divergence(bed.client, "/t/kill", feed: Array(big.utf8))
        #expect(differs == nil, "\(differs ?? "")")
        // No duplicate: the target refuses a second entity with one UID, so a pass that forgot
        // what the killed one wrote would show as adds refused with uidConflict (then adopted),
        // not as duplicates. None was refused, and the status store records each item once,
        // with the entity the target holds.
        #expect(
            try await bed.metrics("outboard_target_errors_total{error=\"uidConflict\"}").isEmpty,
            "the pass re-added what the killed one wrote")
        let recorded = try bed.store.items("big")
        #expect(Set(recorded.keys) == Set(items.map(\.key)))
        #expect(Set(recorded.values.map(\.href)) == Set(try await bed.client.list(collection: "/t/kill").map(\.href)))
        #expect(Set(recorded.values.map(\.href)).count == items.count, "two items recorded with one entity")
        await expectConverged(pass)
    }
}

@Suite struct SubscriptionLoaderTests {
    @Test func reportsEveryProblemByFileAndLine() {
        let yaml = """
            source:
              url: gopher://example.org/feed
            refresh: 5s
            target:
              url: not a url
              collection: public
              token-env: NOT_SET_ANYWHERE
            filters:
              input: [strip-alarm]
            deletion: keep
            guard:
              max-delete-fraction: 2
            identity: summary
            """
        guard
            case .failure(let p) = SubscriptionLoader.load(
                id: "bad", text: yaml, file: "bad.yaml",
                filters: [
                    "strip-alarms": try! FilterLoader.load(
                        name: "strip-alarms", text: "stage: input\nrules:\n  - remove-component: VALARM\n",
                        file: "s.yaml"
                    ).get()
                ], environment: [:])
        else {
            Issue.record("accepted")
            return
        }
        #expect(
            p.problems.map(\.description) == [
                "bad.yaml:2: source.url \"gopher://example.org/feed\" is not an http, https, webcal, webcals or file URL",
                "bad.yaml:3: refresh \"5s\" should be a duration of 30s or more, such as 15m, 1h or 1d, or feed",
                "bad.yaml:5: target.url \"not a url\" is not an http(s) URL of a CalWS endpoint, such as http://127.0.0.1:8765/calws",
                "bad.yaml:6: target.collection \"public\" should be a path such as /public/holidays",
                "bad.yaml:7: the target token cannot be read: the environment variable NOT_SET_ANYWHERE is not set",
                "bad.yaml:9: unknown filter \"strip-alarm\" in filters.input; did you mean strip-alarms?",
                "bad.yaml:12: guard.max-delete-fraction should be a number from 0 to 1, such as 0.5",
                "bad.yaml:13: identity should be uid or content, not \"summary\"",
                "bad.yaml:10: unknown key \"deletion\" in the file; did you mean deletions?; expected one of: enabled, source, refresh, refresh-min, refresh-max, target, filters, trust-lastmod, deletions, guard, timeouts, max-feed-bytes, reconcile, floating, identity, zone",
            ])
    }

    @Test(arguments: [
        ("webcal://example.org/a.ics?x=1", "http://example.org/a.ics?x=1"),
        ("WEBCALS://example.org/a", "https://example.org/a"),
        ("https://example.org/a", "https://example.org/a"),
    ])
    func webcalMapsToHTTP(raw: String, mapped: String) {
        #expect(SubscriptionLoader.feedURL(raw) == mapped)
    }

    @Test func theRepositorysSubscriptionsAreValid() {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let c = SubscriptionLoader.load(
            subscriptionsDirectory: root.appendingPathComponent("Subscriptions").path,
            filtersDirectory: root.appendingPathComponent("Filters").path,
            environment: ["OUTBOARD_TARGET_TOKEN": "x"])
        #expect(c.problems.isEmpty, "\(c.problems)")
        #expect(c.subscriptions.map(\.id) == ["city-sports", "example", "public-holidays"])
    }
}

@Suite struct FeedFetchTests {
    let nginx: NginxProcess
    init() throws { nginx = try NginxProcess.start() }

    func sub(_ url: String, extra: String = "") throws -> Subscription {
        try SubscriptionLoader.load(
            id: "f",
            text:
                "source:\n  url: \(url)\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n\(extra)",
            file: "f.yaml", filters: [:], environment: ["T": "t"]
        ).get()
    }

    @Test func aCompressedRedirectedFeedArrivesWhole() async throws {
        let body = FeedGenerator(events: 50, seed: 1).text()
        try nginx.put("feed.ics", Array(body.utf8))
        // What arrives is shown as it arrives (decoded), up to the whole body.
        final class Seen: @unchecked Sendable { var calls = 0, last = 0 }
        let seen = Seen()
        let digest = FeedDigest(scanning: true)
        let result = try await FeedFetcher().fetch(try sub(nginx.url("moved/feed.ics")), from: nil) {
            seen.calls += 1
            seen.last = $0.count
            digest.received($0)
        }
        guard case .body(let bytes, let etag, let lm) = result else {
            Issue.record("no body")
            return
        }
        #expect(bytes == Array(body.utf8), "gzip decoded, redirect followed")
        #expect(seen.calls >= 1 && seen.last == bytes.count)
        #expect(digest.finish(bytes).scan?.items.count == 50)
        #expect(lm != nil)
        // nginx weakens the ETag of a body it sends gzipped (W/"…"); a body sent as it is keeps
        // its strong ETag. So a weak one here says the feed came over compressed.
        #expect(etag?.hasPrefix("W/\"") == true, "the feed was not sent compressed (ETag \(etag ?? "none"))")
        let again = try await FeedFetcher().fetch(
            try sub(nginx.url("feed.ics")), from: .validators(etag: etag, lastModified: lm))
        guard case .notModified = again else {
            Issue.record("expected a 304")
            return
        }
    }

    @Test func aFeedOverTheSizeCapIsRefusedByName() async throws {
        try nginx.put("big.ics", Array(FeedGenerator(events: 200, seed: 2).text().utf8))
        do {
            _ = try await FeedFetcher().fetch(
                try sub(nginx.url("big.ics"), extra: "max-feed-bytes: 10kB"))
            Issue.record("a feed over max-feed-bytes was accepted")
        } catch {
            #expect("\(error)".contains("max-feed-bytes"))
        }
    }

    @Test func deadAndLoopingServersAreTypedErrors() async throws {
        let refused = await fetchError(try sub("http://127.0.0.1:1/feed.ics"))
        guard case .transport(let s, let host, _)? = refused else {
            Issue.record("\(String(describing: refused))")
            return
        }
        #expect(s == "f" && host == "127.0.0.1")
        let looping = await fetchError(try sub(nginx.url("loop.ics")))
        guard case .transport? = looping else {
            Issue.record("redirect loop: \(String(describing: looping))")
            return
        }
        let missing = await fetchError(try sub(nginx.url("none.ics")))
        #expect(missing == .http(subscription: "f", host: "127.0.0.1", status: 404, retryAfter: nil))
    }

    /// HTTPS: a feed whose server has a private CA is trusted through `source.ca-file` (and not
    /// without it); a redirect to HTTPS is followed; a redirect from HTTPS to plain HTTP is refused.
    @Test func httpsFeedsTrustTheirCAFileAndAreNeverRedirectedToPlainHTTP() async throws {
        let tls = try NginxProcess.start(tls: true)
        defer { tls.stop() }
        let body = FeedGenerator(events: 5, seed: 3).text()
        try tls.put("secure.ics", Array(body.utf8))
        func https(_ path: String, ca: String?) throws -> Subscription {
            let yaml =
                "source:\n  url: \(tls.tlsURL(path))\n" + (ca.map { "  ca-file: \($0)\n" } ?? "")
                + "target:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n"
            return try SubscriptionLoader.load(
                id: "tls", text: yaml, file: "tls.yaml", filters: [:], environment: ["T": "t"]
            ).get()
        }
        let cert = try #require(tls.certificate)

        guard case .transport(let id, _, _)? = await fetchError(try https("secure.ics", ca: nil)) else {
            Issue.record("a certificate the system does not trust was accepted")
            return
        }
        #expect(id == "tls")
        for path in ["secure.ics", "to-https/secure.ics"] {
            let result = try await FeedFetcher().fetch(try https(path, ca: cert))
            guard case .body(let bytes, _, _) = result else {
                Issue.record("\(path): no body")
                continue
            }
            #expect(bytes == Array(body.utf8), "\(path)")
        }
        let downgraded = await fetchError(try https("to-http/secure.ics", ca: cert))
        guard case .transport(let sub, _, let why)? = downgraded else {
            Issue.record("https → http was followed: \(String(describing: downgraded))")
            return
        }
        #expect(sub == "tls")
        #expect("\(why)".lowercased().contains("protocol"), "\(why)")

        // `outboard check` sees an unreadable ca-file, with its line.
        let bad = SubscriptionLoader.load(
            id: "tls",
            text:
                "source:\n  url: \(tls.tlsURL("secure.ics"))\n  ca-file: /nonexistent/ca.pem\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n",
            file: "tls.yaml", filters: [:], environment: ["T": "t"])
        guard case .failure(let problems) = bad else {
            Issue.record("an unreadable ca-file was accepted")
            return
        }
        #expect("\(problems)".contains("tls.yaml:3") && "\(problems)".contains("ca-file"), "\(problems)")
    }

    func fetchError(_ s: Subscription) async -> FetchError? {
        do {
            _ = try await FeedFetcher().fetch(s)
            return nil
        } catch {
            return error
        }
    }
}
