import Engine
import EngineAdapters
import EngineTesting
import Filters
import Foundation
import Testing
import TestSupport
import YAMLConfig

/// `source.type` and `target.type` name the kinds of each end; the composition root builds them.
@Suite struct SourceAndTargetTypeTests {
    static func load(source: String = "", target: String = "") -> Result<Subscription, ConfigProblems> {
        let text =
            "source:\n\(source)  url: http://127.0.0.1:1/f.ics\ntarget:\n\(target)  url: http://127.0.0.1:1/calws\n"
            + "  collection: /c\n  token-env: T\n"
        return SubscriptionLoader.load(id: "k", text: text, file: "k.yaml", filters: [:], environment: ["T": "x"])
    }

    @Test func theTypesDefaultToAFeedAndCalWSAndMayBeSaid() throws {
        let plain = try Self.load().get()
        #expect(plain.sourceType == .ics && plain.targetType == .calws)
        let said = try Self.load(source: "  type: ics\n", target: "  type: calws\n").get()
        #expect(said.sourceType == .ics && said.targetType == .calws)
        #expect(Composition.source(for: said) is FeedFetcher)
    }

    @Test func aTypeOutboardDoesNotHaveIsAProblemNamingItsLineAndTheKindsItHas() {
        guard case .failure(let problems) = Self.load(source: "  type: webdav\n", target: "  type: exchange\n") else {
            Issue.record("unknown types were accepted")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "k.yaml:2: source.type should be ics or caldav, not \"webdav\"",
                "k.yaml:5: target.type should be calws or caldav, not \"exchange\"",
            ])
    }

    static func caldav(_ target: String) -> Result<Subscription, ConfigProblems> {
        let text = "source:\n  type: caldav\n  url: https://dav.example.org/cal/team/\ntarget:\n\(target)"
        return SubscriptionLoader.load(id: "k", text: text, file: "k.yaml", filters: [:], environment: ["P": "pw"])
    }

    @Test func aCalDAVTargetIsItsCollectionsURLWithCredentialsAsASourceHasThem() throws {
        let secret = TargetProcess.temporaryDirectory().appendingPathComponent("password")
        try "pw".write(to: secret, atomically: true, encoding: .utf8)
        let s = try Self.caldav(
            """
              type: caldav
              url: https://dav.example.org/calendars/mirror/holidays/
              auth:
                type: basic
                username: outboard
                password-file: \(secret.path)
              writes-in-flight: 8

            """
        ).get()
        #expect(s.targetType == .caldav && s.targetCollection == "/calendars/mirror/holidays")
        #expect(s.targetAuth == .basic(username: "outboard", password: .file(secret.path)))
        #expect(s.writesInFlight == 8 && s.sourceType == .caldav)
        #expect(try Composition.target(for: s) is CalDAVTarget)
        #expect(try Composition.pass(s, filters: FilterPipeline([]), store: InMemoryStateStore()).writesInFlight == 8)
    }

    @Test func aCalDAVTargetRefusesCalWSKeysAndACalWSTargetRefusesAuth() {
        guard
            case .failure(let p) = Self.caldav(
                """
                  type: caldav
                  url: https://dav.example.org/calendars/mirror/holidays/
                  collection: /elsewhere
                  token-env: P
                  writes-in-flight: 0

                """)
        else {
            Issue.record("CalWS keys were accepted on a CalDAV target")
            return
        }
        #expect(
            p.problems.map(\.description) == [
                "k.yaml:9: target.writes-in-flight should be a whole number from 1 to 64, such as 4",
                "k.yaml:7: target.collection is not used by a CalDAV target: target.url names the collection",
                "k.yaml:8: a CalDAV target takes its credentials from target.auth (basic or bearer), not token-env",
            ])
        guard
            case .failure(let q) = Self.load(target: "  auth:\n    type: bearer\n    token-env: T\n")
        else {
            Issue.record("target.auth was accepted on a CalWS target")
            return
        }
        #expect(q.problems.map(\.description).contains { $0.contains("target.auth is for a CalDAV target") })
    }
}
