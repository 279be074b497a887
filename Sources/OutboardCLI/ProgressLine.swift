import Engine
import FileCommands
import Foundation

/// The progress line `outboard sync` shows on a terminal for a pass that runs longer than a
/// moment: `city-sports: fetched 16.1 MB, 10000 items, applied 300 of 10000`, rewritten in
/// place (at most ten times a second) and cleared when the pass ends. Nothing is shown when
/// standard output is not a terminal. The clock and the moment are injected, for tests.
final class ProgressLine: @unchecked Sendable {
    // Unchecked: every field is read and written under `lock`.
    private let lock = NSLock()
    private let subscription: String
    private let console: Console
    private let shown: Bool
    private let after: Double
    private let clock: @Sendable () -> Double
    private let started: Double
    private var lastDrawn = -Double.infinity
    private var drawn = false
    private var fetched: Int?
    private var items: Int?
    private var applied: (done: Int, total: Int)?

    /// `after`: seconds into the pass before the line appears (`OUTBOARD_PROGRESS_AFTER`, default 1).
    init(
        subscription: String, console: Console, terminal: Bool, after: Double = 1,
        clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }
    ) {
        self.subscription = subscription
        self.console = console
        shown = terminal
        self.after = after
        self.clock = clock
        started = clock()
    }

    /// Takes one progress event, and redraws the line when it is due.
    func take(_ p: PassProgress) {
        lock.withLock {
            switch p {
            case .fetched(let bytes): fetched = bytes
            case .parsed(let n): items = n
            case .applied(let done, let total): applied = (done, total)
            }
            let now = clock()
            guard shown, now - started >= after, now - lastDrawn >= 0.1 || isLast(p) else { return }
            lastDrawn = now
            drawn = true
            console.write(Array(("\r\u{1B}[2K" + text).utf8))
        }
    }

    /// Clears the line, if it was drawn, before the pass's report is printed.
    func finish() {
        lock.withLock {
            if drawn { console.write(Array("\r\u{1B}[2K".utf8)) }
            drawn = false
        }
    }

    var text: String {
        var parts: [String] = []
        if let fetched { parts.append(String(format: "fetched %.1f MB", Double(fetched) / 1_000_000)) }
        if let items { parts.append("\(items) items") }
        if let applied { parts.append("applied \(applied.done) of \(applied.total)") }
        return "\(subscription): " + parts.joined(separator: ", ")
    }

    private func isLast(_ p: PassProgress) -> Bool {
        if case .applied(let done, let total) = p { return done == total }
        return false
    }
}
