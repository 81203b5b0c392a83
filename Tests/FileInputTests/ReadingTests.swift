import Checkpoints
import Config
import FileInput
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Reading lines from real files under the real inotify watcher: appends, new files,
/// split writes, long lines, raw bytes, many files.
@Suite struct ReadingTests {
    @Test func appendedLinesAreReadWithTheirCheckpoints() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        try append(path, "one\ntwo\n")
        let committer = try makeCommitter(dir)
        let running = try await RunningInput.start(config: config([dir.path + "/*.log"]), committer: committer)
        try await running.waitForLines(2)
        try append(path, "three\n")
        try await running.waitForLines(3)
        try await eventually("statistics published") { running.input.stats().linesRead == 3 }
        let stats = running.input.stats()
        await running.stop()

        #expect(running.received.texts == ["one", "two", "three"])
        let lines = running.received.lines
        #expect(lines.map(\.offset) == [0, 4, 8])
        #expect(lines.map(\.checkpoint.offset) == [4, 8, 14])
        #expect(lines.allSatisfy { $0.origin == path && $0.checkpoint.path == path })
        #expect(Set(lines.map(\.checkpoint.key)).count == 1)
        #expect(lines[0].checkpoint.inode == inode(path))
        #expect(stats.watcher == "inotify")
        #expect(stats.linesRead == 3)
        #expect(stats.bytesRead == 14)
        #expect(stats.files.map(\.bytesBehind) == [0])
        #expect(stats.files.map(\.offset) == [14])
        #expect(running.input.stats().linesRead == 3)
        #expect(running.input.stats().files.isEmpty)
    }

    @Test func newFilesInGlobbedDirectoriesAreFollowedAndExcludesHonoured() async throws {
        let dir = try TemporaryDirectory()
        let committer = try makeCommitter(dir)
        // The directory level of the pattern does not exist yet either.
        let running = try await RunningInput.start(
            config: config([dir.path + "/app-*/*.ndjson"], exclude: ["*.old.ndjson"]), committer: committer)
        try FileManager.default.createDirectory(atPath: dir.file("app-1"), withIntermediateDirectories: false)
        try append(dir.file("app-1/x.ndjson"), "x1\n")
        try append(dir.file("app-1/x.old.ndjson"), "excluded\n")
        try append(dir.file("app-1/x.txt"), "not matched\n")
        try await running.waitForLines(1)
        try FileManager.default.createDirectory(atPath: dir.file("app-2"), withIntermediateDirectories: false)
        try append(dir.file("app-2/y.ndjson"), "y1\ny2\n")
        try await running.waitForLines(3)
        try append(dir.file("app-1/x.ndjson"), "x2\n")
        try await running.waitForLines(4)
        await running.stop()
        #expect(running.received.texts.sorted() == ["x1", "x2", "y1", "y2"])
    }

    @Test func aLineSplitAcrossTwoWritesIsHandedOnOnceComplete() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        let running = try await RunningInput.start(config: config([path]), committer: try makeCommitter(dir))
        try append(path, "zero\n{\"first\":")
        try await eventually("the first half to be read") { running.input.stats().bytesRead == 14 }
        #expect(running.received.texts == ["zero"])
        try append(path, "1}\n{\"second\"")
        try await running.waitForLines(2)
        try append(path, ":2}\n")
        try await running.waitForLines(3)
        await running.stop()
        #expect(running.received.texts == ["zero", #"{"first":1}"#, #"{"second":2}"#])
        #expect(running.received.lines.map(\.checkpoint.offset) == [5, 17, 30])
    }

    @Test func bytesAreHandedOnAsTheyAre() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        let raw: [[UInt8]] = [
            [0x00, 0x61, 0x00],
            [0xFF, 0xFE, 0xC3, 0x28, 0xE2, 0x82],
            Array("{\"ok\":\"é\"}".utf8),
            [],
            [0x0D],
        ]
        try append(path, raw.flatMap { $0 + [0x0A] })
        let running = try await RunningInput.start(config: config([path]), committer: try makeCommitter(dir))
        try await running.waitForLines(raw.count)
        await running.stop()
        #expect(running.received.lines.map(\.bytes) == raw)
    }

    @Test(arguments: [false, true])
    func aTenMebibyteLineIsSkippedOrDeliveredByMaxLineBytes(fits: Bool) async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        let logs = LogRecorder()
        let long = [UInt8](repeating: 0x78, count: 10 << 20)
        let running = try await RunningInput.start(
            config: config([path], maxLineBytes: fits ? 16 << 20 : 1 << 20), committer: try makeCommitter(dir),
            logger: logs.logger)
        try append(path, "before\n")
        try await running.waitForLines(1)
        // Written in pieces while the reader reads.
        for start in stride(from: 0, to: long.count, by: 1 << 20) {
            try append(path, Array(long[start..<(start + (1 << 20))]))
        }
        try append(path, "\nafter\n")
        try await running.waitForLines(fits ? 3 : 2)
        try await eventually("statistics published") { running.input.stats().bytesRead == 7 + (10 << 20) + 7 }
        let stats = running.input.stats()
        await running.stop()
        let lines = running.received.lines
        if fits {
            #expect(lines.map(\.bytes.count) == [6, 10 << 20, 5])
            #expect(lines[1].bytes == long)
            #expect(stats.linesTooLong == 0)
        } else {
            #expect(running.received.texts == ["before", "after"])
            #expect(lines[1].offset == 7 + (10 << 20) + 1)
            #expect(stats.linesTooLong == 1)
            let warning = try #require(logs.matching("longer than max_line_bytes").first)
            #expect(warning.metadata["path"] == path)
            #expect(warning.metadata["offset"] == "7")
            #expect(warning.metadata["bytes"] == "\(10 << 20)")
        }
    }

    @Test func aThousandFilesInOneDirectory() async throws {
        let dir = try TemporaryDirectory()
        for index in 0..<500 {
            try append(dir.file("f\(index).log"), "{\"file\":\(index),\"n\":1}\n{\"file\":\(index),\"n\":2}\n")
        }
        let running = try await RunningInput.start(config: config([dir.path + "/*.log"]), committer: try makeCommitter(dir))
        try await running.waitForLines(1000)
        for index in 500..<1000 {
            try append(dir.file("f\(index).log"), "{\"file\":\(index),\"n\":1}\n{\"file\":\(index),\"n\":2}\n")
        }
        try await running.waitForLines(2000)
        for index in 0..<1000 {
            try append(dir.file("f\(index).log"), "{\"file\":\(index),\"n\":3}\n")
        }
        try await running.waitForLines(3000)
        try await eventually("statistics published") { running.input.stats().files.count == 1000 }
        await running.stop()
        var expected: [String] = []
        for index in 0..<1000 {
            for n in 1...3 { expected.append("{\"file\":\(index),\"n\":\(n)}") }
        }
        #expect(running.received.texts.sorted() == expected.sorted())
        #expect(Set(running.received.lines.map(\.checkpoint.key)).count == 1000)
    }

    @Test func startAtEndSkipsWhatIsThereButNotAPartialLine() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        try append(path, "old 1\nold 2\nhalf ")
        let running = try await RunningInput.start(
            config: config([dir.path + "/*.log"], startAt: .end), committer: try makeCommitter(dir))
        try append(path, "line\nnew\n")
        try await running.waitForLines(2)
        // A file that appears later is read from its start.
        try append(dir.file("b.log"), "unrelated\n")
        try await running.waitForLines(3)
        await running.stop()
        #expect(running.received.texts == ["half line", "new", "unrelated"])
    }

    @Test func statPollingFollowsFilesToo() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        try append(path, "one\n")
        var tuning = FileInputTuning.testing
        tuning.watcher = .polling
        let running = try await RunningInput.start(
            config: config([dir.path + "/*.log"]), committer: try makeCommitter(dir), tuning: tuning)
        try await running.waitForLines(1)
        try append(path, "two\n")
        try append(dir.file("b.log"), "three\n")
        try await running.waitForLines(3)
        #expect(running.input.stats().watcher == "polling")
        await running.stop()
        #expect(running.received.texts.sorted() == ["one", "three", "two"])
    }

    @Test func aFileBehindASymlinkIsFollowedByPolling() async throws {
        let dir = try TemporaryDirectory()
        let elsewhere = try TemporaryDirectory()
        let target = elsewhere.file("real.log")
        try append(target, "one\n")
        #expect(symlink(target, dir.file("link.log")) == 0)
        let running = try await RunningInput.start(config: config([dir.path + "/*.log"]), committer: try makeCommitter(dir))
        try await running.waitForLines(1)
        // No watched directory sees this write: the poll does.
        try append(target, "two\n")
        try await running.waitForLines(2)
        await running.stop()
        #expect(running.received.texts == ["one", "two"])
        #expect(running.received.lines.allSatisfy { $0.origin == dir.file("link.log") })
    }

    @Test func anOverflowingInotifyQueueEndsInARescan() async throws {
        let dir = try TemporaryDirectory()
        try append(dir.file("a.log"), "a0\n")
        try append(dir.file("b.log"), "b0\n")
        let logs = LogRecorder()
        let received = Received()
        var tuning = FileInputTuning.testing
        tuning.batchMaxLines = 1
        let running = try await RunningInput.start(
            config: config([dir.path + "/*.log"]), committer: try makeCommitter(dir), tuning: tuning, logger: logs.logger,
            received: received)
        try await running.waitForLines(2)
        received.close()
        try append(dir.file("a.log"), "a1\n")
        try await eventually("the reader to wait on the consumer") { received.waiting == 1 }
        // While it waits, more events than the queue holds (16384 by default): writes that
        // alternate between two files are not merged, and files created meanwhile are only
        // found by the rescan.
        let writes = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        for index in 0..<(writes / 2 + 100) {
            try append(dir.file("a.log"), "a\(index + 2)\n")
            try append(dir.file("b.log"), "b\(index + 1)\n")
        }
        for index in 0..<10 { try append(dir.file("new-\(index).log"), "new \(index)\n") }
        received.open()
        let total = 3 + 2 * (writes / 2 + 100) + 10
        try await running.waitForLines(total, timeout: .seconds(30))
        await running.stop()
        #expect(running.received.count == total)
        #expect(Set(running.received.texts).count == total)
        let rescans = logs.all.filter { ($0.metadata["reason"] ?? "").contains("overflow") }
        #expect(!rescans.isEmpty)
    }
}
