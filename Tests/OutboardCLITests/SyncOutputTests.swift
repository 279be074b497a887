import Foundation
import Engine
@testable import OutboardCLI
import Testing

@Suite struct SyncOutputTests {
    /// `outboard sync` says how many unchanged items were known by their bytes alone (not
    /// parsed), and says nothing of it when none were.
    @Test func aPassSaysWhatItDidAndHowManyItemsItDidNotParse() {
        var r = SyncReport(subscription: "s")
        r.updated = [("a", 1)]
        r.unchanged = 16
        r.settledUnparsed = 15
        #expect(SyncRunner.describe(r, dryRun: false)
            == ["s: added 0, updated 1 (1 field edit), deleted 0, unchanged 16 (15 known by their bytes, not parsed), dropped by filters 0, failed 0"])
        r.settledUnparsed = 0
        r.failed = [("b", "refused")]
        #expect(SyncRunner.describe(r, dryRun: false)
            == ["s: added 0, updated 1 (1 field edit), deleted 0, unchanged 16, dropped by filters 0, failed 1", "  failed b: refused"])
    }

    /// `outboard sync --dry-run` prints every planned edit (the pass's plan lines) under a line
    /// that says nothing was written, and the guard's words when it would stop the pass.
    @Test func aDryRunPrintsEachPlannedEdit() {
        var r = SyncReport(subscription: "s")
        r.plan = ["+ add new@x", #"~ VEVENT uid=a@x SUMMARY "Old" -> "New""#, "- delete gone@x"]
        #expect(SyncRunner.describe(r, dryRun: true) == [
            "s: dry run, nothing written; 3 planned edits", "  + add new@x", #"  ~ VEVENT uid=a@x SUMMARY "Old" -> "New""#, "  - delete gone@x",
        ])
        r.plan = ["+ add new@x"]
        r.error = "the guard stopped 9 deletions"
        #expect(SyncRunner.describe(r, dryRun: true) == ["s: dry run, nothing written; 1 planned edit", "  + add new@x", "  error: the guard stopped 9 deletions"])
    }

    /// The real command on a new subscription: every item is a planned add, and nothing is
    /// written (the target is not even reachable, and the status store stays empty).
    @Test func aDryRunOfANewSubscriptionPlansEveryAddAndWritesNothing() async throws {
        let config = try ConfigFolder()
        try config.subscription("s", collection: "/s")
        let r = await outboard(["sync", "s", "--dry-run"] + config.options)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out == "s: dry run, nothing written; 2 planned edits\n  + add series@x\n  + add allday@x\n")
        let status = await outboard(["status"] + config.options)
        #expect(status.out.split(separator: "\n").last == "s\tnever\tnow\t0\t0\t-", "\(status.out)")
    }
}

@Suite struct StatusCommandTests {
    /// `outboard status` only shows state: it needs no secret, so an unset password or token
    /// variable does not hide the table (it used to print nothing).
    @Test func statusNeedsNoSecrets() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outboard-status-\(UUID().uuidString)")
        let subs = dir.appendingPathComponent("Subscriptions"), filters = dir.appendingPathComponent("Filters")
        try FileManager.default.createDirectory(at: subs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: filters, withIntermediateDirectories: true)
        try """
            source:
              url: https://feeds.example.org/private.ics
              auth:
                type: basic
                username: club
                password-env: OUTBOARD_TEST_UNSET_PASSWORD
            target:
              url: http://127.0.0.1:8765/calws
              collection: /p
              token-env: OUTBOARD_TEST_UNSET_TOKEN
            """.write(to: subs.appendingPathComponent("private.yaml"), atomically: true, encoding: .utf8)
        let common = ["--subscriptions", subs.path, "--filters", filters.path, "--state", dir.appendingPathComponent("state").path]
        let status = await outboard(arguments: ["status"] + common)
        #expect(status.code == 0, "\(status.err)")
        #expect(status.out.split(separator: "\n").map { String($0) }
            == ["SUBSCRIPTION\tLAST SUCCESS\tNEXT DUE\tITEMS\tFAILURES\tLAST ERROR", "private\tnever\tnow\t0\t0\t-"])
        // A pass does need them, and says which.
        let check = await outboard(arguments: ["check"] + common)
        #expect(check.code == 1)
        #expect(check.err.contains("OUTBOARD_TEST_UNSET_PASSWORD"), "\(check.err)")
    }
}
