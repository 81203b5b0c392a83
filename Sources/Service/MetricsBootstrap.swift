import Metrics
import Prometheus

/// Installs swift-prometheus as the process's swift-metrics backend.
public enum MetricsBootstrap {
    /// Bootstraps `MetricsSystem` with a `PrometheusMetricsFactory` over a new registry and
    /// returns the registry for `MetricsServer`. Call once per process, before any metric is
    /// created (swift-metrics allows a single bootstrap).
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
