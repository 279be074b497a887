import ArgumentParser
import Engine
import Foundation
import Logging
import ServiceLifecycle

/// `outboard run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every enabled subscription on its own schedule until SIGTERM or SIGINT.",
        discussion: """
        A subscription never synced is due at once; afterwards its refresh interval (with ±10% jitter) after \
        its last pass; failures back off exponentially from one minute to six hours, honouring Retry-After. \
        Passes run in parallel up to --parallel, never two of one subscription. SIGTERM/SIGINT: passes in \
        flight finish and commit, then it exits. SIGHUP: the configuration is validated and reloaded; an \
        invalid one is refused (the check messages are logged) and the old one keeps running.
        """
    )
    @OptionGroup var config: ConfigOptions
    @Option(help: "How many passes may run at once.") var parallel = 8

    func run() async throws {
        let c = try Configuration.load(config)
        let store = try StatusStore(directory: config.stateDirectory)
        var states: [String: FeedState] = [:]
        for s in c.subscriptions { states[s.id] = try store.feed(s.id) }
        var logger = Logger(label: "outboard")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let options = config
        let current = Current(c)
        let scheduler = Scheduler(subscriptions: c.subscriptions, states: states, now: Date(), maxParallel: parallel) { sub in
            await SyncRunner.pass(sub, config: current.value, store: store, dryRun: false)
        }
        let daemon = SyncDaemon(scheduler: scheduler, logger: logger) {
            let fresh = SubscriptionLoader.load(subscriptionsDirectory: options.subscriptionsDirectory, filtersDirectory: options.filtersDirectory)
            guard fresh.problems.isEmpty else { return .failure(ReloadRefused(fresh.problems.map(\.description))) }
            current.value = fresh
            return .success(fresh.subscriptions)
        }
        logger.info("outboard running", metadata: ["subscriptions": "\(c.subscriptions.filter(\.enabled).count)", "parallel": "\(parallel)"])
        let group = ServiceGroup(services: [daemon], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        logger.info("outboard stopped")
    }
}

/// The configuration in force, swapped by a reload.
final class Current: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: SubscriptionLoader.Configuration
    init(_ v: SubscriptionLoader.Configuration) { _value = v }
    var value: SubscriptionLoader.Configuration {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}
