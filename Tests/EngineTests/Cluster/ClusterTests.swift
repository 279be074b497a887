import Engine
import EngineAdapters
import Foundation
import Testing
import TestSupport

/// Real `outboard run` processes sharing their subscriptions through a real PostgreSQL server,
/// with nginx serving the feeds and the reference target over HTTP: each subscription runs on
/// one engine at a time and on schedule, a killed engine's subscriptions are taken over, a
/// paused one is fenced when it wakes, and a restart of the database loses nothing.
@Suite(.serialized) struct ClusterTests {
    /// The bed (nginx, the target), a PostgreSQL server with one database, and the engines, which
    /// all read the first engine's configuration folder.
    final class Cluster: @unchecked Sendable {
        // Unchecked: the engines are added by the test's own task only.
        let bed: Bed
        let postgres: PostgresProcess
        let database: String
        let store: String
        static let lease = 4.0
        var engines: [DaemonProcess] = []

        init() throws {
            bed = try Bed()
            postgres = try PostgresProcess.start()
            store = try postgres.newDatabase() + "?lease=\(Int(Self.lease))"
            database = String(store.split(separator: "/").last!.split(separator: "?")[0])
            engines = [try DaemonProcess(bed: bed, store: store)]
        }

        deinit {
            stopEngines()
            postgres.remove()
        }

        /// Kills every engine still running (before a gateway in front of the target stops:
        /// a request it is still handling when it stops brings the test process down).
        func stopEngines() {
            for e in engines { e.stop() }
        }

        /// Stops the engines, lets the gateway finish what they sent, then stops it.
        func stop(_ gateway: WriteGateway) {
            stopEngines()
            gateway.open()
            usleep(500_000)
            gateway.stop()
        }

        var first: DaemonProcess { engines[0] }

        /// Another engine reading the same configuration (not started).
        func engine() throws -> DaemonProcess {
            let e = try DaemonProcess(bed: bed, store: store, sharing: engines[0])
            engines.append(e)
            return e
        }

        func sql(_ query: String) throws -> String { try postgres.psql(query, database: database) }

        /// The subscriptions whose lease `engine` holds.
        func leases(of engine: String) throws -> [String] {
            try sql("SELECT subscription FROM feed WHERE lease_owner = '\(engine)' ORDER BY 1")
                .split(separator: "\n").map(String.init)
        }

        /// The last lines of every engine's log (for a failure's message).
        var logs: String {
            engines.enumerated().map { n, e in
                let text = (try? String(contentsOf: e.log, encoding: .utf8)) ?? ""
                return "engine \(n):\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
            }.joined(separator: "\n")
        }

        /// The store's view of every subscription and engine (for a failure's message).
        var rows: String {
            let feeds =
                (try? sql(
                    "SELECT subscription, lease_owner, lease_expiry, fence, next_due, last_attempt, failures, last_error, retired, now() FROM feed ORDER BY 1"
                )) ?? "?"
            return feeds + ((try? sql("SELECT name, seen FROM engine")) ?? "?")
        }

        /// Each collection's entities: how many, and how many distinct UIDs (none before the
        /// collection is made).
        func entities(_ collection: String) async throws -> (count: Int, uids: Int) {
            guard let all = try? await bed.client.list(collection: collection, allData: true) else { return (0, 0) }
            return (all.count, Set(all.map { $0.calendar?.components.first { $0.uid != nil }?.uid ?? "?" }).count)
        }
    }

    /// The engine's name in the cluster, from its `/status`.
    static func name(_ base: String) async throws -> String {
        let body = try await call("GET", base + "/status").body
        let json = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        return try #require((json?["cluster"] as? [String: Any])?["engine"] as? String)
    }

    /// The sum of a counter of the engine's `/metrics` (every label set).
    static func metric(_ base: String, _ name: String) async throws -> Double {
        let text = String(decoding: try await call("GET", base + "/metrics").body, as: UTF8.self)
        return text.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    static func events(_ n: Int, seed: UInt64) -> [UInt8] { Array(FeedGenerator(events: n, seed: seed).text().utf8) }

    @Test func sixtySubscriptionsRunOnceEachOnThreeEnginesAndATriggerReachesThemWhereverTheyRun() async throws {
        let cluster = try Cluster()
        let ids = (0..<60).map { String(format: "s%02d", $0) }
        // The engines start on a configuration with nothing to run; the sixty subscriptions
        // then arrive at once, and each engine's reload sees them.
        try
            "enabled: false\nsource:\n  url: http://127.0.0.1:9/x.ics\ntarget:\n  url: http://127.0.0.1:9/calws\n  collection: /t/none\n  token-env: TEST_TARGET_TOKEN\n"
            .write(
                to: cluster.first.subscriptions.appendingPathComponent("none.yaml"), atomically: true, encoding: .utf8)
        var bases: [String] = []
        for e in [cluster.first, try cluster.engine(), try cluster.engine()] { bases.append(try await e.start()) }
        let staging = cluster.first.dir.appendingPathComponent("staging")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        for (n, id) in ids.enumerated() {
            try cluster.bed.nginx.put("\(id).ics", feed([match(1), match(2), match(3 + n % 20)]))
            try cluster.first.subscribe(id, feed: "\(id).ics", collection: "/t/\(id)")
            try FileManager.default.moveItem(
                at: cluster.first.subscriptions.appendingPathComponent("\(id).yaml"),
                to: staging.appendingPathComponent("\(id).yaml"))
        }
        for id in ids {
            try FileManager.default.moveItem(
                at: staging.appendingPathComponent("\(id).yaml"),
                to: cluster.first.subscriptions.appendingPathComponent("\(id).yaml"))
        }
        #expect(
            try await eventually(90) {
                let all = try await daemonStatus(bases[2])
                return ids.allSatisfy { all[$0]?["items"] as? Int == 3 }
            }, "every subscription mirrored its feed")
        // Each feed was read once: no subscription ran twice (two passes would each fetch).
        for id in ids { #expect(cluster.bed.nginx.requests("/\(id).ics") == [200], "\(id)") }
        var passes: [Double] = []
        for base in bases { passes.append(try await Self.metric(base, "outboard_passes_total")) }
        #expect(passes.reduce(0, +) == 60, "60 passes in all: \(passes)")
        #expect(passes.filter { $0 > 0 }.count >= 2, "the work was shared: \(passes)")

        // One schedule for all: each is next due an hour (±10%) after its pass, whoever ran it;
        // every engine's /status shows it, with no lease held once the passes are done.
        let status = try await daemonStatus(bases[1])
        for id in ids {
            let due = try #require(
                (status[id]?["next-due"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) })
            #expect(due.timeIntervalSinceNow > 3000 && due.timeIntervalSinceNow < 4000, "\(id) due \(due)")
        }

        // A change to every feed, triggered through one engine, reaches every collection once.
        for (n, id) in ids.enumerated() {
            try cluster.bed.nginx.put("\(id).ics", feed([match(1, summary: "Final"), match(2), match(3 + n % 20)]))
            #expect(try await call("POST", bases[0] + "/subscriptions/\(id)/sync").status == 202)
        }
        #expect(
            try await eventually(90) {
                for id in ids where try await cluster.bed.summaries("/t/\(id)")["match-1@club"] != "Final" {
                    return false
                }
                return true
            }, "the change reached every collection")
        for id in ids {
            #expect(cluster.bed.nginx.requests("/\(id).ics") == [200, 200], "\(id): one more pass")
            let e = try await cluster.entities("/t/\(id)")
            #expect(e.count == 3 && e.uids == 3, "\(id): \(e)")
        }
        for base in bases {
            #expect(try await Self.metric(base, "outboard_fenced_commits_total") == 0)
        }
    }

    @Test func aKilledEnginesSubscriptionsAreTakenOverOnceItsLeasesExpire() async throws {
        let cluster = try Cluster()
        // The first writes pass; the later ones wait at the gateway: the passes stop mid-way.
        let gateway = try await WriteGateway.start(forwardingTo: cluster.bed.target.endpoint, .gate(after: 3))
        defer { cluster.stop(gateway) }
        let ids = (0..<4).map { "big\($0)" }
        for (n, id) in ids.enumerated() {
            try cluster.bed.nginx.put("\(id).ics", Self.events(300, seed: UInt64(n + 1)))
            try cluster.first.subscribe(id, feed: "\(id).ics", collection: "/t/\(id)", through: gateway.endpoint)
        }
        let a = try await cluster.first.start()
        let aName = try await Self.name(a)
        #expect(
            try await eventually(30) {
                let leased = try cluster.leases(of: aName).count
                return gateway.waiting > 0 && leased == 4
            }, "A holds the four leases, its passes waiting mid-way")
        kill(cluster.first.process.processIdentifier, SIGKILL)
        cluster.first.process.waitForExit()
        let killed = Date()
        gateway.open()

        let b = try await cluster.engine().start()
        let c = try await cluster.engine().start()
        #expect(
            try await eventually(Cluster.lease + 15) {
                let taken =
                    try await Self.metric(b, "outboard_lease_takeovers_total")
                    + Self.metric(c, "outboard_lease_takeovers_total")
                return taken == 4
            }, "the other engines took over the four subscriptions")
        let takeover = Date().timeIntervalSince(killed)
        // A lease lasts `lease` from its last renewal, which came at most a third of it before the kill.
        #expect(takeover >= Cluster.lease * 2 / 3 - 0.5, "not before the lease expired (\(takeover) s)")
        #expect(try cluster.leases(of: aName).isEmpty)
        #expect(
            try await eventually(90) {
                for id in ids where try await cluster.entities("/t/\(id)").count != 300 { return false }
                return true
            }, "every collection converged: \(cluster.logs)")
        for id in ids {
            let e = try await cluster.entities("/t/\(id)")
            #expect(e.count == 300 && e.uids == 300, "\(id): no duplicate, nothing missing: \(e)")
        }
    }

    @Test func aPausedEngineWhoseLeaseWasTakenOverIsFencedWhenItWakes() async throws {
        let cluster = try Cluster()
        let gateway = try await WriteGateway.start(forwardingTo: cluster.bed.target.endpoint, .gate(after: 1))
        defer { cluster.stop(gateway) }
        try cluster.bed.nginx.put("big.ics", Self.events(300, seed: 7))
        try cluster.first.subscribe("big", feed: "big.ics", collection: "/t/big", through: gateway.endpoint)
        let a = try await cluster.first.start()
        let aName = try await Self.name(a)
        #expect(try await eventually(30) { gateway.waiting > 0 }, "A's pass waits with a write in flight")
        let pid = cluster.first.process.processIdentifier
        kill(pid, SIGSTOP)
        // A's lease expires while it is stopped; its write in flight is answered meanwhile.
        gateway.open()
        try await Task.sleep(nanoseconds: UInt64((Cluster.lease + 1) * 1e9))
        let b = try await cluster.engine().start()
        #expect(
            try await eventually(60) {
                let done = try await cluster.entities("/t/big").count == 300
                let taken = try await Self.metric(b, "outboard_lease_takeovers_total") == 1
                return try done && taken && cluster.leases(of: aName).isEmpty
            }, "B took the subscription over and completed it")
        kill(pid, SIGCONT)
        #expect(
            try await eventually(20) { try await Self.metric(a, "outboard_fenced_commits_total") >= 1 },
            "A's late commit was refused")
        #expect(cluster.first.logged("a write of a pass whose lease was taken over was refused"))
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let e = try await cluster.entities("/t/big")
        #expect(e.count == 300 && e.uids == 300, "A's late writes duplicated nothing: \(e)")
        #expect(try cluster.sql("SELECT count(*) FROM item WHERE subscription = 'big'") == "300\n")
    }

    @Test func aDatabaseRestartUnderLoadLosesNothing() async throws {
        let cluster = try Cluster()
        let ids = (0..<8).map { "r\($0)" }
        for (n, id) in ids.enumerated() {
            try cluster.bed.nginx.put("\(id).ics", Self.events(250, seed: UInt64(100 + n)))
            try cluster.first.subscribe(id, feed: "\(id).ics", collection: "/t/\(id)")
        }
        var bases: [String] = []
        for e in [cluster.first, try cluster.engine(), try cluster.engine()] {
            bases.append(try await e.start(["--parallel", "2"]))
        }
        #expect(try await eventually(30) { (try cluster.sql("SELECT count(*) FROM item")) != "0\n" })
        cluster.postgres.stop()
        try await Task.sleep(nanoseconds: 1_500_000_000)
        try cluster.postgres.start()
        #expect(
            try await eventually(120) {
                for id in ids where try await cluster.entities("/t/\(id)").count != 250 { return false }
                return true
            }, "every collection was mirrored: \(cluster.logs)\n\(cluster.rows)")
        for id in ids {
            let e = try await cluster.entities("/t/\(id)")
            #expect(e.count == 250 && e.uids == 250, "\(id): \(e)")
        }
        #expect(cluster.engines.allSatisfy { $0.process.isRunning }, "every engine reconnected and runs")
        // The store records each batch once the target has answered it.
        #expect(
            try await eventually(60) { try cluster.sql("SELECT count(*) FROM item") == "\(250 * ids.count)\n" },
            "the store holds every item: \(cluster.logs)\n\(cluster.rows)")
        // The engines use the store again: a new event, triggered through one, is mirrored.
        let text = FeedGenerator(events: 250, seed: 100).text()
        let more = match(1, summary: "After the restart").joined(separator: "\r\n") + "\r\nEND:VCALENDAR"
        try cluster.bed.nginx.put("r0.ics", Array(text.replacingOccurrences(of: "END:VCALENDAR", with: more).utf8))
        #expect(try await call("POST", bases[2] + "/subscriptions/r0/sync").status == 202)
        #expect(
            try await eventually(30) {
                try await cluster.bed.summaries("/t/r0")["match-1@club"] == "After the restart"
            })
        #expect(try await cluster.entities("/t/r0").count == 251)
    }
}
