import Foundation
import Prometheus

/// The daemon's Prometheus metrics, served by its control endpoint at `GET /metrics`. Each
/// daemon has its own registry; nothing is bootstrapped process-wide.
public final class EngineMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let lag: ValueHistogram
    private let duration: ValueHistogram
    private let running: Gauge

    public init() {
        lag = registry.makeValueHistogram(descriptor: Self.name("queue_lag", "seconds", "How late each pass started after its due time."),
                                          buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300])
        duration = registry.makeValueHistogram(descriptor: Self.name("pass_duration", "seconds", "How long each pass took."),
                                               buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600])
        running = registry.makeGauge(descriptor: Self.name("passes_running", "", "Passes running now."))
        // Every kind is exposed from the start, so a rate() over a kind that never happened is 0, not absent.
        for kind in PassErrorKind.allCases { _ = errors(kind) }
    }

    /// A pass started `lag` seconds after it was due.
    public func started(lag: TimeInterval) {
        self.lag.record(lag)
        running.increment()
    }

    /// A pass finished after `seconds`.
    public func finished(_ r: SyncReport, seconds: TimeInterval) {
        running.decrement()
        duration.record(seconds)
        let result = r.notModified ? "not-modified" : r.succeeded ? "applied" : "failed"
        registry.makeCounter(descriptor: Self.passes, labels: [("subscription", r.subscription), ("result", result)]).increment()
        for (change, n) in [("added", r.added.count), ("updated", r.updated.count), ("deleted", r.deleted.count), ("failed", r.failed.count)] where n > 0 {
            registry.makeCounter(descriptor: Self.items, labels: [("subscription", r.subscription), ("change", change)]).increment(by: Int64(n))
        }
        if let kind = r.errorKind { errors(kind).increment() }
    }

    private func errors(_ kind: PassErrorKind) -> Counter {
        registry.makeCounter(descriptor: Self.errors, labels: [("kind", kind.rawValue)])
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "outboard", metricName: metric, unitName: unit, helpText: help)
    }

    static var passes: MetricNameDescriptor { name("passes", "total", "Passes by subscription and result: applied, not-modified (a 304 or an unchanged body), failed.") }
    static var items: MetricNameDescriptor { name("items", "total", "Items by subscription and change: added, updated, deleted on the target; failed (retried next pass).") }
    static var errors: MetricNameDescriptor { name("pass_errors", "total", "Failed passes by kind of error.") }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
