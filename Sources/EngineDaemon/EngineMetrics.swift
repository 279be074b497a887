import Engine
import CoreMetrics
import Foundation
import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

/// The daemon's metrics, served by its control endpoint at `GET /metrics`. They are recorded
/// through the swift-metrics API into a Prometheus backend of their own, as the reference
/// target's are (`TargetMetrics`); nothing is bootstrapped process-wide.
public final class EngineMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    static let lagLabel = "outboard_queue_lag_seconds", durationLabel = "outboard_pass_duration_seconds"

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = [
            Self.lagLabel: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
            Self.durationLabel: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
        ]
        self.factory = factory
        // Every kind is exposed from the start, so a rate() over a kind that never happened is 0, not absent.
        for kind in PassErrorKind.allCases { _ = errors(kind) }
        _ = running
    }

    /// Passes running now.
    private var running: Meter { Meter(label: "outboard_passes_running", factory: factory) }

    /// A pass started `lag` seconds after it was due.
    public func started(lag: TimeInterval) {
        Recorder(label: Self.lagLabel, factory: factory).record(lag)
        running.increment()
    }

    /// A pass finished after `seconds`.
    public func finished(_ r: SyncReport, seconds: TimeInterval) {
        running.decrement()
        Recorder(label: Self.durationLabel, factory: factory).record(seconds)
        // Passes by subscription and result: applied, not-modified (a 304 or an unchanged body), failed.
        let result = r.notModified ? "not-modified" : r.succeeded ? "applied" : "failed"
        Counter(
            label: "outboard_passes_total", dimensions: [("subscription", r.subscription), ("result", result)],
            factory: factory
        ).increment()
        // Items by subscription and change: added, updated, deleted on the target; failed (retried next pass).
        for (change, n) in [
            ("added", r.added.count), ("updated", r.updated.count), ("deleted", r.deleted.count),
            ("failed", r.failed.count),
        ] where n > 0 {
            Counter(
                label: "outboard_items_total", dimensions: [("subscription", r.subscription), ("change", change)],
                factory: factory
            ).increment(by: n)
        }
        if let kind = r.errorKind { errors(kind).increment() }
        // Reconciles (the mirror's anti-entropy) by subscription, and the items each repaired.
        if r.reconciled {
            Counter(
                label: "outboard_reconciles_total", dimensions: [("subscription", r.subscription)], factory: factory
            )
            .increment()
            Counter(
                label: "outboard_reconcile_repairs_total", dimensions: [("subscription", r.subscription)],
                factory: factory
            ).increment(by: r.repaired.count)
        }
    }

    /// Leases this engine holds in a shared store (its passes running there).
    public func leases(held: Int) {
        Gauge(label: "outboard_leases_held", factory: factory).record(held)
    }

    /// What happened to this engine's leases in a shared store: a takeover of an expired lease,
    /// or a write refused because another engine took the lease over.
    public func lease(_ event: ClusterEvent) {
        switch event {
        case .tookOver: Counter(label: "outboard_lease_takeovers_total", factory: factory).increment()
        case .fenced: Counter(label: "outboard_fenced_commits_total", factory: factory).increment()
        case .lost: Counter(label: "outboard_leases_lost_total", factory: factory).increment()
        }
    }

    /// Exposes the cluster's metrics at 0 (an engine on a shared store).
    public func exposeCluster() {
        leases(held: 0)
        for label in ["outboard_lease_takeovers_total", "outboard_fenced_commits_total", "outboard_leases_lost_total"] {
            Counter(label: label, factory: factory).increment(by: 0)
        }
    }

    /// Failed passes by kind of error.
    private func errors(_ kind: PassErrorKind) -> Counter {
        Counter(label: "outboard_pass_errors_total", dimensions: [("kind", kind.rawValue)], factory: factory)
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
