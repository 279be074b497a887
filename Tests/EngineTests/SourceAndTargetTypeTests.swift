import Engine
import EngineAdapters
import Testing
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
        guard case .failure(let problems) = Self.load(source: "  type: caldav\n", target: "  type: exchange\n") else {
            Issue.record("unknown types were accepted")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "k.yaml:2: source.type should be ics, not \"caldav\"",
                "k.yaml:5: target.type should be calws, not \"exchange\"",
            ])
    }
}
