import Foundation
import Engine
import EngineAdapters
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
        #expect(
            SyncRunner.describe(r, dryRun: false)
                == [
                    "s: added 0, updated 1 (1 field edit), deleted 0, unchanged 16 (15 known by their bytes, not parsed), dropped by filters 0, failed 0"
                ])
        r.settledUnparsed = 0
        r.failed = [("b", "refused")]
        #expect(
            SyncRunner.describe(r, dryRun: false)
                == [
                    "s: added 0, updated 1 (1 field edit), deleted 0, unchanged 16, dropped by filters 0, failed 1",
                    "  failed b: refused",
                ])
    }

    /// A pass answered from another subscription's fetch of the same feed (`sync --all`) says so.
    @Test func aPassSaysWhenItsFetchWasShared() {
        var r = SyncReport(subscription: "s")
        r.fetchShared = true
        r.notModified = true
        #expect(
            SyncRunner.describe(r, dryRun: false) == [
                "s: the feed has not changed (nothing to do; its fetch was shared with another subscription of the same feed)"
            ])
        r.notModified = false
        r.added = ["a"]
        #expect(
            SyncRunner.describe(r, dryRun: false) == [
                "s: added 1, updated 0 (0 field edits), deleted 0, unchanged 0, dropped by filters 0, failed 0",
                "  note: its fetch was shared with another subscription of the same feed",
            ])
        r.fetchShared = false
        #expect(SyncRunner.describe(r, dryRun: false).count == 1)
    }

    /// `outboard sync --dry-run` prints every planned edit (the pass's plan lines) under a line
    /// that says nothing was written, and the guard's words when it would stop the pass.
    @Test func aDryRunPrintsEachPlannedEdit() {
        var r = SyncReport(subscription: "s")
        r.plan = ["+ add new@x", #"~ VEVENT uid=a@x SUMMARY "Old" -> "New""#, "- delete gone@x"]
        #expect(
            SyncRunner.describe(r, dryRun: true) == [
                "s: dry run, nothing written; 3 planned edits", "  + add new@x",
                #"  ~ VEVENT uid=a@x SUMMARY "Old" -> "New""#, "  - delete gone@x",
            ])
        r.plan = ["+ add new@x"]
        r.error = "the guard stopped 9 deletions"
        #expect(
            SyncRunner.describe(r, dryRun: true) == [
                "s: dry run, nothing written; 1 planned edit", "  + add new@x",
                "  error: the guard stopped 9 deletions",
            ])
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
        let subs = dir.appendingPathComponent("Subscriptions")
        let filters = dir.appendingPathComponent("Filters")
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
        let common = [
            "--subscriptions", subs.path, "--filters", filters.path, "--state",
            dir.appendingPathComponent("state").path,
        ]
        let status = await outboard(arguments: ["status"] + common)
        #expect(status.code == 0, "\(status.err)")
        #expect(
            status.out.split(separator: "\n").map { String($0) }
                == [
                    "SUBSCRIPTION\tLAST SUCCESS\tNEXT DUE\tITEMS\tFAILURES\tLAST ERROR", "private\tnever\tnow\t0\t0\t-",
                ])
        // A pass does need them, and says which.
        let check = await outboard(arguments: ["check"] + common)
        #expect(check.code == 1)
        #expect(check.err.contains("OUTBOARD_TEST_UNSET_PASSWORD"), "\(check.err)")
    }
}

@Suite struct DuplicateOutputTests {
    /// A feed that repeats UIDs: `outboard sync` says how many came more than once, how many
    /// copies were dropped, and which (the first ten).
    @Test func aPassNamesTheUIDsThatCameMoreThanOnce() {
        var r = SyncReport(subscription: "o365")
        r.added = ["inv@x", "series@x"]
        r.duplicates = [("inv@x", 3), ("series@x", 1)]
        #expect(
            SyncRunner.describe(r, dryRun: false) == [
                "o365: added 2, updated 0 (0 field edits), deleted 0, unchanged 0, dropped by filters 0, failed 0",
                "  2 UIDs came more than once; 4 copies dropped (the latest revision of each kept): inv@x (3), series@x (1)",
            ])
        r.duplicates = [("inv@x", 1)]
        r.plan = ["+ add inv@x"]
        #expect(
            SyncRunner.describe(r, dryRun: true) == [
                "o365: dry run, nothing written; 1 planned edit",
                "  1 UID came more than once; 1 copy dropped (the latest revision of each kept): inv@x (1)",
                "  + add inv@x",
            ])
        r.diagnostics = [
            #"the feed's REFRESH-INTERVAL "P1H" is not a positive duration such as PT1H (RFC 5545 §3.3.6); the refresh interval is 1h"#
        ]
        #expect(
            SyncRunner.describe(r, dryRun: true).last
                == #"  note: the feed's REFRESH-INTERVAL "P1H" is not a positive duration such as PT1H (RFC 5545 §3.3.6); the refresh interval is 1h"#
        )
        r.diagnostics = []
        r.duplicates = (1...12).map { ("u\($0 < 10 ? "0" : "")\($0)", 2) }
        #expect(
            SyncRunner.describe(r, dryRun: false)[1]
                == "  12 UIDs came more than once; 24 copies dropped (the latest revision of each kept): u01 (2), u02 (2), u03 (2), u04 (2), u05 (2), u06 (2), u07 (2), u08 (2), u09 (2), u10 (2), and 2 more"
        )
    }
}
