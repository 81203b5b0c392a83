import Metrics
import Synchronization

/// The agent's metrics, through swift-metrics (exported by the Service module's
/// Prometheus endpoint). Counters with a fixed label set are made once; those labelled by
/// an open-ended value (error code, rule) are made on first use and cached.
final class PipelineMetrics: Sendable {
    let recordsPut = Counter(label: "lk_records_put_total")
    let requestsInFlight = Gauge(label: "lk_requests_in_flight")
    let concurrencyLimit = Gauge(label: "lk_concurrency_limit")
    let requestDuration = Timer(label: "lk_request_duration_seconds")
    let readToRequest = Timer(label: "lk_read_to_request_seconds")
    private let counters = Mutex<[String: Counter]>([:])

    func recordsFailed(code: String) -> Counter { counter("lk_records_failed_total", ["code": code]) }
    func recordsRetried(code: String) -> Counter { counter("lk_records_retried_total", ["code": code]) }
    func recordsRejected(reason: String) -> Counter { counter("lk_records_rejected_total", ["reason": reason]) }
    func requestsFailed(code: String) -> Counter { counter("lk_requests_failed_total", ["code": code]) }
    func events(rule: String) -> Counter { counter("lk_events_total", ["rule": rule]) }

    /// Per-input counters, made once per input.
    struct InputCounters: Sendable {
        let lines: Counter
        let bytes: Counter
        let unmatched: Counter
        let invalid: Counter
        let mappingErrors: Counter
        let commits: Counter
        /// Time the input waited for room in the buffer budget (backpressure).
        let blocked: FloatingPointCounter

        init(input: String) {
            lines = Counter(label: "lk_lines_read_total", dimensions: [("input", input)])
            bytes = Counter(label: "lk_bytes_read_total", dimensions: [("input", input)])
            unmatched = Counter(label: "lk_lines_unmatched_total", dimensions: [("input", input)])
            invalid = Counter(label: "lk_lines_invalid_total", dimensions: [("input", input), ("reason", "invalid")])
            mappingErrors = Counter(label: "lk_lines_invalid_total", dimensions: [("input", input), ("reason", "mapping_error")])
            commits = Counter(label: "lk_checkpoint_commits_total", dimensions: [("input", input)])
            blocked = FloatingPointCounter(label: "lk_input_blocked_seconds_total", dimensions: [("input", input)])
        }
    }

    private func counter(_ label: String, _ dimension: [String: String]) -> Counter {
        let key = label + dimension.map { "|\($0.key)=\($0.value)" }.joined()
        return counters.withLock { cache in
            if let existing = cache[key] { return existing }
            let made = Counter(label: label, dimensions: dimension.map { ($0.key, $0.value) })
            cache[key] = made
            return made
        }
    }
}
