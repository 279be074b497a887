import Foundation

/// When a subscription runs next: a small pure state machine (no clock, no randomness inside:
/// "now" and the jitter are parameters), so every transition has a table test.
public struct Schedule: Sendable, Hashable {
    public enum Phase: Sendable, Hashable {
        /// Waiting for `nextDue`.
        case waiting
        /// A pass is running: it is never started twice.
        case running
        /// Waiting after failures, for `nextDue`.
        case backingOff
    }

    public var phase: Phase
    public var nextDue: Date
    /// Consecutive failed passes.
    public var failures: Int

    /// The first delay after a failure, and the most a back-off waits.
    public static let backoffBase: TimeInterval = 60
    public static let backoffCap: TimeInterval = 6 * 3600

    /// A subscription's schedule when the engine starts: never synced means due at once; otherwise
    /// its interval after its last attempt (or its back-off, if it was failing), with jitter so a
    /// restart does not fire everything at once.
    public init(lastAttempt: Date?, failures: Int, interval: TimeInterval, now: Date, jitter: Double) {
        self.failures = failures
        guard let lastAttempt else {
            phase = .waiting
            nextDue = now
            return
        }
        let delay = failures > 0 ? Self.backoff(failures: failures, jitter: jitter) : Self.jittered(interval, jitter)
        phase = failures > 0 ? .backingOff : .waiting
        nextDue = max(now, lastAttempt.addingTimeInterval(delay))
    }

    /// A schedule as a shared store holds it.
    public init(phase: Phase, nextDue: Date, failures: Int) {
        self.phase = phase
        self.nextDue = nextDue
        self.failures = failures
    }

    public func isDue(_ now: Date) -> Bool { phase != .running && nextDue <= now }

    /// Marks a pass as started; false when it is not due or already running.
    public mutating func start(now: Date) -> Bool {
        guard isDue(now) else { return false }
        phase = .running
        return true
    }

    /// Records a finished pass. Success: the interval (±10% jitter) from now. Failure: exponential
    /// back-off from 1 minute, capped at 6 hours (a subscription that keeps failing is retried at
    /// the cap), and never sooner than the server's Retry-After.
    public mutating func finish(
        success: Bool, now: Date, interval: TimeInterval, retryAfter: TimeInterval? = nil, jitter: Double
    ) {
        failures = success ? 0 : failures + 1
        phase = success ? .waiting : .backingOff
        nextDue = Self.nextDue(
            failures: failures, now: now, interval: interval, retryAfter: retryAfter, jitter: jitter)
    }

    /// When a pass that ended at `now` with `failures` consecutive failures (0: it succeeded) is
    /// due again: its interval with jitter, or its back-off (at least `retryAfter`).
    public static func nextDue(
        failures: Int, now: Date, interval: TimeInterval, retryAfter: TimeInterval? = nil, jitter: Double
    ) -> Date {
        guard failures > 0 else { return now.addingTimeInterval(jittered(interval, jitter)) }
        return now.addingTimeInterval(max(backoff(failures: failures, jitter: jitter), retryAfter ?? 0))
    }

    /// `interval` moved by up to ±10% (`jitter` in 0..<1).
    static func jittered(_ interval: TimeInterval, _ jitter: Double) -> TimeInterval {
        interval * (0.9 + 0.2 * jitter)
    }

    /// The delay after `failures` consecutive failures: base·2^(failures-1), capped, with jitter.
    static func backoff(failures: Int, jitter: Double) -> TimeInterval {
        let exponent = min(max(failures - 1, 0), 20)
        let raw = min(backoffCap, backoffBase * pow(2, Double(exponent)))
        return min(backoffCap, jittered(raw, jitter))
    }
}
