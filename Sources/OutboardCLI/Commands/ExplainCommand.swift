import ArgumentParser
import Engine
import EngineAdapters
import FileCommands
import Foundation
import SyncCore
import YAMLConfig

/// `outboard explain ID UID`: what the last pass did with one item.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Say what the last pass of a subscription did with one item.",
        discussion: """
            Which filter rules changed or dropped it, whether it was unchanged or settled, the field edits sent \
            (as outboard diff prints them) and the target's answer. Read from the status store: a pass that reads \
            its feed records each item it dropped, compared with the target or wrote.

            Exit status: 0 when the item is known, 1 when the subscription has no such item, 2 for an unknown \
            subscription.
            """
    )
    @OptionGroup var config: ConfigOptions
    @Argument(help: "The subscription's id (its file's stem).") var id: String
    @Argument(help: "The item's UID.") var uid: String

    func run() throws {
        let c = try Configuration.load(config, secrets: false)
        guard c.subscriptions.contains(where: { $0.id == id }) else {
            throw CommandExit.usage(
                "no subscription \"\(id)\" in \(config.subscriptionsDirectory)\(Suggestion.hint(id, c.subscriptions.map(\.id)))"
            )
        }
        let store = try Composition.store(url: config.storeURL)
        let lines = Explanation(
            id: id, uid: uid, trace: try store.trace(id, key: uid), known: try store.items(id)[uid],
            state: try store.feed(id)
        ).lines()
        guard let lines else {
            throw CommandExit.failed(Explanation.unknown(id: id, uid: uid, state: try store.feed(id)))
        }
        for line in lines { Console.current.print(line) }
    }
}

/// The words of `outboard explain` for one item, from its trace row, its stored state and the
/// subscription's feed state.
struct Explanation {
    var id: String
    var uid: String
    var trace: PassTrace?
    var known: ItemState?
    var state: FeedState

    static func time(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }

    /// Nil when neither the last pass nor the status store knows the item.
    func lines() -> [String]? {
        var out: [String] = []
        if let t = trace?.item, let pass = trace?.pass {
            out.append("\(id) \(uid): \(Self.outcome(t)) in the pass of \(Self.time(pass))")
            out += t.rules.map { "  " + $0 }
            if !t.edits.isEmpty {
                out.append("  \(t.outcome == .failed ? "edits not applied" : "edits sent"):")
                out += t.edits.map { "    " + $0 }
            }
            if let answer = t.answer { out.append("  target: \(answer)") }
        } else if known != nil {
            let pass = trace?.pass ?? state.lastSuccess
            let when = pass.map { " in the pass of \(Self.time($0))" } ?? ""
            out.append(
                failed(pass)
                    ? "\(id) \(uid): nothing was written to it\(when)"
                    : "\(id) \(uid): unchanged\(when): its bytes or its canonical hash were those applied before; nothing was sent"
            )
        } else {
            return nil
        }
        if let k = known { out.append("  on the target: \(k.href) (change token \(k.changeToken))") }
        out += later()
        return out
    }

    /// True when the traced pass is the last one and it failed.
    func failed(_ pass: Date?) -> Bool {
        state.lastError != nil && state.lastAttempt == pass
    }

    /// How the traced pass ended when it failed, and what the passes after it did (a 304 or an
    /// unchanged body replaces no trace).
    func later() -> [String] {
        guard let attempt = state.lastAttempt else { return [] }
        if failed(trace?.pass), let error = state.lastError { return ["  that pass failed: \(error)"] }
        guard attempt > (trace?.pass ?? .distantPast) else { return [] }
        if let error = state.lastError { return ["  the last pass (\(Self.time(attempt))) failed: \(error)"] }
        return ["  passes since then found the feed unchanged (the last at \(Self.time(attempt)))"]
    }

    static func outcome(_ t: ItemTrace) -> String {
        switch t.outcome {
        case .dropped: "dropped by a filter (nothing sent)"
        case .matched: "changed in the feed, but the target's copy already matched (settled, nothing sent)"
        case .added: "added to the target"
        case .updated: "updated on the target, \(t.edits.count) field edit\(t.edits.count == 1 ? "" : "s")"
        case .deleted: "gone from the feed and deleted from the target"
        case .failed: "not applied (retried next pass)"
        }
    }

    /// The message for an item nobody knows.
    static func unknown(id: String, uid: String, state: FeedState) -> String {
        guard let attempt = state.lastAttempt else {
            return "\(id) has had no pass yet, so it knows no item \"\(uid)\" (run outboard sync \(id))"
        }
        return
            "\(id) has no item \"\(uid)\": its last pass (\(time(attempt))) neither dropped, compared nor wrote it, and it mirrors no item of that UID (is the UID right? outboard ics inspect on the feed lists them)"
    }
}
