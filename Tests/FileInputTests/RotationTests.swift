import Checkpoints
import Config
import FileInput
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Rotation on real files under the real inotify watcher, while a writer writes.
@Suite struct RotationTests {
    private func numbers(_ received: Received) -> [Int] {
        received.lines.compactMap { Scribe.number(in: $0.bytes) }
    }

    @Test(arguments: ["/*.log", "/a.log*"])
    func renameAndCreateWhileAWriterWritesLosesAndRepeatsNothing(glob: String) async throws {
        let dir = try TemporaryDirectory()
        let scribe = Scribe(path: dir.file("a.log"))
        let logs = LogRecorder()
        let running = try await RunningInput.start(config: config([dir.path + glob]), committer: try makeCommitter(dir), logger: logs.logger)
        scribe.startWriter(count: 20_000)
        scribe.startRotator(rotations: 6, kinds: [.rename], interval: .milliseconds(60), seed: 1)
        try await scribe.finish()
        do {
            try await running.waitForLines(20_000)
        } catch {
            logs.dump()
            print(running.input.stats())
            let seen = Set(numbers(running.received))
            let missing = Set(1...20_000).subtracting(seen).sorted()
            print("missing", missing.count, missing.first ?? 0, missing.last ?? 0)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
                let content = try String(contentsOfFile: dir.file(name), encoding: .utf8)
                let numbers = content.split(separator: "\n").compactMap { Scribe.number(in: Array($0.utf8)) }
                print(name, inode(dir.file(name)) ?? 0, numbers.first ?? 0, numbers.last ?? 0, numbers.count)
            }
            throw error
        }
        #expect(scribe.rotations == 6)
        if glob == "/*.log" {
            // The renamed files are drained and let go; only the current one stays open.
            try await eventually("rotated files closed") { running.input.stats().files.count == 1 }
        }
        await running.stop()
        let seen = numbers(running.received)
        #expect(seen.count == 20_000)
        #expect(Set(seen) == Set(1...20_000))
    }

    @Test func copytruncateWhileAWriterWritesLosesOnlyWhatTheRotatorLost() async throws {
        let dir = try TemporaryDirectory()
        let scribe = Scribe(path: dir.file("a.log"))
        let logs = LogRecorder()
        let running = try await RunningInput.start(
            config: config([dir.path + "/a.log*"]), committer: try makeCommitter(dir), logger: logs.logger)
        scribe.startWriter(count: 20_000)
        scribe.startRotator(rotations: 6, kinds: [.copyTruncate], interval: .milliseconds(60), seed: 2)
        try await scribe.finish()
        let expected = Set(scribe.numbers).subtracting(scribe.lostByRotator)
        do {
            try await eventually("every line the rotator kept") { Set(numbers(running.received)).isSuperset(of: expected) }
        } catch {
            logs.dump()
            let missing = expected.subtracting(numbers(running.received)).sorted()
            print("missing", missing.count, missing.first ?? 0, missing.last ?? 0, "lost by rotator", scribe.lostByRotator.sorted())
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
                let content = try String(contentsOfFile: dir.file(name), encoding: .utf8)
                let numbers = content.split(separator: "\n").compactMap { Scribe.number(in: Array($0.utf8)) }
                print(name, inode(dir.file(name)) ?? 0, numbers.first ?? 0, numbers.last ?? 0, numbers.count)
            }
            throw error
        }
        try await Task.sleep(for: .milliseconds(300))
        await running.stop()
        let seen = numbers(running.received)
        #expect(scribe.rotations == 6)
        #expect(Set(seen).isSuperset(of: expected))
        #expect(seen.count == Set(seen).count, "no line is handed on twice")
        if seen.count != Set(seen).count {
            logs.dump()
            var counts: [Int: Int] = [:]
            for n in seen { counts[n, default: 0] += 1 }
            let dups = counts.filter { $0.value > 1 }.keys.sorted()
            print("dups", dups.count, dups.first ?? 0, dups.last ?? 0)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
                let content = try String(contentsOfFile: dir.file(name), encoding: .utf8)
                let numbers = content.split(separator: "\n").compactMap { Scribe.number(in: Array($0.utf8)) }
                print(name, inode(dir.file(name)) ?? 0, numbers.first ?? 0, numbers.last ?? 0, numbers.count)
            }
        }
    }

    @Test func aFileDeletedWhileOpenIsDrained() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        try append(path, (1...5000).map(Scribe.line).joined() + "partial")
        var tuning = FileInputTuning.testing
        tuning.batchMaxLines = 10
        let received = Received()
        received.close()
        let running = try await RunningInput.start(
            config: config([dir.path + "/*.log"]), committer: try makeCommitter(dir), tuning: tuning, received: received)
        // The first batch is held back: the reader waits, with most of the file unread.
        try await eventually("the reader to wait on the consumer") { received.waiting == 1 }
        #expect(unlink(path) == 0)
        received.open()
        try await running.waitForLines(5001)
        try await eventually("the deleted file to be closed") { running.input.stats().files.isEmpty }
        await running.stop()
        #expect(numbers(received) == Array(1...5000))
        #expect(received.texts.last == "partial")
        #expect(received.lines.last?.checkpoint.offset == UInt64(Array((1...5000).map(Scribe.line).joined().utf8).count + 7))
    }

    @Test func thePartialLastLineOfARenamedFileIsHandedOnAfterRotateWait() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        try append(path, "one\ntwo")
        let running = try await RunningInput.start(config: config([dir.path + "/*.log"]), committer: try makeCommitter(dir))
        try await running.waitForLines(1)
        try await Task.sleep(for: .milliseconds(300))
        // Not rotated: the partial line waits for its newline.
        #expect(running.received.texts == ["one"])
        #expect(rename(path, dir.file("a.log.1")) == 0)
        try await running.waitForLines(2)
        await running.stop()
        #expect(running.received.texts == ["one", "two"])
        #expect(running.received.lines.map(\.checkpoint.offset) == [4, 7])
    }

    @Test func aCleanStopAndRestartDeliverEveryLineExactlyOnce() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        try append(path, (1...3000).map(Scribe.line).joined())
        let committer = try makeCommitter(dir)
        var tuning = FileInputTuning.testing
        tuning.batchMaxLines = 100
        let received = Received()
        var running = try await RunningInput.start(
            config: config([dir.path + "/*.log"]), committer: committer, tuning: tuning, received: received)
        try await running.waitForLines(1000)
        received.close()
        await running.stop()
        try await committer.flush()
        let firstRun = numbers(received)
        try append(path, (3001...4000).map(Scribe.line).joined())
        try append(dir.file("b.log"), (4001...4500).map(Scribe.line).joined())

        running = try await RunningInput.start(config: config([dir.path + "/*.log"]), committer: try makeCommitter(dir))
        try await running.waitForLines(4500 - firstRun.count)
        try await Task.sleep(for: .milliseconds(100))
        await running.stop()
        let all = firstRun + numbers(running.received)
        #expect(all.sorted() == Array(1...4500))
    }

    @Test func aCopytruncateWhileStoppedContinuesInTheCopy() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("a.log")
        try append(path, (1...2000).map(Scribe.line).joined())
        let committer = try makeCommitter(dir)
        var running = try await RunningInput.start(config: config([dir.path + "/a.log*"]), committer: committer)
        try await running.waitForLines(2000)
        await running.stop()
        try await committer.flush()
        // While stopped: more lines, then a copytruncate, then lines in the new content.
        try append(path, (2001...2500).map(Scribe.line).joined())
        let content = try Data(contentsOf: URL(fileURLWithPath: path))
        try content.write(to: URL(fileURLWithPath: dir.file("a.log.1")))
        #expect(truncate(path, 0) == 0)
        try append(path, (2501...2600).map(Scribe.line).joined())

        running = try await RunningInput.start(config: config([dir.path + "/a.log*"]), committer: try makeCommitter(dir))
        try await running.waitForLines(600)
        try await Task.sleep(for: .milliseconds(100))
        await running.stop()
        #expect(numbers(running.received).sorted() == Array(2001...2600))
    }
}

/// A reused inode: the file system hands the inode of a deleted file to a new one.
@Suite(.serialized) struct InodeReuseTests {
    /// Away from the other tests' files in /tmp, which would take freed inodes.
    static let parent = "/var/tmp"

    @Test func aReusedInodeIsANewFile() async throws {
        for _ in 0..<5 {
            let dir = try TemporaryDirectory(parent: Self.parent)
            let path = dir.file("a.log")
            try append(path, "first file 1\nfirst file 2\n")
            let oldInode = try #require(inode(path))
            let running = try await RunningInput.start(
                config: config([dir.path + "/*.log"]), committer: try makeCommitter(dir))
            try await running.waitForLines(2)
            #expect(unlink(path) == 0)
            try await eventually("the deleted file to be closed") { running.input.stats().files.isEmpty }
            guard try createWithInode(oldInode, at: path, in: dir, content: "second 1\nsecond 2\nsecond 3\n") else {
                await running.stop()
                continue
            }
            try await running.waitForLines(5)
            await running.stop()
            #expect(running.received.texts == ["first file 1", "first file 2", "second 1", "second 2", "second 3"])
            let keys = running.received.lines.map(\.checkpoint.key)
            #expect(keys[0] == keys[1] && keys[2] == keys[4] && keys[0] != keys[2])
            #expect(running.received.lines.map(\.checkpoint.inode) == Array(repeating: oldInode, count: 5))
            return
        }
        Issue.record("the file system never handed a freed inode out again")
    }

    @Test func aReusedInodeIsRecognisedAfterARestart() async throws {
        // Both contents share their first KiB: only the bytes before the offset tell them apart.
        let header = "{\"header\":\"" + String(repeating: "h", count: 1100) + "\"}\n"
        for _ in 0..<5 {
            let dir = try TemporaryDirectory(parent: Self.parent)
            let path = dir.file("a.log")
            try append(path, header + "old 1\nold 2\n")
            let oldInode = try #require(inode(path))
            let committer = try makeCommitter(dir)
            var running = try await RunningInput.start(config: config([dir.path + "/*.log"]), committer: committer)
            try await running.waitForLines(3)
            await running.stop()
            try await committer.flush()
            #expect(unlink(path) == 0)
            guard try createWithInode(oldInode, at: path, in: dir, content: header + "new 1\nnew 2\nnew 3\nnew 4\n") else {
                continue
            }
            let logs = LogRecorder()
            running = try await RunningInput.start(
                config: config([dir.path + "/*.log"]), committer: try makeCommitter(dir), logger: logs.logger)
            try await running.waitForLines(5)
            await running.stop()
            #expect(running.received.texts.dropFirst() == ["new 1", "new 2", "new 3", "new 4"])
            #expect(logs.matching("replaced or truncated").count == 1)
            return
        }
        Issue.record("the file system never handed a freed inode out again")
    }

    /// Creates `path` on the freed inode `inode`, if the file system hands it out again.
    /// ext4 gives a new file the lowest free inode of its directory's block group: the one
    /// just freed, unless a lower one is free too (candidates, named so that no glob
    /// matches them, take those) or another process took it (then this returns false).
    private func createWithInode(_ inode: UInt64, at path: String, in dir: TemporaryDirectory, content: String) throws
        -> Bool
    {
        for attempt in 0..<10_000 {
            let candidate = dir.file("candidate-\(attempt).tmp")
            try append(candidate, content)
            guard let got = FileInputTests.inode(candidate) else { return false }
            if got == inode {
                #expect(rename(candidate, path) == 0)
                return true
            }
            if got > inode { return false }
        }
        return false
    }
}
