import Foundation
import Logging
import ServiceLifecycle

/// The index's upkeep in the background of `outboard-target serve`: a round at start (which
/// indexes a store from before the index) and one every `interval` (a day) after it, until a
/// graceful shutdown. The clock is injected: `now` for what a round extends to, `sleep` for the
/// wait between rounds.
public struct IndexUpkeepService: Service {
    public var upkeep: IndexUpkeep
    public var interval: Duration
    public var now: @Sendable () -> Date
    public var sleep: @Sendable (Duration) async throws -> Void
    public var logger: Logger
    /// Told of each round's report (tests wait on it).
    public var onRound: @Sendable (IndexUpkeep.Report) -> Void

    public init(
        upkeep: IndexUpkeep, interval: Duration = .seconds(86_400), now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        logger: Logger, onRound: @escaping @Sendable (IndexUpkeep.Report) -> Void = { _ in }
    ) {
        self.upkeep = upkeep
        self.interval = interval
        self.now = now
        self.sleep = sleep
        self.logger = logger
        self.onRound = onRound
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let r = try await upkeep.run(now: now())
                if r.indexed + r.extended + r.pruned > 0 {
                    logger.info(
                        "instance index kept up",
                        metadata: [
                            "index.indexed": "\(r.indexed)", "index.extended": "\(r.extended)",
                            "index.rows": "\(r.rows)", "index.pruned": "\(r.pruned)",
                            "index.collections": "\(r.collections)",
                        ])
                }
                onRound(r)
            } catch {
                // The next round tries again; queries outside the index expand on the fly meanwhile.
                logger.error("instance index upkeep failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { [sleep, interval] in try await sleep(interval) }
        }
    }
}
