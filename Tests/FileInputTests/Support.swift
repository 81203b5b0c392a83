import Checkpoints
import Config
import FileInput
import Foundation
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp for one test, removed when the test is done with it.
final class TemporaryDirectory: Sendable {
    let path: String

    init(parent: String = "/tmp") throws {
        var template = Array("\(parent)/lk-fileinput-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed: \(errno)") }
        path = String(decoding: UnsafeRawBufferPointer(start: made, count: strlen(made)), as: UTF8.self)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Appends bytes to a file the way a logging application does (O_APPEND).
func append(_ path: String, _ text: String) throws {
    try append(path, Array(text.utf8))
}

func append(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw TestFailure("open \(path): \(errno)") }
    defer { close(fd) }
    try bytes.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = write(fd, raw.baseAddress! + done, raw.count - done)
            guard n > 0 else { throw TestFailure("write \(path): \(errno)") }
            done += n
        }
    }
}

func inode(_ path: String) -> UInt64? {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
}

/// Waits for `condition` to hold, checking every few milliseconds, for at most `timeout`.
func eventually(
    _ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    if try await condition() { return }
    throw TestFailure("timed out after \(timeout) waiting for: \(what)")
}

/// Records log messages for tests to look at, and prints nothing.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    var logger: Logger {
        var logger = Logger(label: "test") { _ in RecordingHandler(recorder: self) }
        logger.logLevel = .debug
        return logger
    }

    func record(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    var all: [Entry] { entries.withLock { $0 } }

    func matching(_ fragment: String) -> [Entry] { all.filter { $0.message.contains(fragment) } }

    /// Prints what was logged, to see why a test failed.
    func dump() {
        for entry in all {
            print(entry.level, entry.message, entry.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        }
    }
}

private struct RecordingHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged: [String: String] = [:]
        for (key, value) in metadata { merged[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { merged[key] = "\(value)" }
        recorder.record(.init(level: event.level, message: "\(event.message)", metadata: merged))
    }
}

/// What a consumer received, and a gate that can hold deliveries back.
final class Received: Sendable {
    private struct State {
        var lines: [InputLine] = []
        var batches = 0
        var open = true
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var lines: [InputLine] { state.withLock { $0.lines } }
    var count: Int { state.withLock { $0.lines.count } }
    var texts: [String] { lines.map { String(decoding: $0.bytes, as: UTF8.self) } }
    var batches: Int { state.withLock { $0.batches } }
    /// Deliveries waiting at the closed gate.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Closes the gate: the next delivery waits until `open()`.
    func close() { state.withLock { $0.open = false } }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func receive(_ batch: [InputLine]) async {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
        state.withLock {
            $0.lines.append(contentsOf: batch)
            $0.batches += 1
        }
    }
}

/// A file input running in a task for a test, with its consumer.
final class RunningInput: Sendable {
    let input: FileInput
    let committer: CheckpointCommitter
    let received: Received
    let task: Task<Void, Never>

    /// Starts the input and waits until it is ready. With `acknowledge`, every batch is
    /// committed (advanced) as soon as it is received, like a pipeline that is done at once.
    static func start(
        config: FileInputConfig, committer: CheckpointCommitter, tuning: FileInputTuning = .testing,
        logger: Logger = LogRecorder().logger, acknowledge: Bool = true, received: Received = Received(),
        consumer: (@Sendable ([InputLine]) async -> Void)? = nil
    ) async throws -> RunningInput {
        let input = FileInput(name: committer.input, config: config, committer: committer, logger: logger, tuning: tuning)
        let ready = Mutex(false)
        let task = Task<Void, Never> {
            try? await input.run(
                deliver: { batch in
                    await received.receive(batch)
                    if let consumer {
                        await consumer(batch)
                    } else if acknowledge {
                        await committer.advance(lastPerKey(batch))
                    }
                },
                ready: { ready.withLock { $0 = true } })
        }
        let running = RunningInput(input: input, committer: committer, received: received, task: task)
        try await eventually("the input to be ready") { ready.withLock { $0 } }
        return running
    }

    private init(input: FileInput, committer: CheckpointCommitter, received: Received, task: Task<Void, Never>) {
        self.input = input
        self.committer = committer
        self.received = received
        self.task = task
    }

    /// Cancels the input and waits for it to end.
    func stop() async {
        task.cancel()
        received.open()
        await task.value
    }

    func waitForLines(_ count: Int, timeout: Duration = .seconds(10)) async throws {
        try await eventually("\(count) lines (have \(received.count))", timeout: timeout) { received.count >= count }
    }
}

/// The checkpoint of the last line of each key in a batch: what a pipeline commits once
/// the batch is done.
func lastPerKey(_ batch: [InputLine]) -> [Checkpoint] {
    var last: [String: Checkpoint] = [:]
    var order: [String] = []
    for line in batch {
        if last[line.checkpoint.key] == nil { order.append(line.checkpoint.key) }
        last[line.checkpoint.key] = line.checkpoint
    }
    return order.compactMap { last[$0] }
}

extension FileInputTuning {
    /// Short times, so that tests about rotation take a fraction of a second.
    static var testing: FileInputTuning {
        FileInputTuning(pollInterval: .milliseconds(50), batchMaxLines: 256, pruneInterval: .seconds(3600))
    }
}

func makeCommitter(_ state: TemporaryDirectory, input: String = "files") throws -> CheckpointCommitter {
    try CheckpointCommitter(input: input, store: CheckpointStore(directory: state.path + "/state"))
}

func config(_ paths: [String], exclude: [String] = [], startAt: StartAt = .beginning, maxLineBytes: Int = 1 << 20)
    -> FileInputConfig
{
    FileInputConfig(paths: paths, exclude: exclude, startAt: startAt, maxLineBytes: maxLineBytes, rotateWait: .milliseconds(200))
}
