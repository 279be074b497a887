import Engine
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `outboard run`: the scheduler as a long-running service. It starts each pass the moment it is
/// due and a slot is free, and otherwise sleeps until the next due time, a finished pass, a
/// trigger or a shutdown wakes it. On graceful shutdown (SIGTERM, SIGINT) no pass starts; the
/// passes in flight stop after their current batch, which commits, and it returns. SIGHUP, or a
/// change to the configuration files, reloads the configuration through `reload`; an invalid one
/// is refused and the old one keeps running.
public struct SyncDaemon: Service {
    public let scheduler: any PassScheduler
    public let metrics: EngineMetrics
    public let logger: Logger
    /// Loads the configuration again: the subscriptions, or the problems that refuse it.
    let reload: @Sendable () -> Result<[Subscription], ReloadRefused>
    /// Watches the configuration's files; nil: only SIGHUP reloads.
    let watcher: ConfigWatcher?
    let bell = Doorbell()

    public init(
        scheduler: any PassScheduler, metrics: EngineMetrics = EngineMetrics(), logger: Logger,
        watcher: ConfigWatcher? = nil,
        reload: @escaping @Sendable () -> Result<[Subscription], ReloadRefused>
    ) {
        self.scheduler = scheduler
        self.metrics = metrics
        self.logger = logger
        self.watcher = watcher
        self.reload = reload
    }

    /// Makes a subscription due now and wakes the loop (the control endpoint's trigger).
    public func trigger(_ id: String) async -> Scheduler.TriggerResult {
        let result = await scheduler.trigger(id, now: Date())
        if result != .unknown {
            logger.info("pass triggered", metadata: ["subscription.id": "\(id)", "result": "\(result.rawValue)"])
            await bell.ring()
        }
        return result
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() { await applyReload(reason: "SIGHUP") }
            }
            if let watcher {
                let interval = watcher.interval
                group.addTask {
                    var watcher = watcher
                    while !Task.isShuttingDownGracefully {
                        try? await cancelWhenGracefulShutdown {
                            try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                        }
                        if Task.isShuttingDownGracefully { break }
                        if watcher.poll() { await applyReload(reason: "a configuration file changed") }
                    }
                }
            }
            group.addTask { await schedule() }
            // The scheduling loop ends only on shutdown; then the others stop too.
            try await group.next()
            group.cancelAll()
        }
    }

    /// The scheduling loop: start what is due, sleep until something changes, repeat; on
    /// shutdown, wait for the passes in flight.
    func schedule() async {
        await withGracefulShutdownHandler {
            let pass = scheduler.pass
            await withDiscardingTaskGroup { passes in
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    for started in await scheduler.start(now: Date()) {
                        metrics.started(lag: started.lag)
                        passes.addTask {
                            let clock = ContinuousClock.now
                            let report = await pass(started.subscription)
                            let elapsed = ContinuousClock.now - clock
                            await scheduler.finish(report, now: Date())
                            metrics.finished(
                                report,
                                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds)
                                    * 1e-18)
                            log(report)
                            await bell.ring()
                        }
                    }
                    let wake = await scheduler.nextWake()
                    await bell.wait(seconds: min(60, max(0, wake?.timeIntervalSinceNow ?? 60)))
                }
                let running = await scheduler.running
                if running > 0 {
                    logger.notice("shutting down: waiting for \(running) pass(es) to finish their current batch")
                }
            }
            await scheduler.stopped()
        } onGracefulShutdown: {
            Task { await bell.ring() }
        }
    }

    func applyReload(reason: String) async {
        switch reload() {
        case .success(let subs):
            await scheduler.reload(subs, now: Date())
            await bell.ring()
            logger.notice(
                "configuration reloaded",
                metadata: ["reason": "\(reason)", "subscriptions": "\(subs.filter(\.enabled).count)"])
        case .failure(let refused):
            for p in refused.problems { logger.error("reload refused: \(p)") }
            logger.warning(
                "the configuration has problems; the previous one keeps running", metadata: ["reason": "\(reason)"])
        }
    }

    func log(_ r: SyncReport) {
        var meta: Logger.Metadata = ["subscription.id": "\(r.subscription)", "feed.shared": "\(r.fetchShared)"]
        if r.notModified {
            logger.debug("feed not modified", metadata: meta)
            return
        }
        meta["plan.add"] = "\(r.added.count)"
        meta["plan.update"] = "\(r.updated.count)"
        meta["plan.delete"] = "\(r.deleted.count)"
        meta["items.unchanged"] = "\(r.unchanged)"
        if !r.duplicates.isEmpty {
            meta["feed.duplicate_uids"] = "\(r.duplicates.count)"
            meta["feed.duplicate_copies_dropped"] = "\(r.duplicates.reduce(0) { $0 + $1.dropped })"
        }
        if let e = r.error {
            meta["error"] = "\(e)"
            meta["error.kind"] = "\(r.errorKind?.rawValue ?? "")"
            logger.warning("pass failed", metadata: meta)
        } else if !r.added.isEmpty || !r.updated.isEmpty || !r.deleted.isEmpty {
            logger.notice("pass applied changes", metadata: meta)
        } else {
            logger.debug("pass found nothing to change", metadata: meta)
        }
        // What a reconcile repaired (the target diverged from what the engine had written): one
        // line with the UIDs, so an operator can see what was changed behind the engine's back.
        if !r.repaired.isEmpty {
            meta["items.repaired"] = "\(r.repaired.count)"
            meta["item.uids"] = "\(r.repaired.prefix(50).joined(separator: " "))"
            logger.notice("reconcile repaired the mirror", metadata: meta)
        }
    }
}

/// Why a reload was refused: the `outboard check` messages.
public struct ReloadRefused: Error, Sendable {
    public var problems: [String]
    public init(_ problems: [String]) { self.problems = problems }
}

/// Wakes the scheduling loop early: a pass finished, a trigger came, the configuration changed, or
/// shutdown began. A ring while nobody waits is kept for the next wait.
actor Doorbell {
    private var rung = false
    private var waiter: CheckedContinuation<Void, Never>?
    private var timer: Task<Void, Never>?

    func ring() {
        timer?.cancel()
        timer = nil
        if let w = waiter {
            waiter = nil
            w.resume()
        } else {
            rung = true
        }
    }

    /// Returns after `seconds`, or at the first ring.
    func wait(seconds: TimeInterval) async {
        if rung {
            rung = false
            return
        }
        await withCheckedContinuation { c in
            waiter = c
            timer = Task {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                if !Task.isCancelled { ring() }
            }
        }
    }
}
