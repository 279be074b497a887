import CalWS
import CoreMetrics
import Prometheus

/// The server's Prometheus metrics, served at `GET /metrics`: requests by operation and status,
/// operations (inside multiOp too) by kind, CalWS errors by element, request duration. Each server
/// has its own registry; nothing is bootstrapped process-wide.
public struct TargetMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
    }

    /// Records one handled request.
    func record(_ request: CalWSRequest, _ response: CalWSResponse, nanoseconds: Int64) {
        Counter(
            label: "outboard_target_requests_total",
            dimensions: [("operation", request.operation), ("status", response.result.status.rawValue)],
            factory: factory
        ).increment()
        Timer(
            label: "outboard_target_request_duration", dimensions: [("operation", request.operation)], factory: factory
        ).recordNanoseconds(nanoseconds)
        var ops: [(CalWSRequest, CalWSResponse?)] = [(request, response)]
        if case .multiOp(let inner) = request.body {
            let responses: [CalWSResponse] = if case .multiOp(let r) = response.body { r } else { [] }
            // The responses follow the operations in order (after a rollback, a prefix of them).
            ops = inner.enumerated().map { i, op in (op, i < responses.count ? responses[i] : nil) }
        }
        for (op, r) in ops {
            Counter(
                label: "outboard_target_operations_total", dimensions: [("operation", op.operation)], factory: factory
            ).increment()
            if let error = r?.result.error {
                Counter(
                    label: "outboard_target_errors_total", dimensions: [("error", error.elementName)], factory: factory
                ).increment()
            }
        }
    }

    /// Records a request that could not be read (a SOAP fault) or was refused before handling.
    func refused(_ reason: String) {
        Counter(label: "outboard_target_refused_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// Records a stored entity that could not be read back (left out of an answer).
    func unreadable() {
        Counter(label: "outboard_target_unreadable_entities_total", factory: factory).increment()
    }

    /// The Prometheus text exposition.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
