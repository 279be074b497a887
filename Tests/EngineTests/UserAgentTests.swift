import Engine
import EngineAdapters
import Foundation
import Testing
import TestSupport

/// `source.user-agent`: some feed servers (Outlook 365 among them) answer 500 to clients they do
/// not know, so an admin may present what works. nginx's `/user-agent.ics` answers with a feed
/// whose one event is titled with the User-Agent it saw.
@Suite struct UserAgentTests {
    /// The server sees Outboard's own User-Agent by default, and the subscription's when it sets one.
    @Test func theFeedServerSeesTheSubscriptionsUserAgent() async throws {
        let nginx = try NginxProcess.start()
        defer { nginx.stop() }
        func seen(_ source: String) async throws -> String? {
            let yaml =
                "source:\n  url: \(nginx.url("user-agent.ics"))\n\(source)target:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n"
            let s = try SubscriptionLoader.load(
                id: "ua", text: yaml, file: "ua.yaml", filters: [:], environment: ["T": "t"]
            ).get()
            guard case .body(let body, _, _) = try await FeedFetcher().fetch(s) else {
                return nil
            }
            return String(decoding: body, as: UTF8.self).split(separator: "\r\n").first { $0.hasPrefix("SUMMARY:") }.map
            { String($0.dropFirst(8)) }
        }
        #expect(try await seen("") == CurlHTTPClient.userAgent)
        #expect(
            try await seen("  user-agent: Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5000; Pro)\n")
                == "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5000; Pro)")
    }

    /// End to end: a pass with `source.user-agent` mirrors what the server saw into the target.
    @Test func aPassFetchesWithTheConfiguredUserAgent() async throws {
        let bed = try Bed()
        let s = try bed.subscription(
            "ua", feed: "user-agent.ics", collection: "/t/ua",
            source: "  user-agent: Mozilla/5.0 (compatible; Outboard)")
        #expect(s.userAgent == "Mozilla/5.0 (compatible; Outboard)")
        let r = await bed.pass(s)
        #expect(r.succeeded, "\(String(describing: r.error))")
        #expect(try await bed.summaries("/t/ua") == ["user-agent@nginx": "Mozilla/5.0 (compatible; Outboard)"])
    }

    /// An empty User-Agent, or one with characters a header line cannot carry, is a problem with
    /// its file and line; the characters are shown escaped.
    @Test(arguments: [
        ("\"\"", #""""#), ("\"  \"", #""  ""#), ("\"Caf\u{e9}/1\"", #""Caf\u{e9}/1""#), ("\"a\\tb\"", #""a\u{9}b""#),
    ])
    func aUserAgentThatIsNotPrintableASCIIIsAProblemWithItsLine(yaml: String, shown: String) {
        let text =
            "source:\n  url: https://example.org/a.ics\n  user-agent: \(yaml)\ntarget:\n  url: http://127.0.0.1:1/calws\n  collection: /x\n  token-env: T\n"
        guard
            case .failure(let p) = SubscriptionLoader.load(
                id: "ua", text: text, file: "ua.yaml", filters: [:], environment: ["T": "t"])
        else {
            Issue.record("accepted \(yaml)")
            return
        }
        #expect(
            p.problems.map(\.description) == [
                "ua.yaml:3: source.user-agent \(shown) should be non-empty printable ASCII, such as Mozilla/5.0 (compatible; Outboard)"
            ])
    }
}
