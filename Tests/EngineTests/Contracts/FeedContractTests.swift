import Engine
import EngineAdapters
import EngineTesting
import Filters
import Foundation
import Testing
import TestSupport

/// Every shipped source runs the feed contract (`FeedContract`, in `EngineTesting`): the
/// in-memory feed and collection, and `FeedFetcher` (libcurl), alone and shared, against a real nginx.
@Suite struct FeedContractTests {
    static func subscription(_ id: String, url: String, extra: String = "") throws -> Subscription {
        let yaml =
            "source:\n  url: \(url)\n\(extra)target:\n  url: http://127.0.0.1:1/calws\n  collection: /c/\(id)\n"
            + "  token-env: T\n"
        return try SubscriptionLoader.load(
            id: id, text: yaml, file: "\(id).yaml", filters: [:], environment: ["T": "t"]
        )
        .get()
    }

    static func small(_ url: String, auth: String = "") throws -> Subscription {
        try subscription("small", url: url, extra: auth + "max-feed-bytes: 1kB\n")
    }

    @Test(arguments: FeedContract.requirements)
    func inMemoryFeed(_ requirement: FeedContract.Requirement) async throws {
        let feed = InMemoryFeed()
        let url = "http://feeds.test/contract.ics"
        try await requirement.check(
            .init(
                source: feed, subscription: try Self.subscription("feed", url: url),
                publish: { feed.publish(FeedContract.calendar($0)) }, refused: nil, small: try Self.small(url)))
    }

    @Test(arguments: FeedContract.requirements)
    func inMemoryCollection(_ requirement: FeedContract.Requirement) async throws {
        let collection = InMemoryCollection()
        let url = "http://feeds.test/collection/"
        try await requirement.check(
            .init(
                source: collection, subscription: try Self.subscription("collection", url: url),
                publish: { events in
                    collection.replace(with: Dictionary(uniqueKeysWithValues: events.map { ($0.href, $0.calendar) }))
                }, refused: nil, small: try Self.small(url)))
    }

    @Test(arguments: FeedContract.requirements)
    func feedFetcherAgainstNginx(_ requirement: FeedContract.Requirement) async throws {
        try await requirement.check(try Self.nginx(FeedFetcher()))
    }

    /// The wrapper that shares one fetch among the subscribers of a feed is a source too.
    @Test(arguments: FeedContract.requirements)
    func sharedFeedSourceOverFeedFetcherAgainstNginx(_ requirement: FeedContract.Requirement) async throws {
        try await requirement.check(try Self.nginx(SharedFeedSource(FeedFetcher())))
    }

    /// `source` reading a feed nginx serves under /private/, which needs Basic credentials.
    static func nginx(_ source: any FeedSource) throws -> FeedContract.Subject {
        let nginx = try NginxProcess.start()
        let secrets = TargetProcess.temporaryDirectory()
        try "right".write(to: secrets.appendingPathComponent("right"), atomically: true, encoding: .utf8)
        try "wrong".write(to: secrets.appendingPathComponent("wrong"), atomically: true, encoding: .utf8)
        func auth(_ file: String) -> String {
            "  auth:\n    type: basic\n    username: outboard\n    password-file: \(secrets.appendingPathComponent(file).path)\n"
        }
        let url = nginx.url("private/contract.ics")
        return .init(
            source: source, subscription: try subscription("nginx", url: url, extra: auth("right")),
            publish: { try nginx.put("private/contract.ics", FeedContract.calendar($0)) },
            refused: try subscription("refused", url: url, extra: auth("wrong")),
            small: try small(url, auth: auth("right")), stop: { nginx.stop() })
    }
}

/// `CalDAVSource` against real servers (Radicale and Xandikos): the feed contract, and passes that mirror a collection
/// into `outboard-target` by what changed.
@Suite struct CalDAVSourceTests {
    /// What a fixture has put on the server, so a publish sends only what changed.
    final class Published: @unchecked Sendable {
        // Unchecked: `bodies` is read and written under `lock`.
        private let lock = NSLock()
        private var bodies: [String: [UInt8]] = [:]

        /// Makes the collection at `path` hold exactly `events` (named by their href's last segment).
        func publish(_ events: [FeedContract.Event], to server: CalDAVServerProcess, at path: String) throws {
            let want = Dictionary(
                uniqueKeysWithValues: events.map { (path + ($0.href.split(separator: "/").last ?? ""), $0.calendar) })
            let have = lock.withLock { bodies }
            for href in have.keys where want[href] == nil { try server.send("DELETE", href) }
            for (href, body) in want where have[href] != body {
                let status = try server.put(href, body)
                guard [201, 204].contains(status) else { throw ContractViolation("PUT \(href) answered \(status)") }
            }
            lock.withLock { bodies = want }
        }
    }

    static func subscription(
        _ id: String, _ server: CalDAVServerProcess, path: String, password: String = CalDAVServerProcess.password,
        extra: String = ""
    ) throws -> Subscription {
        try subscription(id, url: server.base + path, password: password, extra: extra)
    }

    /// A subscription of the collection at `url`, as the test user with `password`.
    static func subscription(
        _ id: String, url: String, password: String = CalDAVServerProcess.password, extra: String = ""
    ) throws -> Subscription {
        let secret = TargetProcess.temporaryDirectory().appendingPathComponent("password")
        try password.write(to: secret, atomically: true, encoding: .utf8)
        let yaml = """
            source:
              type: caldav
              url: \(url)
              auth:
                type: basic
                username: \(CalDAVServerProcess.user)
                password-file: \(secret.path)
            target:
              url: http://127.0.0.1:1/calws
              collection: /c/\(id)
              token-env: T
            \(extra)
            """
        return try SubscriptionLoader.load(
            id: id, text: yaml, file: "\(id).yaml", filters: [:], environment: ["T": "t"]
        )
        .get()
    }

    @Test(arguments: FeedContract.requirements)
    func calDAVSourceAgainstRadicale(_ requirement: FeedContract.Requirement) async throws {
        try await check(requirement, on: .radicale)
    }

    @Test(arguments: FeedContract.requirements)
    func calDAVSourceAgainstXandikos(_ requirement: FeedContract.Requirement) async throws {
        try await check(requirement, on: .xandikos)
    }

    func check(_ requirement: FeedContract.Requirement, on kind: CalDAVServerProcess.Kind) async throws {
        let server = try CalDAVServerProcess.start(kind)
        let path = "/outboard/contract/"
        try server.makeCalendar(path)
        let published = Published()
        try await requirement.check(
            .init(
                source: CalDAVSource(batchSize: 2),
                subscription: try Self.subscription("caldav", server, path: path),
                publish: { try published.publish($0, to: server, at: path) },
                refused: server.checksCredentials
                    ? try Self.subscription("refused", server, path: path, password: "wrong") : nil,
                small: try Self.subscription("small", server, path: path, extra: "max-feed-bytes: 1kB"),
                stop: { server.stop() }))
    }

    /// A CalDAV server into `outboard-target`, as an admin would run it: the first pass adds every
    /// member; a change, an addition and a deletion travel as one update, one add and one delete;
    /// the token is stored once they are applied.
    @Test(arguments: CalDAVServerProcess.Kind.allCases)
    func aCollectionIsMirroredByWhatChanged(_ kind: CalDAVServerProcess.Kind) async throws {
        let server = try CalDAVServerProcess.start(kind)
        defer { server.stop() }
        let target = try TargetProcess.start()
        defer { target.stop() }
        let path = "/outboard/club/"
        try server.makeCalendar(path)
        let published = Published()
        var events = (1...5).map {
            FeedContract.Event(href: "/c/m\($0).ics", uid: "m\($0)@club", summary: "Match \($0)")
        }
        try published.publish(events, to: server, at: path)
        var s = try Self.subscription("club", server, path: path)
        s.targetURL = target.endpoint
        let store = try StatusStore(directory: TargetProcess.temporaryDirectory().path)
        let calws = CalWSTarget(endpoint: target.endpoint, token: TargetProcess.token)
        func pass() async -> SyncReport {
            await SyncPass(
                subscription: s, filters: FilterPipeline([]), store: store, target: calws, source: CalDAVSource()
            )
            .run()
        }
        let first = await pass()
        #expect(first.succeeded && first.added.count == 5, "\(first.error ?? "")")
        #expect(try store.feed("club").position?.isToken == true)
        #expect(await pass().notModified, "nothing changed since the token")

        events[1].summary = "Match 2, moved"
        events.removeLast()
        events.append(FeedContract.Event(href: "/c/m6.ics", uid: "m6@club", summary: "Match 6"))
        try published.publish(events, to: server, at: path)
        let second = await pass()
        #expect(second.succeeded, "\(second.error ?? "")")
        #expect(
            second.added == ["m6@club"] && second.updated.map(\.key) == ["m2@club"] && second.deleted == ["m5@club"])
        #expect(second.settledUnparsed == 3, "the members nothing touched were not read")
        let listed = try await calws.list(collection: "/c/club", withData: true)
        #expect(Set(listed.compactMap(\.uid)) == ["m1@club", "m2@club", "m3@club", "m4@club", "m6@club"])
    }
}
