import Engine
import EngineAdapters
import EngineTesting
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
