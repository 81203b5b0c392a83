import ArgumentParser
import Checkpoints
import Config
import Foundation
import JournalInput
import Logging
import Synchronization

/// `lk-bench journal-read`: runs the journald input over a journal directory (or the local
/// system journal) and reports entries/s; `--compare-journalctl` times
/// `journalctl -o json` on the same journal. With `--print` it writes each entry's JSON
/// line to stdout instead (and "ready" to stderr once the journal is open), which the
/// private-journald tests use to watch the input from inside the namespace.
struct JournalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal-read",
        abstract: "Read a journal with the journald input; print entries/s or the entries themselves."
    )

    @Option(help: "A journal directory (default: the local system journal).")
    var directory: String?

    @Option(name: .customLong("match"), help: "A FIELD=value term; several are OR'ed.")
    var matches: [String] = []

    @Option(help: "Where to start without a checkpoint: beginning or end.")
    var startAt: String = "beginning"

    @Flag(help: "Keep following new entries until killed.")
    var follow = false

    @Flag(help: "Print each entry's JSON line on stdout.")
    var print = false

    @Option(help: "A state directory keeping the cursor between runs (default: none kept).")
    var state: String?

    @Option(help: "Entries per batch.")
    var batch = 512

    @Flag(help: "Also time `journalctl -o json` on the same journal.")
    var compareJournalctl = false

    func validate() throws {
        guard StartAt(rawValue: startAt) != nil else { throw ValidationError("--start-at must be beginning or end") }
        do {
            try JournalInput.validate(JournaldInputConfig(directory: directory, matches: matches))
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let stateDirectory = state ?? FileManager.default.temporaryDirectory.appendingPathComponent("lk-bench-\(UUID().uuidString)").path
        defer { if state == nil { try? FileManager.default.removeItem(atPath: stateDirectory) } }
        let committer = try CheckpointCommitter(input: "journal-read", store: CheckpointStore(directory: stateDirectory))
        let config = JournaldInputConfig(directory: directory, matches: matches, startAt: StartAt(rawValue: startAt) ?? .beginning)
        let input = JournalInput(
            name: "journal-read", config: config, committer: committer,
            logger: Logger(label: "lk-bench.journal", factory: { StreamLogHandler.standardError(label: $0) }),
            follow: follow, maxBatchEntries: batch)
        let totals = Totals()
        let printing = print

        let started = ContinuousClock.now
        try await input.run(
            deliver: { lines in
                var bytes = 0
                if printing {
                    var out: [UInt8] = []
                    for line in lines {
                        out += line.bytes
                        out.append(UInt8(ascii: "\n"))
                    }
                    FileHandle.standardOutput.write(Data(out))
                } else {
                    for line in lines { bytes += line.bytes.count }
                }
                totals.add(entries: lines.count, bytes: bytes)
                if let last = lines.last { await committer.advance([last.checkpoint]) }
            },
            ready: {
                if printing { FileHandle.standardError.write(Data("ready\n".utf8)) }
            })
        let elapsed = ContinuousClock.now - started
        try await committer.flush()
        if printing { return }

        let (entries, bytes) = totals.value
        Swift.print(
            "journal-read: \(entries) entries, \(bytes) JSON bytes in \(Self.format(elapsed)): \(Self.rate(entries, elapsed)) entries/s")
        if compareJournalctl {
            let journalctlElapsed = try Self.timeJournalctl(directory: directory, matches: matches)
            Swift.print(
                "journalctl -o json > /dev/null: \(Self.format(journalctlElapsed)): \(Self.rate(entries, journalctlElapsed)) entries/s")
        }
    }

    private static func timeJournalctl(directory: String?, matches: [String]) throws -> Duration {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        var arguments = ["-o", "json", "--no-pager"]
        if let directory { arguments += ["--directory", directory] }
        for (i, match) in matches.enumerated() { arguments += i > 0 ? ["+", match] : [match] }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        return ContinuousClock.now - started
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func format(_ duration: Duration) -> String {
        String(format: "%.2f s", seconds(duration))
    }

    private static func rate(_ entries: Int, _ duration: Duration) -> String {
        String(format: "%.0f", Double(entries) / max(seconds(duration), 1e-9))
    }
}

/// Entries and bytes counted across deliveries.
private final class Totals: Sendable {
    private let state = Mutex((entries: 0, bytes: 0))

    func add(entries: Int, bytes: Int) {
        state.withLock {
            $0.entries += entries
            $0.bytes += bytes
        }
    }

    var value: (entries: Int, bytes: Int) { state.withLock { $0 } }
}
