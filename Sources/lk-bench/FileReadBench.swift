import ArgumentParser
import Checkpoints
import Config
import Dispatch
import FileInput
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `lk-bench file-read`: how fast the file input reads one file into a consumer that does
/// nothing, beside `wc -l` and `cat > /dev/null` on the same file; or, with
/// `--memory-mib`, the peak memory while a consumer never acknowledges a big file.
struct FileReadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file-read",
        abstract: "File input: lines/s on one file beside wc -l and cat, or peak memory with --memory-mib."
    )

    @Option(help: "Lines in the generated file.")
    var lines = 1_000_000

    @Option(help: "Bytes per line, newline included.")
    var lineBytes = 200

    @Option(help: "Read this NDJSON file instead of generating one.")
    var file: String?

    @Option(help: "Runs of each command; the best is reported.")
    var runs = 3

    @Option(name: .customLong("memory-mib"), help: "Measure peak memory on a generated file of this many MiB instead.")
    var memoryMiB: Int?

    @Option(help: "Memory: `discard` takes every batch and drops it; `stall` keeps --window lines, then never returns.")
    var consumer = "discard"

    @Option(help: "Memory, stall: lines the consumer holds (unacknowledged) before it stops taking any.")
    var window = 10_000

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let directory = try BenchDirectory()
        if let memoryMiB {
            try await measureMemory(in: directory, mebibytes: memoryMiB)
            return
        }
        let path: String
        let count: Int
        if let file {
            path = file
            count = try Self.countLines(path)
        } else {
            path = directory.path + "/bench.ndjson"
            try Self.generate(path, lines: lines, lineBytes: lineBytes)
            count = lines
        }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        _ = try Self.time(shell: "cat \"$1\" > /dev/null", path)
        var wc = Double.infinity
        var cat = Double.infinity
        var reader = Double.infinity
        for _ in 0..<runs {
            wc = min(wc, try Self.time(shell: "wc -l \"$1\" > /dev/null", path))
            cat = min(cat, try Self.time(shell: "cat \"$1\" > /dev/null", path))
            reader = min(reader, try await Self.timeReader(path: path, lines: count, state: directory.path + "/state"))
        }
        let mib = Double(size) / 1_048_576
        print(
            String(
                format: "file-read: %d lines (%.1f MiB): file input %.3f s = %.2f M lines/s (%.0f MiB/s); wc -l %.3f s; cat > /dev/null %.3f s; file input / wc -l = %.1fx",
                count, mib, reader, Double(count) / reader / 1e6, mib / reader, wc, cat, reader / wc))
    }

    /// Reads `path` with a file input into a consumer that only counts, until every line
    /// arrived; returns the seconds that took, start-up included.
    static func timeReader(path: String, lines: Int, state: String) async throws -> Double {
        try? FileManager.default.removeItem(atPath: state)
        let committer = try CheckpointCommitter(input: "bench", store: CheckpointStore(directory: state))
        var logger = Logger(label: "lk-bench.file-read")
        logger.logLevel = .warning
        let input = FileInput(name: "bench", config: FileInputConfig(paths: [path]), committer: committer, logger: logger)
        let done = Countdown(target: lines)
        let start = ContinuousClock.now
        let task = Task {
            try await input.run(deliver: { done.add($0.count) }, ready: {})
        }
        await done.wait()
        let elapsed = ContinuousClock.now - start
        task.cancel()
        try await task.value
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    private func measureMemory(in directory: BenchDirectory, mebibytes: Int) async throws {
        let path = directory.path + "/big.ndjson"
        let count = mebibytes * 1_048_576 / lineBytes
        try Self.generate(path, lines: count, lineBytes: lineBytes)
        let before = Self.peakResidentKiB()
        let committer = try CheckpointCommitter(
            input: "bench", store: CheckpointStore(directory: directory.path + "/state"))
        var logger = Logger(label: "lk-bench.file-read")
        logger.logLevel = .warning
        let input = FileInput(name: "bench", config: FileInputConfig(paths: [path]), committer: committer, logger: logger)
        let held = Holder(window: window, stall: consumer == "stall")
        let start = ContinuousClock.now
        let task = Task {
            try await input.run(deliver: { await held.take($0) }, ready: {})
        }
        // Until every line is taken (discard), or the reader has stood still for a second
        // behind a consumer that no longer takes anything (stall).
        var last = -1
        while true {
            try await Task.sleep(for: .seconds(1))
            let now = held.received
            if now >= count || (consumer == "stall" && now == last) { break }
            last = now
        }
        let stats = input.stats()
        task.cancel()
        held.release()
        try await task.value
        let elapsed = ContinuousClock.now - start
        print(
            "file-read memory: \(mebibytes) MiB file (\(count) lines), consumer \(consumer)"
                + (consumer == "stall" ? " holding \(window) lines" : "") + ", never acknowledging:"
                + " \(held.received) lines taken, \(stats.bytesRead / 1_048_576) MiB read in \(elapsed);"
                + " peak RSS \(Self.peakResidentKiB() / 1024) MiB (\(before / 1024) MiB before the input started)")
    }

    static func generate(_ path: String, lines: Int, lineBytes: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot create \(path)")
        }
        defer { try? handle.close() }
        var chunk = Data()
        for number in 0..<lines {
            let head = "{\"n\":\(number),\"level\":\"info\",\"msg\":\""
            let tail = "\"}\n"
            chunk.append(contentsOf: Array(head.utf8))
            chunk.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: max(0, lineBytes - head.utf8.count - tail.utf8.count)))
            chunk.append(contentsOf: Array(tail.utf8))
            if chunk.count >= 1 << 20 {
                try handle.write(contentsOf: chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: chunk)
    }

    static func countLines(_ path: String) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        return data.withUnsafeBytes { raw -> Int in
            guard var cursor = raw.baseAddress else { return 0 }
            let end = cursor + raw.count
            var count = 0
            while cursor < end, let found = memchr(cursor, 0x0A, cursor.distance(to: end)) {
                count += 1
                cursor = UnsafeRawPointer(found) + 1
            }
            return count
        }
    }

    /// Runs `sh -c script sh path` and returns its wall-clock seconds.
    static func time(shell script: String, _ path: String) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "sh", path]
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - start
        guard process.terminationStatus == 0 else { throw ValidationError("`\(script)` failed on \(path)") }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// The process's peak resident set size so far, in KiB.
    static func peakResidentKiB() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss
    }
}

/// `lk-bench file-follow`: the file input as a process of its own, for the kill tests in
/// tests/fileinput: prints every line it is handed on stdout, then commits it. SIGTERM or
/// SIGINT stop it cleanly (a last commit, exit 0); SIGKILL is what the tests send too.
struct FileFollow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file-follow",
        abstract: "Test harness: follow files, print each line, commit once printed."
    )

    @Option(help: "A `paths` glob (repeatable).")
    var path: [String]

    @Option(help: "The state directory for checkpoints.")
    var state: String

    @Option(help: "The input name (checkpoints are kept under it).")
    var input = "follow"

    @Option(help: "rotate_wait, in milliseconds.")
    var rotateWaitMs = 200

    @Option(help: "How often checkpoints are written, in milliseconds.")
    var flushMs = 20

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "lk-bench.file-follow")
        logger.logLevel = .notice
        let committer = try CheckpointCommitter(
            input: input, store: CheckpointStore(directory: state), interval: .milliseconds(flushMs), logger: logger)
        let fileInput = FileInput(
            name: input, config: FileInputConfig(paths: path, rotateWait: .milliseconds(rotateWaitMs)),
            committer: committer, logger: logger)
        signal(SIGPIPE, SIG_IGN)
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await committer.run() }
                group.addTask {
                    try? await fileInput.run(
                        deliver: { batch in
                            guard Self.write(batch) else { return }
                            await committer.advance(Self.lastPerKey(batch))
                        },
                        ready: { FileHandle.standardError.write(Data("ready\n".utf8)) })
                }
            }
        }
        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            sources.append(source)
        }
        await task.value
        sources.forEach { $0.cancel() }
    }

    /// Writes the lines to stdout, one per line; false if stdout is gone.
    static func write(_ batch: [InputLine]) -> Bool {
        var out: [UInt8] = []
        out.reserveCapacity(batch.reduce(0) { $0 + $1.bytes.count + 1 })
        for line in batch {
            out.append(contentsOf: line.bytes)
            out.append(0x0A)
        }
        return out.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(1, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                done += n
            }
            return true
        }
    }

    static func lastPerKey(_ batch: [InputLine]) -> [Checkpoint] {
        var last: [String: Checkpoint] = [:]
        for line in batch { last[line.checkpoint.key] = line.checkpoint }
        return Array(last.values)
    }
}

/// Counts lines handed on, and lets one task wait until a number is reached.
final class Countdown: Sendable {
    private struct State {
        var count = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let target: Int
    private let state = Mutex(State())

    init(target: Int) { self.target = target }

    func add(_ lines: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.count += lines
            guard state.count >= target else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.count >= target { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// A consumer that never acknowledges: it drops what it takes, or keeps a window of lines
/// and then stops taking any (its `take` does not return until `release`).
final class Holder: Sendable {
    private struct State {
        var received = 0
        var kept: [InputLine] = []
        var released = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let window: Int
    private let stall: Bool
    private let state = Mutex(State())

    init(window: Int, stall: Bool) {
        self.window = window
        self.stall = stall
    }

    var received: Int { state.withLock { $0.received } }

    func take(_ batch: [InputLine]) async {
        let full = state.withLock { state -> Bool in
            state.received += batch.count
            guard stall else { return false }
            state.kept.append(contentsOf: batch)
            return state.kept.count >= window && !state.released
        }
        guard full else { return }
        await withCheckedContinuation { continuation in
            let released = state.withLock { state -> Bool in
                if state.released { return true }
                state.waiters.append(continuation)
                return false
            }
            if released { continuation.resume() }
        }
    }

    func release() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.released = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}

/// A scratch directory for one benchmark run, removed afterwards.
final class BenchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/lk-bench-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ValidationError("mkdtemp failed") }
        path = String(decoding: UnsafeRawBufferPointer(start: made, count: strlen(made)), as: UTF8.self)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
