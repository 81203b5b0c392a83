import FileInput
import JournalInput
import Metrics
import Synchronization

/// Publishes what an input knows about itself as metrics, when asked (every few seconds):
/// per file of a file input its bytes behind, offset and size; per journald input the age
/// of the newest entry read (the cursor's lag behind the present).
struct InputMetrics: Sendable {
    let publish: @Sendable () -> Void

    static func file(_ input: FileInput) -> InputMetrics {
        let gauges = FileGauges(input: input.name)
        return InputMetrics { gauges.update(input.stats()) }
    }

    static func journal(_ input: JournalInput) -> InputMetrics {
        let age = Gauge(label: "lk_journald_cursor_age_seconds", dimensions: [("input", input.name)])
        let unreadable = Gauge(label: "lk_journald_unreadable_entries", dimensions: [("input", input.name)])
        return InputMetrics {
            let statistics = input.statistics
            if let lag = statistics.cursorAge() {
                age.record(Double(lag.components.seconds) + Double(lag.components.attoseconds) / 1e18)
            }
            unreadable.record(Int64(clamping: statistics.unreadableEntries))
        }
    }
}

/// The per-file gauges of one file input; those of files no longer open are removed.
private final class FileGauges: Sendable {
    private let input: String
    private let total: Gauge
    private let files = Mutex<[String: (behind: Gauge, offset: Gauge, size: Gauge)]>([:])

    init(input: String) {
        self.input = input
        self.total = Gauge(label: "lk_input_bytes_behind", dimensions: [("input", input)])
    }

    func update(_ stats: FileInputStats) {
        total.record(Int64(clamping: stats.bytesBehind))
        files.withLock { gauges in
            var open = Set<String>()
            for file in stats.files {
                open.insert(file.path)
                let dimensions = [("input", input), ("path", file.path)]
                let g = gauges[file.path] ?? (
                    Gauge(label: "lk_file_bytes_behind", dimensions: dimensions),
                    Gauge(label: "lk_file_offset_bytes", dimensions: dimensions),
                    Gauge(label: "lk_file_size_bytes", dimensions: dimensions))
                gauges[file.path] = g
                g.behind.record(Int64(clamping: file.bytesBehind))
                g.offset.record(Int64(clamping: file.offset))
                g.size.record(Int64(clamping: file.size))
            }
            for (path, g) in gauges where !open.contains(path) {
                g.behind.destroy()
                g.offset.destroy()
                g.size.destroy()
                gauges[path] = nil
            }
        }
    }
}
