import ArgumentParser
import CalendarModel
import Engine
import EngineAdapters
import FileCommands
import Filters
import Foundation
import YAMLConfig

/// Loads the configuration the way every sync command needs it, or prints every problem and exits 1.
enum Configuration {
    /// `secrets: false` for commands that only show state.
    static func load(_ options: ConfigOptions, secrets: Bool = true) throws -> SubscriptionLoader.Configuration {
        let config = SubscriptionLoader.load(
            subscriptionsDirectory: options.subscriptionsDirectory, filtersDirectory: options.filtersDirectory,
            secrets: secrets)
        if !config.problems.isEmpty {
            for problem in config.problems { Console.current.error(problem.description) }
            throw CommandExit(code: 1, message: nil)
        }
        return config
    }
}

/// `outboard check`: validates every subscription and filter file.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate every subscription and filter file; print every problem as file:line: message.",
        discussion: "Exit status: 0 when everything is valid, 1 when there are problems."
    )
    @OptionGroup var config: ConfigOptions

    func run() throws {
        let c = try Configuration.load(config)
        Console.current.print(
            "\(c.subscriptions.count) subscription\(c.subscriptions.count == 1 ? "" : "s") and \(c.filters.count) filter\(c.filters.count == 1 ? "" : "s") are valid"
        )
    }
}

/// `outboard sync ID`: one pass now.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Run one pass of a subscription now and print what it did.",
        discussion:
            "Exit status: 0 when the pass applied the whole feed, 1 when it failed or some items did (they are retried next pass), 2 for bad usage."
    )
    @OptionGroup var config: ConfigOptions
    @Flag(help: "Fetch and plan, print each update's field changes, write nothing.") var dryRun = false
    @Flag(help: "Compare every target item with the feed (catching edits made on the target), not only what changed.")
    var reconcile = false
    @Flag(help: "Every enabled subscription.") var all = false
    @Argument(help: "The subscription's id (its file's stem).") var id: String?

    func validate() throws {
        if all == (id != nil) {
            throw ValidationError(all ? "give an id or --all, not both" : "give a subscription id, or --all")
        }
    }

    func run() async throws {
        let c = try Configuration.load(config)
        let chosen: [Subscription]
        if all {
            chosen = c.subscriptions.filter(\.enabled)
        } else {
            guard let s = c.subscriptions.first(where: { $0.id == id }) else {
                throw CommandExit.usage(
                    "no subscription \"\(id!)\" in \(config.subscriptionsDirectory)\(Suggestion.hint(id!, c.subscriptions.map(\.id)))"
                )
            }
            chosen = [s]
        }
        let store = try Composition.store(url: config.storeURL)
        var ok = true
        let after = ProcessInfo.processInfo.environment["OUTBOARD_PROGRESS_AFTER"].flatMap(Double.init) ?? 1
        // Subscriptions of one feed share its fetch (`--all`).
        let source = SharedFeedSource(subscriptions: chosen)
        for s in chosen {
            let progress = ProgressLine(
                subscription: s.id, console: Console.current, terminal: Console.current.isTerminal, after: after)
            let report = await SyncRunner.pass(
                s, config: c, store: store, dryRun: dryRun, reconcile: reconcile, lockWait: 5, source: source,
                progress: progress.take)
            progress.finish()
            ok = ok && report.succeeded
            for line in SyncRunner.describe(report, dryRun: dryRun) { Console.current.print(line) }
        }
        if !ok { throw CommandExit(code: 1, message: nil) }
    }
}

/// `outboard status`: a table of subscriptions.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print each subscription's last success, next due time, items, failures and last error.")
    @OptionGroup var config: ConfigOptions

    func run() throws {
        let c = try Configuration.load(config, secrets: false)
        let store = try Composition.store(url: config.storeURL)
        let f = ISO8601DateFormatter()
        // With a shared store: the engine holding each lease, then the engines and what waits.
        let cluster = try (store as? any ClusterStore)?.cluster()
        Console.current.print(
            (["SUBSCRIPTION", "LAST SUCCESS", "NEXT DUE", "ITEMS", "FAILURES", "LAST ERROR"]
                + (cluster == nil ? [] : ["ENGINE"])).joined(separator: "\t"))
        let states = try store.feeds()
        let counts = try store.itemCounts()
        defer { if let cluster { Self.describe(cluster, f) } }
        for s in c.subscriptions {
            let state = states[s.id] ?? FeedState()
            let items = counts[s.id] ?? 0
            // The daemon's schedule as it recorded it (back-off included), or, where no daemon
            // scheduled it yet, the same rule without jitter.
            let next =
                state.nextDue
                ?? state.lastAttempt.map { _ in
                    Schedule(
                        lastAttempt: state.lastAttempt, failures: state.failures,
                        interval: TimeInterval(s.interval(feedRefresh: state.feedRefresh)), now: .distantPast,
                        jitter: 0.5
                    ).nextDue
                }
            Console.current.print(
                [
                    s.id + (s.enabled ? "" : " (disabled)"), state.lastSuccess.map(f.string) ?? "never",
                    next.map(f.string) ?? "now",
                    String(items), String(state.failures), state.lastError ?? "-",
                ].joined(separator: "\t") + (cluster.map { "\t" + ($0.leases[s.id]?.engine ?? "-") } ?? ""))
        }
    }

    /// The engines sharing the store, and the subscriptions that none runs now.
    static func describe(_ cluster: ClusterView, _ f: ISO8601DateFormatter) {
        Console.current.print("")
        Console.current.print("ENGINE\tSTARTED\tLAST SEEN\tLEASES")
        for e in cluster.engines {
            let leases = cluster.leases.values.count { $0.engine == e.name }
            Console.current.print(
                [e.name, f.string(from: e.started), f.string(from: e.seen), String(leases)].joined(separator: "\t"))
        }
        if cluster.engines.isEmpty { Console.current.print("(no engine is running)") }
        for id in cluster.disagreeing {
            Console.current.print("\(id): the engines' files define it differently; no engine runs it until they agree")
        }
        for (id, when) in cluster.retired.sorted(by: { $0.key < $1.key }) {
            Console.current.print("\(id): retired \(f.string(from: when)) (no engine's files define it)")
        }
    }
}

/// Wires a pass for the CLI and the daemon.
enum SyncRunner {
    /// `lockWait`: seconds to wait for another pass of the same subscription to end.
    static func pass(
        _ s: Subscription, config: SubscriptionLoader.Configuration, store: any ItemStateStore, dryRun: Bool,
        reconcile: Bool = false,
        lockWait: Double = 0, source: (any FeedSource)? = nil, stop: @escaping @Sendable () -> Bool = { false },
        progress: @escaping @Sendable (PassProgress) -> Void = { _ in }
    ) async -> SyncReport {
        var pass: SyncPass
        do {
            pass = try Composition.pass(s, filters: filters(s, config: config), store: store, source: source)
        } catch {
            var r = SyncReport(subscription: s.id)
            r.error = error.message
            r.errorKind = .secret
            return r
        }
        pass.shouldStop = stop
        pass.lockWait = lockWait
        pass.onProgress = progress
        return await pass.run(dryRun: dryRun, reconcile: reconcile)
    }

    /// The subscription's input then output filters.
    static func filters(_ s: Subscription, config: SubscriptionLoader.Configuration) -> FilterPipeline {
        FilterPipeline(
            input: s.inputFilters.compactMap { config.filters[$0] },
            output: s.outputFilters.compactMap { config.filters[$0] })
    }

    /// The subscription's target, with its token read; the error says which token cannot be read.
    static func target(_ s: Subscription) throws(CommandExit) -> any CalendarTarget {
        do { return try Composition.target(for: s) } catch { throw CommandExit.usage(error.message) }
    }

    static func describe(_ r: SyncReport, dryRun: Bool) -> [String] {
        var out: [String] = []
        let shared = "its fetch was shared with another subscription of the same feed"
        if r.notModified {
            return ["\(r.subscription): the feed has not changed (nothing to do\(r.fetchShared ? "; " + shared : ""))"]
        }
        if dryRun {
            out.append(
                "\(r.subscription): dry run, nothing written; \(r.plan.count) planned edit\(r.plan.count == 1 ? "" : "s")"
            )
            out += r.plan.map { "  " + $0 }
        } else {
            let updatedEdits = r.updated.reduce(0) { $0 + $1.edits }
            out.append(
                "\(r.subscription): added \(r.added.count), updated \(r.updated.count) (\(updatedEdits) field edit\(updatedEdits == 1 ? "" : "s")), deleted \(r.deleted.count), unchanged \(r.unchanged)\(r.settledUnparsed > 0 ? " (\(r.settledUnparsed) known by their bytes, not parsed)" : ""), dropped by filters \(r.dropped), failed \(r.failed.count)"
            )
            out += r.failed.map { "  failed \($0.key): \($0.reason)" }
            if !r.repaired.isEmpty {
                let shown = r.repaired.prefix(10).joined(separator: ", ")
                out.append(
                    "  reconcile: \(r.repaired.count) item\(r.repaired.count == 1 ? "" : "s") repaired on the target (changed there behind the engine's back): \(shown)\(r.repaired.count > 10 ? ", …" : "")"
                )
            }
        }
        if let d = duplicates(r) { out.insert(d, at: 1) }
        if r.fetchShared { out.append("  note: \(shared)") }
        out += r.diagnostics.map { "  note: \($0)" }
        if let e = r.error { out.append("  error: \(e)") }
        return out
    }

    /// The feed's duplicate UIDs, if it had any: how many, the copies left out, and the first
    /// ten UIDs with the copies of each left out.
    static func duplicates(_ r: SyncReport) -> String? {
        guard !r.duplicates.isEmpty else { return nil }
        let uids = r.duplicates.count
        let copies = r.duplicates.reduce(0) { $0 + $1.dropped }
        let shown = r.duplicates.prefix(10).map { "\($0.key) (\($0.dropped))" }.joined(separator: ", ")
        let more = uids > 10 ? ", and \(uids - 10) more" : ""
        return
            "  \(uids) UID\(uids == 1 ? "" : "s") came more than once; \(copies) cop\(copies == 1 ? "y" : "ies") dropped (the latest revision of each kept): \(shown)\(more)"
    }
}
