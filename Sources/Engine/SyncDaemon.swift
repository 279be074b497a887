import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `outboard run`: the scheduler as a long-running service. Each round runs what is due, then
/// sleeps until the next due time (at most a minute). On graceful shutdown (SIGTERM, SIGINT) the
/// passes in flight finish — their batches commit — and it returns. SIGHUP reloads the
/// configuration through `reload`; an invalid one is refused and the old one keeps running.
public struct SyncDaemon: Service {
    public let scheduler: Scheduler
    public let logger: Logger
    /// Loads the configuration again: the subscriptions, or the problems that refuse it.
    public let reload: @Sendable () -> Result<[Subscription], ReloadRefused>

    public init(scheduler: Scheduler, logger: Logger, reload: @escaping @Sendable () -> Result<[Subscription], ReloadRefused>) {
        self.scheduler = scheduler
        self.logger = logger
        self.reload = reload
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() {
                    switch reload() {
                    case .success(let subs):
                        await scheduler.reload(subs, now: Date())
                        logger.notice("configuration reloaded", metadata: ["subscriptions": "\(subs.count)"])
                    case .failure(let refused):
                        for p in refused.problems { logger.error("reload refused: \(p)") }
                        logger.warning("the configuration has problems; the previous one keeps running")
                    }
                }
            }
            group.addTask {
                while !Task.isShuttingDownGracefully {
                    let reports = await scheduler.runDue(now: Date(), clock: { Date() })
                    for r in reports { log(r) }
                    let next = await scheduler.nextDue() ?? Date().addingTimeInterval(60)
                    let wait = min(60, max(0.05, next.timeIntervalSinceNow))
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    func log(_ r: SyncReport) {
        var meta: Logger.Metadata = ["subscription.id": "\(r.subscription)"]
        if r.notModified {
            logger.debug("feed not modified", metadata: meta)
            return
        }
        meta["plan.add"] = "\(r.added.count)"
        meta["plan.update"] = "\(r.updated.count)"
        meta["plan.delete"] = "\(r.deleted.count)"
        meta["items.unchanged"] = "\(r.unchanged)"
        if let e = r.error {
            meta["error"] = "\(e)"
            logger.warning("pass failed", metadata: meta)
        } else if !r.added.isEmpty || !r.updated.isEmpty || !r.deleted.isEmpty {
            logger.notice("pass applied changes", metadata: meta)
        } else {
            logger.debug("pass found nothing to change", metadata: meta)
        }
    }
}

/// Why a reload was refused: the `outboard check` messages.
public struct ReloadRefused: Error, Sendable {
    public var problems: [String]
    public init(_ problems: [String]) { self.problems = problems }
}
