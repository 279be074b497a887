import ArgumentParser
import CalendarModel
import Engine
import EngineAdapters
import EngineDaemon
import FileCommands
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
            Passes run in parallel up to --parallel, never two of one subscription. SIGTERM/SIGINT: no pass starts, \
            passes in flight stop after their current batch (which commits), then it exits. SIGHUP, or a change to \
            a file in the subscriptions or filters directory: the configuration is validated and reloaded; an \
            invalid one is refused (the check messages are logged) and the old one keeps running.

            The control endpoint (--listen) answers POST /subscriptions/ID/sync (a pass now), GET /status (JSON), \
            GET /metrics (Prometheus), GET /health and the status page at /. All but /health need "Authorization: \
            Bearer TOKEN": the token is $OUTBOARD_CONTROL_TOKEN, else the content of --control-token-file, which is \
            created (mode 0600, a random token) when missing. A browser opens the page by its secret link, /?key=TOKEN, \
            printed on a terminal once listening; it keeps the token in a cookie. The endpoint's URL is written to \
            control-url in the state directory.
            """
    )
    @OptionGroup var config: ConfigOptions
    @Option(help: "How many passes may run at once.") var parallel = 8
    @Option(
        help: ArgumentHelp(
            "The control endpoint's address, host:port (port 0: any free port), or off.", valueName: "host:port"))
    var listen = "127.0.0.1:8766"
    @Option(
        help: ArgumentHelp(
            "The control endpoint's token file (default: control-token in the state directory).", valueName: "file"))
    var controlTokenFile: String?
    @Option(
        help: ArgumentHelp(
            "Seconds between looks at the configuration files for changes (0: only SIGHUP reloads).",
            valueName: "seconds"))
    var watch: Double = 2

    func validate() throws {
        if listen != "off", Self.address(listen) == nil {
            throw ValidationError("--listen takes host:port (such as 127.0.0.1:8766) or off, not \"\(listen)\"")
        }
        if watch < 0 { throw ValidationError("--watch takes seconds, 0 or more") }
    }

    static func address(_ s: String) -> (host: String, port: Int)? {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port),
            colon > s.startIndex
        else { return nil }
        return (String(s[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }

    func run() async throws {
        let c = try Configuration.load(config)
        let store = try Composition.store(url: config.storeURL)
        // The control files live in the state directory, whichever store is used.
        try FileManager.default.createDirectory(
            atPath: config.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var logger = Logger(label: "outboard")
        logger.logLevel =
            ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let options = config
        let current = Current(c)
        // Passes of subscriptions of one feed share one conditional fetch per refresh.
        let feeds = SharedFeedSource(subscriptions: c.subscriptions)
        let pass: Scheduler.Pass = { sub in
            await SyncRunner.pass(
                sub, config: current.value, store: store, dryRun: false, source: feeds,
                stop: { Task.isShuttingDownGracefully })
        }
        let metrics = EngineMetrics()
        let scheduler = try scheduler(
            store: store, subscriptions: c.subscriptions, metrics: metrics, logger: logger, pass: pass)
        let watcher =
            watch > 0
            ? ConfigWatcher(directories: [config.subscriptionsDirectory, config.filtersDirectory], interval: watch)
            : nil
        let daemon = SyncDaemon(scheduler: scheduler, metrics: metrics, logger: logger, watcher: watcher) {
            let fresh = SubscriptionLoader.load(
                subscriptionsDirectory: options.subscriptionsDirectory, filtersDirectory: options.filtersDirectory)
            guard fresh.problems.isEmpty else { return .failure(ReloadRefused(fresh.problems.map(\.description))) }
            current.value = fresh
            return .success(fresh.subscriptions)
        }
        var services: [any Service] = [daemon]
        if let (host, port) = Self.address(listen) {
            let token = try controlToken()
            let urlFile = (config.stateDirectory as NSString).appendingPathComponent("control-url")
            let endpoint = ControlEndpoint(host: host, port: port, token: token)
            let logger = logger
            services.append(
                endpoint.application(
                    daemon: daemon,
                    status: {
                        var status = DaemonStatus(
                            subscriptions: current.value.subscriptions, schedules: await scheduler.allSchedules(),
                            states: try store.feeds(),
                            items: try store.itemCounts(), running: await scheduler.running, now: Date())
                        if let shared = store as? any ClusterStore {
                            status.add(try shared.cluster(), engine: shared.engine)
                        }
                        return status
                    }, logger: logger
                ) { bound in
                    let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(bound)"
                    try? Data((url + "\n").utf8).write(to: URL(fileURLWithPath: urlFile))
                    // The page's link carries the token: shown to a person at a terminal, never logged.
                    logger.info(
                        "control endpoint listening",
                        metadata: ["url": "\(url)", "url.file": "\(urlFile)", "page": "\(url)/?key=<control token>"])
                    if Console.current.isTerminal {
                        Console.current.print("status page: \(ControlEndpoint.pageLink(base: url, token: token))")
                    }
                })
        }
        logger.info(
            "outboard running",
            metadata: ["subscriptions": "\(c.subscriptions.filter(\.enabled).count)", "parallel": "\(parallel)"])
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        logger.info("outboard stopped")
    }

    /// The schedule: in this process (SQLite), or, on a store engines share, the store's, with
    /// its lease events counted and logged.
    func scheduler(
        store: any ItemStateStore, subscriptions: [Subscription], metrics: EngineMetrics, logger: Logger,
        pass: @escaping Scheduler.Pass
    ) throws -> any PassScheduler {
        guard let shared = store as? any ClusterStore else {
            return Scheduler(
                subscriptions: subscriptions, states: try store.feeds(), now: Date(), maxParallel: parallel,
                record: { id, due in try? store.schedule(id, nextDue: due) }, pass: pass)
        }
        metrics.exposeCluster()
        shared.observe { event in
            metrics.lease(event)
            Self.log(event, logger)
        }
        logger.info(
            "sharing the store with other engines",
            metadata: [
                "store": "\(Redact.url(config.storeURL))", "engine": "\(shared.engine)",
                "lease.seconds": "\(shared.leaseSeconds)",
            ])
        return ClusterScheduler(
            store: shared, subscriptions: subscriptions, maxParallel: parallel, logger: logger, metrics: metrics,
            pass: pass)
    }

    /// What happened to one of this engine's leases, in its log.
    static func log(_ event: ClusterEvent, _ logger: Logger) {
        switch event {
        case .tookOver(let id, let from):
            logger.notice(
                "took over a subscription whose engine stopped renewing its lease",
                metadata: ["subscription.id": "\(id)", "previous.engine": "\(from)"])
        case .lost(let id):
            logger.warning(
                "this engine's lease was taken over while it was not renewing it (paused or cut off); its pass records nothing more",
                metadata: ["subscription.id": "\(id)"])
        case .fenced(let id, let fence, let holder):
            logger.warning(
                "a write of a pass whose lease was taken over was refused",
                metadata: ["subscription.id": "\(id)", "fence": "\(fence)", "holder": "\(holder ?? "-")"])
        }
    }

    /// $OUTBOARD_CONTROL_TOKEN, else the token file's content (created with a random token, mode 0600).
    func controlToken() throws -> String {
        if let t = ProcessInfo.processInfo.environment["OUTBOARD_CONTROL_TOKEN"], !t.isEmpty { return t }
        let file = controlTokenFile ?? (config.stateDirectory as NSString).appendingPathComponent("control-token")
        if let data = FileManager.default.contents(atPath: file) {
            let t = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !t.isEmpty else {
                throw CommandExit(
                    code: 1, message: "the control token file \(file) is empty (delete it to have a new token made)")
            }
            return t
        }
        let t = RandomToken.hex(bytes: 24)
        guard
            FileManager.default.createFile(
                atPath: file, contents: Data((t + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw CommandExit(code: 1, message: "cannot write the control token file \(file)")
        }
        return t
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
