import ArgumentParser
import Engine
import EngineAdapters
import FileCommands
import Foundation
import Recurrence
import YAMLConfig

/// `outboard verify ID`: the feed (after filters) and the target's copy expanded over a window and
/// compared instance by instance.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Compare every instance of a subscription's feed (after its filters) with the target's copy over a window.",
        discussion: """
            The feed is fetched unconditionally; the status store is neither read nor written, and nothing is \
            written to the target. One line per instance that differs: missing (in the feed, not on the target), \
            extra (on the target only), moved (same UID and RECURRENCE-ID, other start or end), cancelled-in-feed \
            or cancelled-on-target (STATUS:CANCELLED or EXDATE on one side only), naming the UID and the instance \
            in UTC; then a summary line. Only instants and cancellation are compared: what the pass leaves alone \
            by design (the skip list, deletions: keep) is not a difference. WHEN is a date (2026-01-05, midnight \
            UTC) or an RFC 3339 date-time (2026-01-05T09:00:00+01:00). \
            Exit status: 0 equal, 1 different, 2 error (unknown id, feed or target unreachable).
            """
    )
    @OptionGroup var config: ConfigOptions
    @Option(help: ArgumentHelp("The window's start (default: 7 days ago).", valueName: "when")) var from: String?
    @Option(help: ArgumentHelp("The window's end (default: 90 days from now).", valueName: "when")) var to: String?
    @Argument(help: "The subscription's id (its file's stem).") var id: String

    func validate() throws {
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, WhenArgument.instant(value, zone: nil) == nil {
                throw ValidationError(
                    "\(name) \(value) is neither a date (2026-01-05) nor an RFC 3339 date-time (2026-01-05T09:00:00Z)")
            }
        }
    }

    func run() async throws {
        let now = Date()
        let t = Int64(now.timeIntervalSince1970.rounded(.down))
        let start = from.flatMap { WhenArgument.instant($0, zone: nil) } ?? t - 7 * 86_400
        let end = to.flatMap { WhenArgument.instant($0, zone: nil) } ?? t + 90 * 86_400
        guard end > start else { throw CommandExit.usage("the window is empty: --to must be after --from") }
        let c: SubscriptionLoader.Configuration
        do { c = try Configuration.load(config) } catch let e as CommandExit {
            throw CommandExit(code: 2, message: e.message)  // 1 means "different" here
        }
        guard let s = c.subscriptions.first(where: { $0.id == id }) else {
            throw CommandExit.usage(
                "no subscription \"\(id)\" in \(config.subscriptionsDirectory)\(Suggestion.hint(id, c.subscriptions.map(\.id)))"
            )
        }
        let check = MirrorCheck(
            subscription: s, filters: SyncRunner.filters(s, config: c), target: try SyncRunner.target(s),
            source: Composition.source(for: s))
        let outcome: MirrorCheck.Outcome
        do { outcome = try await check.run(from: start, to: end, now: now) } catch {
            throw CommandExit.usage("\(id): cannot verify: \(error)")
        }
        for d in outcome.comparison.differences { Console.current.print(d.line) }
        if let line = Self.zoneLine(id, outcome) { Console.current.print(line) }
        Console.current.print(Self.summary(id, outcome, from: start, to: end))
        if !outcome.comparison.differences.isEmpty || outcome.zone != outcome.targetZone {
            throw CommandExit.problems
        }
    }

    /// When the target places floating and DATE values in another zone than the subscription:
    /// what each says (its availability answers would put all-day events on other days).
    static func zoneLine(_ id: String, _ o: MirrorCheck.Outcome) -> String? {
        guard o.zone != o.targetZone else { return nil }
        func words(_ zone: String?) -> String { zone ?? "no zone (each query's)" }
        return
            "\(id): the target places floating times and all-day events in \(words(o.targetZone)), the subscription in \(words(o.zone)); the next pass tells the target"
    }

    /// `ID: 2 differences in 40 instances from … to …: 1 missing, 1 moved` or `ID: equal: …`.
    static func summary(_ id: String, _ o: MirrorCheck.Outcome, from: Int64, to: Int64) -> String {
        let window =
            "\(o.comparison.compared) instance\(o.comparison.compared == 1 ? "" : "s") from \(RFC3339.utc(from)) to \(RFC3339.utc(to))"
        let dropped = o.dropped > 0 ? " (\(o.dropped) item\(o.dropped == 1 ? "" : "s") dropped by filters)" : ""
        let ds = o.comparison.differences
        guard !ds.isEmpty else { return "\(id): equal: \(window)\(dropped)" }
        var counts: [String] = []
        for kind in [
            InstanceDifference.Kind.missing, .extra, .moved, .cancelledInFeed, .cancelledOnTarget,
        ] {
            let n = ds.count { $0.kind == kind }
            if n > 0 { counts.append("\(n) \(kind.rawValue)") }
        }
        return
            "\(id): \(ds.count) difference\(ds.count == 1 ? "" : "s") in \(window)\(dropped): \(counts.joined(separator: ", "))"
    }
}
