import FileInput
import JournalInput
import Metrics
import Synchronization

/// Publishes what an input knows about itself as metrics, when asked (every few seconds):
/// per file of a file input its bytes behind, offset, size, and the lines and bytes read
/// from it; per journald input the age of the newest entry read (the cursor's lag behind
/// the present).
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
    private let files = Mutex<[String: PerFile]>([:])

    /// The gauges of one open file.
    private struct PerFile {
        let behind: Gauge
        let offset: Gauge
        let size: Gauge
        let lines: Gauge
        let bytes: Gauge

        init(_ dimensions: [(String, String)]) {
            behind = Gauge(label: "lk_file_bytes_behind", dimensions: dimensions)
            offset = Gauge(label: "lk_file_offset_bytes", dimensions: dimensions)
            size = Gauge(label: "lk_file_size_bytes", dimensions: dimensions)
            lines = Gauge(label: "lk_file_lines_read", dimensions: dimensions)
            bytes = Gauge(label: "lk_file_bytes_read", dimensions: dimensions)
        }

        func destroy() {
            for gauge in [behind, offset, size, lines, bytes] { gauge.destroy() }
        }
    }

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
                let g = gauges[file.path] ?? PerFile([("input", input), ("path", file.path)])
                gauges[file.path] = g
                g.behind.record(Int64(clamping: file.bytesBehind))
                g.offset.record(Int64(clamping: file.offset))
                g.size.record(Int64(clamping: file.size))
                g.lines.record(Int64(clamping: file.linesRead))
                g.bytes.record(Int64(clamping: file.bytesRead))
            }
            for (path, g) in gauges where !open.contains(path) {
                g.destroy()
                gauges[path] = nil
            }
        }
    }
}
