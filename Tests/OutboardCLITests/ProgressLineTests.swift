import Engine
import EngineAdapters
import FileCommands
import Foundation
@testable import OutboardCLI
import Testing

/// A manual clock for the progress line.
final class ManualClock: @unchecked Sendable {
    // Unchecked: set by the test between calls, read by the line on the same task.
    var now = 0.0
}

@Suite struct ProgressLineTests {
    @Test func aPassLongerThanTheMomentShowsOneLineRewrittenInPlaceAndClearedAtTheEnd() {
        let console = Console.recording(terminal: true)
        let clock = ManualClock()
        let line = ProgressLine(subscription: "s", console: console, terminal: true, after: 1, clock: { clock.now })
        line.take(.fetched(bytes: 16_100_000))
        #expect(console.output.isEmpty, "nothing in the first second")
        clock.now = 1.5
        line.take(.parsed(items: 10_000))
        clock.now = 1.55
        line.take(.applied(done: 100, total: 300))  // within a tenth of a second: not drawn
        clock.now = 1.7
        line.take(.applied(done: 200, total: 300))
        clock.now = 1.71
        line.take(.applied(done: 300, total: 300))  // the last one is always drawn
        line.finish()
        let clear = "\r\u{1B}[2K"
        #expect(
            console.output == clear + "s: fetched 16.1 MB, 10000 items" + clear
                + "s: fetched 16.1 MB, 10000 items, applied 200 of 300"
                + clear + "s: fetched 16.1 MB, 10000 items, applied 300 of 300" + clear)
    }

    @Test func nothingIsShownWhenOutputIsNotATerminal() {
        let console = Console.recording(terminal: false)
        let clock = ManualClock()
        let line = ProgressLine(subscription: "s", console: console, terminal: false, after: 0, clock: { clock.now })
        clock.now = 5
        line.take(.parsed(items: 3))
        line.take(.applied(done: 3, total: 3))
        line.finish()
        #expect(console.output.isEmpty)
    }
}
