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
}
