import Engine
import EngineAdapters
import Foundation
import SyncCore
@testable import OutboardCLI
import Testing

@Suite struct ExplainCommandTests {
    static let at = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z

    /// The real command after a real pass whose target does not answer: the item's writes got no
    /// answer, which it says with the target's words; an unknown UID or subscription is named.
    @Test func explainSaysWhatTheLastPassDidWithAnItemAndNamesWhatItDoesNotKnow() async throws {
        let config = try ConfigFolder()
        try config.subscription("s", collection: "/s")
        #expect(await outboard(["explain", "s", "allday@x"] + config.options).err.contains("has had no pass yet"))
        let sync = await outboard(["sync", "s"] + config.options)
        #expect(sync.code == 1, "the target at 127.0.0.1:1 does not answer: \(sync.out)")

        let r = await outboard(["explain", "s", "allday@x"] + config.options)
        #expect(r.code == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(
            lines.first?.hasPrefix("s allday@x: not applied (retried next pass) in the pass of 20") == true, "\(r.out)")
        #expect(
            lines.dropFirst().first?.hasPrefix(
                "  target: no answer from the target: cannot reach the target http://127.0.0.1:1/calws") == true,
            "\(r.out)")
        #expect(lines.last?.hasPrefix("  that pass failed: cannot reach the target") == true, "\(r.out)")

        let unknown = await outboard(["explain", "s", "nope@x"] + config.options)
        #expect(unknown.code == 1)
        #expect(unknown.err.hasPrefix("outboard: s has no item \"nope@x\": its last pass (20"), "\(unknown.err)")
        let noSubscription = await outboard(["explain", "t", "allday@x"] + config.options)
        #expect(noSubscription.code == 2)
        #expect(noSubscription.err.hasPrefix("outboard: no subscription \"t\" in "), "\(noSubscription.err)")
    }

    @Test func anUpdatedItemShowsItsRulesItsEditsAndTheAnswer() {
        let e = Explanation(
            id: "s", uid: "a@x",
            trace: PassTrace(
                pass: Self.at,
                item: ItemTrace(
                    key: "a@x", outcome: .updated, rules: ["filter f rule 2 (add CATEGORIES): 1 change"],
                    edits: [#"~ VEVENT uid=a@x SUMMARY "Old" -> "New""#], answer: "ok")),
            known: ItemState(key: "a@x", hash: "h", href: "/s/a.ics", changeToken: "r2"),
            state: FeedState(lastAttempt: Self.at.addingTimeInterval(60), lastSuccess: Self.at.addingTimeInterval(60)))
        #expect(
            e.lines() == [
                "s a@x: updated on the target, 1 field edit in the pass of 2027-01-15T08:00:00Z",
                "  filter f rule 2 (add CATEGORIES): 1 change",
                "  edits sent:",
                #"    ~ VEVENT uid=a@x SUMMARY "Old" -> "New""#,
                "  target: ok",
                "  on the target: /s/a.ics (change token r2)",
                "  passes since then found the feed unchanged (the last at 2027-01-15T08:01:00Z)",
            ])
        let unchanged = Explanation(
            id: "s", uid: "a@x", trace: PassTrace(pass: Self.at, item: nil), known: e.known,
            state: FeedState(lastAttempt: Self.at, lastSuccess: Self.at))
        #expect(
            unchanged.lines() == [
                "s a@x: unchanged in the pass of 2027-01-15T08:00:00Z: its bytes or its canonical hash were those applied before; nothing was sent",
                "  on the target: /s/a.ics (change token r2)",
            ])
        #expect(Explanation(id: "s", uid: "b@x", trace: nil, known: nil, state: FeedState()).lines() == nil)
    }
}
