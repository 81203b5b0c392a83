import Checkpoints
import Config
import Foundation
import JSON
import JournalInput
import Logging
import Synchronization

/// One journal entry in the journal export format, as `systemd-journal-remote` reads it.
struct ExportEntry {
    var realtime: UInt64
    var monotonic: UInt64 = 1_000
    var bootID = "0123456789abcdef0123456789abcdef"
    var fields: [(name: String, value: [UInt8])]

    init(realtime: UInt64, monotonic: UInt64 = 1_000, bootID: String = "0123456789abcdef0123456789abcdef", _ fields: [(String, String)]) {
        self.realtime = realtime
        self.monotonic = monotonic
        self.bootID = bootID
        self.fields = fields.map { ($0.0, Array($0.1.utf8)) }
    }

    init(realtime: UInt64, bytes fields: [(String, [UInt8])]) {
        self.realtime = realtime
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    /// The entry in export format: text fields as `NAME=value`, anything holding a newline
    /// or not UTF-8 in the binary form (name, newline, little-endian length, bytes).
    var exported: [UInt8] {
        var out = Array("__REALTIME_TIMESTAMP=\(realtime)\n__MONOTONIC_TIMESTAMP=\(monotonic)\n_BOOT_ID=\(bootID)\n".utf8)
        for (name, value) in fields {
            if value.contains(UInt8(ascii: "\n")) || String(validating: value, as: UTF8.self) == nil || value.contains(0) {
                out += Array(name.utf8) + [UInt8(ascii: "\n")]
                withUnsafeBytes(of: UInt64(value.count).littleEndian) { out += $0 }
                out += value + [UInt8(ascii: "\n")]
            } else {
                out += Array("\(name)=".utf8) + value + [UInt8(ascii: "\n")]
            }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }
}

/// Journal files made by the real `systemd-journal-remote` in a scratch directory.
final class JournalDirectory {
    static let remote = "/lib/systemd/systemd-journal-remote"
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("lk-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path in the temporary area that does not exist yet.
    static func absentPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("lk-journal-\(UUID().uuidString)").path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes (or appends to) `file` in the directory; returns its path.
    @discardableResult
    func write(_ entries: [ExportEntry], to file: String = "a.journal") throws -> String {
        let output = path + "/" + file
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.remote)
        process.arguments = ["--output=\(output)", "--split-mode=none", "-"]
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: Data(entries.flatMap(\.exported)))
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("systemd-journal-remote exited with \(process.terminationStatus) writing \(output)")
        }
        return output
    }

    /// What `journalctl -o json` prints for the directory, one parsed object per entry.
    func journalctl(_ arguments: [String] = []) throws -> [JSONValue] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        process.arguments = ["-o", "json", "--no-pager", "--directory", path] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONValue(parsing: $0) }
    }
}

/// A `systemd-journal-remote` that keeps running, fed entry by entry through its stdin, so
/// that each entry lands in the journal file while a reader follows it.
final class JournalWriter {
    private let process = Process()
    private let stdin = Pipe()

    init(file: String) throws {
        process.executableURL = URL(fileURLWithPath: JournalDirectory.remote)
        process.arguments = ["--output=\(file)", "--split-mode=none", "-"]
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func append(_ entries: [ExportEntry]) throws {
        try stdin.fileHandleForWriting.write(contentsOf: Data(entries.flatMap(\.exported)))
    }

    func finish() throws {
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Entries numbered `range`, one microsecond apart, with a `SEQ` field holding the number.
func numberedEntries(_ range: Range<Int>, base: UInt64 = 1_700_000_000_000_000, extra: [(String, String)] = []) -> [ExportEntry] {
    range.map { i in
        ExportEntry(
            realtime: base + UInt64(i), monotonic: 1_000 + UInt64(i),
            [("MESSAGE", "entry \(i)"), ("SEQ", "\(i)"), ("SYSLOG_IDENTIFIER", i % 2 == 0 ? "even" : "odd")] + extra)
    }
}

/// A state directory with a checkpoint store, standing in for the agent's across restarts.
final class StateDirectory {
    let store: CheckpointStore

    init() {
        store = CheckpointStore(directory: JournalDirectory.absentPath())
    }

    deinit {
        try? FileManager.default.removeItem(atPath: store.directory)
    }

    /// A committer as a freshly started agent would load it.
    func committer(input: String = "journal-test") throws -> CheckpointCommitter {
        try CheckpointCommitter(input: input, store: store)
    }
}

/// Log records kept in memory, so that tests can check what the input says.
final class LogRecorder: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    var all: [Record] { records.withLock { $0 } }

    func logger() -> Logger {
        Logger(label: "test") { _ in Handler(recorder: self) }
    }

    fileprivate func record(_ record: Record) {
        records.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            recorder.record(Record(
                level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}

/// A running input whose delivered lines a test can wait for, bounded in time.
final class RunningInput: Sendable {
    let input: JournalInput
    private let task: Task<Void, any Error>
    private let lines: AsyncStream<[InputLine]>
    private let readyStream: AsyncStream<Void>
    private let received = Mutex<[InputLine]>([])

    /// Starts `input.run`; with `commitTo`, each batch is advanced in the committer and
    /// flushed, as the pipeline does once the batch is done.
    init(_ input: JournalInput, commitTo committer: CheckpointCommitter? = nil) {
        self.input = input
        let (lines, linesContinuation) = AsyncStream<[InputLine]>.makeStream()
        let (readyStream, readyContinuation) = AsyncStream<Void>.makeStream()
        self.lines = lines
        self.readyStream = readyStream
        task = Task {
            defer { linesContinuation.finish() }
            try await input.run(
                deliver: { batch in
                    if let committer, let last = batch.last {
                        await committer.advance([last.checkpoint])
                        try? await committer.flush()
                    }
                    linesContinuation.yield(batch)
                },
                ready: { readyContinuation.yield() })
        }
    }

    /// Waits until the input said it is ready.
    func ready(within limit: Duration = .seconds(10)) async throws {
        let stream = readyStream
        try await withDeadline(limit, "the input to be ready") {
            for await _ in stream { return }
        }
    }

    /// Waits until `count` lines in total have arrived; returns them all.
    @discardableResult
    func lines(_ count: Int, within limit: Duration = .seconds(10)) async throws -> [InputLine] {
        try await withDeadline(limit, "\(count) lines") {
            if self.received.withLock({ $0.count }) >= count { return }
            for await batch in self.lines {
                let total = self.received.withLock { $0 += batch; return $0.count }
                if total >= count { return }
            }
        }
        return received.withLock { $0 }
    }

    /// The lines received so far.
    var receivedLines: [InputLine] { received.withLock { $0 } }

    /// Cancels the input and waits for `run` to return (rethrowing its error); returns every
    /// line it delivered, including batches not waited for yet.
    @discardableResult
    func stop(within limit: Duration = .seconds(10)) async throws -> [InputLine] {
        task.cancel()
        try await withDeadline(limit, "the input to stop") {
            try await self.task.value
            for await batch in self.lines { self.received.withLock { $0 += batch } }
        }
        return received.withLock { $0 }
    }

    /// Waits for `run` to return on its own (an input that does not follow).
    func finished(within limit: Duration = .seconds(30)) async throws -> [InputLine] {
        try await withDeadline(limit, "the input to finish") {
            for await batch in self.lines { self.received.withLock { $0 += batch } }
            try await self.task.value
        }
        return received.withLock { $0 }
    }
}

/// Runs `body`, failing if it takes longer than `limit`.
func withDeadline(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await body()
            return true
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return false
        }
        let finished = try await group.next() ?? false
        group.cancelAll()
        if !finished { throw FixtureError("timed out after \(limit) waiting for \(what)") }
    }
}

extension InputLine {
    /// The line's JSON object.
    var object: JSONValue {
        get throws { try JSONValue(parsing: bytes) }
    }

    /// The `SEQ` field of a numbered entry.
    var seq: Int? {
        guard case .string(let text)? = (try? object)?["SEQ"] else { return nil }
        return Int(text)
    }
}

func journalInput(
    _ directory: String?, matches: [String] = [], startAt: StartAt = .beginning, committer: CheckpointCommitter,
    logger: Logger = Logger(label: "test"), follow: Bool = true, maxBatchEntries: Int = 512
) -> JournalInput {
    JournalInput(
        name: "journal-test",
        config: JournaldInputConfig(directory: directory, matches: matches, startAt: startAt),
        committer: committer, logger: logger, follow: follow, maxBatchEntries: maxBatchEntries)
}
