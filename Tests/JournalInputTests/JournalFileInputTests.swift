import Checkpoints
import Config
import Foundation
import JSON
import JournalInput
import Logging
import Testing

/// The journald input on journal files written by the real `systemd-journal-remote`.
@Suite struct JournalFileInputTests {
    /// Objects as sets of members: journalctl prints members in hash order.
    private func members(_ value: JSONValue) -> [String: JSONValue] {
        guard case .object(let object) = value else { return [:] }
        return Dictionary(object.members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    private func readAll(_ directory: String, matches: [String] = [], committer: CheckpointCommitter, logger: Logger = Logger(label: "test"))
        async throws -> [InputLine]
    {
        let input = journalInput(directory, matches: matches, committer: committer, logger: logger, follow: false, maxBatchEntries: 7)
        return try await RunningInput(input).finished()
    }

    // MARK: - What an entry becomes

    @Test func objectsEqualWhatJournalctlPrintsForMixedEntries() async throws {
        let journal = try JournalDirectory()
        let big = String(repeating: "large text that compresses well ", count: 400)
        var entries: [ExportEntry] = [
            ExportEntry(realtime: 1_700_000_000_000_000, [
                ("MESSAGE", "plain"), ("PRIORITY", "6"), ("SYSLOG_IDENTIFIER", "app"), ("_SYSTEMD_UNIT", "app.service"),
            ]),
            ExportEntry(realtime: 1_700_000_000_000_001, [("MESSAGE", "multi\nline\twith tab"), ("UNICODE", "grüße 😀 日本")]),
            ExportEntry(realtime: 1_700_000_000_000_002, [("MESSAGE", big), ("MEDIUM", String(repeating: "m", count: 2000))]),
            ExportEntry(realtime: 1_700_000_000_000_003, [("MESSAGE", "repeated"), ("TAG", "a"), ("TAG", "b"), ("TAG", "c")]),
            ExportEntry(realtime: 1_700_000_000_000_004, [("MESSAGE", String(repeating: "x", count: 4087)), ("EDGE", String(repeating: "y", count: 4091))]),
            ExportEntry(realtime: 1_700_000_000_000_005, [("MESSAGE", #"{"order":{"id":7},"quote":"\""}"#), ("EMPTY", "")]),
            ExportEntry(realtime: 1_700_000_000_000_006, monotonic: 5, bootID: "fedcba9876543210fedcba9876543210", [("MESSAGE", "other boot")]),
        ]
        entries.append(ExportEntry(realtime: 1_700_000_000_000_007, bytes: [
            ("MESSAGE", [0x62, 0x69, 0x6E, 0x00, 0xFF, 0x01]), ("CONTROL", [0x61, 0x1B, 0x5B, 0x6D]), ("C1", [0xC2, 0x85]),
            ("INVALID", [0xC0, 0xAF]), ("BIGBINARY", [UInt8](repeating: 0xFE, count: 6000)),
            ("MIXED", Array("text".utf8)), ("MIXED", [0xFF]), ("MIXED", [UInt8](repeating: 0x41, count: 5000)),
        ]))
        entries += numberedEntries(0..<50, base: 1_700_000_000_100_000)
        try journal.write(entries)

        let lines = try await readAll(journal.path, committer: try StateDirectory().committer())
        let expected = try journal.journalctl()
        #expect(expected.count == entries.count)
        #expect(lines.count == expected.count)
        for (line, object) in zip(lines, expected) {
            #expect(members(try line.object) == members(object))
        }
    }

    @Test func eachLineCarriesItsCursorAsCheckpointAndTheDirectoryAsOrigin() async throws {
        let journal = try JournalDirectory()
        try journal.write(numberedEntries(0..<5))
        let lines = try await readAll(journal.path, committer: try StateDirectory().committer())
        #expect(lines.count == 5)
        for line in lines {
            let object = members(try line.object)
            #expect(line.origin == journal.path)
            #expect(line.offset == 0)
            #expect(line.checkpoint.key == "journal")
            #expect(object["__CURSOR"] == line.checkpoint.cursor.map(JSONValue.string))
            #expect(object["__REALTIME_TIMESTAMP"] == line.checkpoint.realtime.map { .string("\($0)") })
        }
    }

    // MARK: - Matches

    @Test func matchesAreOredAndKeepOnlyTheirEntries() async throws {
        let journal = try JournalDirectory()
        var entries = numberedEntries(0..<40)
        for i in stride(from: 1, to: 40, by: 10) { entries[i].fields.append(("_SYSTEMD_UNIT", Array("legacy.service".utf8))) }
        try journal.write(entries)

        let lines = try await readAll(
            journal.path, matches: ["SYSLOG_IDENTIFIER=even", "_SYSTEMD_UNIT=legacy.service"],
            committer: try StateDirectory().committer())
        let expectedSeqs = (0..<40).filter { $0 % 2 == 0 || $0 % 10 == 1 }
        #expect(lines.compactMap(\.seq) == expectedSeqs)
        let journalctl = try journal.journalctl(["SYSLOG_IDENTIFIER=even", "+", "_SYSTEMD_UNIT=legacy.service"])
        #expect(try lines.map { members(try $0.object) } == journalctl.map(members))
    }

    @Test func twoValuesOfOneFieldAndAnAbsentValue() async throws {
        let journal = try JournalDirectory()
        try journal.write(numberedEntries(0..<10))
        let both = try await readAll(
            journal.path, matches: ["SYSLOG_IDENTIFIER=even", "SYSLOG_IDENTIFIER=odd"], committer: try StateDirectory().committer())
        #expect(both.compactMap(\.seq) == Array(0..<10))
        let none = try await readAll(journal.path, matches: ["SYSLOG_IDENTIFIER=nobody"], committer: try StateDirectory().committer())
        #expect(none.isEmpty)
    }

    @Test func aBadMatchStopsTheInputWithItsReason() async throws {
        let journal = try JournalDirectory()
        let input = journalInput(journal.path, matches: ["syslog_identifier=x"], committer: try StateDirectory().committer())
        await #expect(throws: JournalMatchError.self) {
            try await input.run(deliver: { _ in }, ready: {})
        }
    }

    // MARK: - Resume

    @Test func restartsResumeAfterTheCommittedCursorWithEveryEntryExactlyOnce() async throws {
        let journal = try JournalDirectory()
        let state = StateDirectory()
        try journal.write(numberedEntries(0..<100))
        var seen: [Int] = []

        // First run: follow, commit each batch as the pipeline would, stop in the middle.
        let first = RunningInput(journalInput(journal.path, committer: try state.committer(), maxBatchEntries: 10), commitTo: try state.committer())
        try await first.lines(30)
        seen += try await first.stop().compactMap(\.seq)

        // Entries arrive while the agent is down.
        try journal.write(numberedEntries(100..<150))

        // Second run: a fresh committer loaded from the store, as after a restart.
        let committer2 = try state.committer()
        let second = RunningInput(journalInput(journal.path, committer: committer2, maxBatchEntries: 10), commitTo: committer2)
        try await second.lines(10)
        seen += try await second.stop().compactMap(\.seq)

        // Third run reads to the end.
        let third = try await readAll(journal.path, committer: try state.committer())
        seen += third.compactMap(\.seq)

        #expect(seen == Array(0..<150))
    }

    @Test func resumesRightAfterTheCommittedEntryNotTheLastDelivered() async throws {
        let journal = try JournalDirectory()
        let state = StateDirectory()
        try journal.write(numberedEntries(0..<100))
        let all = try await readAll(journal.path, committer: try state.committer())
        #expect(all.count == 100)

        let committer = try state.committer()
        await committer.advance([all[41].checkpoint])
        try await committer.flush()

        let logs = LogRecorder()
        let resumed = try await readAll(journal.path, committer: try state.committer(), logger: logs.logger())
        #expect(resumed.compactMap(\.seq) == Array(42..<100))
        #expect(!logs.all.contains { $0.level >= .warning })
    }

    @Test func whenTheCursorsFileIsDeletedReadingGoesOnAfterItsTime() async throws {
        let journal = try JournalDirectory()
        let state = StateDirectory()
        let old = try journal.write(numberedEntries(0..<50), to: "old.journal")
        try journal.write(numberedEntries(50..<100), to: "new.journal")
        let all = try await readAll(journal.path, committer: try state.committer())
        #expect(all.compactMap(\.seq) == Array(0..<100))

        let committer = try state.committer()
        await committer.advance([all[20].checkpoint])
        try await committer.flush()
        try FileManager.default.removeItem(atPath: old)

        let logs = LogRecorder()
        let input = journalInput(journal.path, committer: try state.committer(), logger: logs.logger(), follow: false)
        let resumed = try await RunningInput(input).finished()
        #expect(resumed.compactMap(\.seq) == Array(50..<100))
        #expect(input.statistics.cursorFallbacks == 1)
        #expect(logs.all.contains { $0.level == .warning && $0.message.contains("gone") && $0.metadata["cursor"] == all[20].checkpoint.cursor })
    }

    @Test func aCursorFromAnotherMachinesJournalContinuesAfterItsTime() async throws {
        let elsewhere = try JournalDirectory()
        try elsewhere.write(numberedEntries(0..<10, base: 1_700_000_000_000_500))
        let foreign = try await readAll(elsewhere.path, committer: try StateDirectory().committer())
        let foreignCheckpoint = try #require(foreign.last?.checkpoint)  // realtime base + 509

        let journal = try JournalDirectory()
        try journal.write(numberedEntries(0..<1000, base: 1_700_000_000_000_000))
        let state = StateDirectory()
        let committer = try state.committer()
        await committer.advance([foreignCheckpoint])
        try await committer.flush()

        let input = journalInput(journal.path, committer: try state.committer(), follow: false)
        let resumed = try await RunningInput(input).finished()
        #expect(resumed.compactMap(\.seq) == Array(510..<1000))
        #expect(input.statistics.cursorFallbacks == 1)
    }

    @Test func anUnusableCursorFallsBackToItsTimeOrToTheBeginning() async throws {
        let journal = try JournalDirectory()
        try journal.write(numberedEntries(0..<20))

        let timed = StateDirectory()
        let committer = try timed.committer()
        await committer.advance([Checkpoint(key: "journal", cursor: "not a cursor", realtime: 1_700_000_000_000_014)])
        try await committer.flush()
        #expect(try await readAll(journal.path, committer: try timed.committer()).compactMap(\.seq) == Array(15..<20))

        let untimed = StateDirectory()
        let committer2 = try untimed.committer()
        await committer2.advance([Checkpoint(key: "journal", cursor: "not a cursor")])
        try await committer2.flush()
        let logs = LogRecorder()
        let lines = try await readAll(journal.path, committer: try untimed.committer(), logger: logs.logger())
        #expect(lines.compactMap(\.seq) == Array(0..<20))
        #expect(logs.all.contains { $0.level == .warning && $0.message.contains("beginning") })
    }

    // MARK: - Following

    @Test func entriesAppendedWhileFollowingArriveOneByOne() async throws {
        let journal = try JournalDirectory()
        let writer = try JournalWriter(file: journal.path + "/live.journal")
        try writer.append(numberedEntries(0..<5))
        let running = RunningInput(journalInput(journal.path, committer: try StateDirectory().committer()))
        try await running.ready()
        try await running.lines(5)
        for i in 5..<25 {
            try writer.append(numberedEntries(i..<(i + 1)))
            let lines = try await running.lines(i + 1)
            #expect(lines.last?.seq == i)
        }
        try writer.finish()
        let lines = try await running.stop()
        #expect(lines.compactMap(\.seq) == Array(0..<25))
    }

    @Test func aNewJournalFileIsPickedUpWhileFollowing() async throws {
        let journal = try JournalDirectory()
        try journal.write(numberedEntries(0..<10), to: "system@1.journal")
        let running = RunningInput(journalInput(journal.path, committer: try StateDirectory().committer()))
        try await running.lines(10)
        try journal.write(numberedEntries(10..<20), to: "system@2.journal")
        try await running.lines(20)
        try journal.write(numberedEntries(20..<30), to: "system.journal")
        try await running.lines(30)
        let lines = try await running.stop()
        #expect(lines.compactMap(\.seq) == Array(0..<30))
    }

    @Test func aFileVacuumedWhileFollowingDoesNotDisturbReading() async throws {
        let journal = try JournalDirectory()
        let old = try journal.write(numberedEntries(0..<10), to: "system@1.journal")
        let writer = try JournalWriter(file: journal.path + "/system.journal")
        try writer.append(numberedEntries(10..<20))
        let running = RunningInput(journalInput(journal.path, committer: try StateDirectory().committer()))
        try await running.lines(20)
        try FileManager.default.removeItem(atPath: old)
        try writer.append(numberedEntries(20..<30))
        try await running.lines(30)
        try writer.finish()
        #expect(try await running.stop().compactMap(\.seq) == Array(0..<30))
    }

    @Test func startAtEndReadsOnlyEntriesWrittenAfterStart() async throws {
        let journal = try JournalDirectory()
        let writer = try JournalWriter(file: journal.path + "/live.journal")
        try writer.append(numberedEntries(0..<10))
        try journal.waitForEntries(10)
        let running = RunningInput(journalInput(journal.path, startAt: .end, committer: try StateDirectory().committer()))
        try await running.ready()
        try writer.append(numberedEntries(10..<15))
        try await running.lines(5)
        try writer.finish()
        #expect(try await running.stop().compactMap(\.seq) == Array(10..<15))
    }

    @Test(arguments: [StartAt.beginning, StartAt.end])
    func aDirectoryWithoutJournalFilesYetReadsEveryEntryOfTheFirstFile(startAt: StartAt) async throws {
        let journal = try JournalDirectory()
        let running = RunningInput(journalInput(journal.path, startAt: startAt, committer: try StateDirectory().committer()))
        try await running.ready()
        try journal.write(numberedEntries(0..<10))
        try await running.lines(10)
        #expect(try await running.stop().compactMap(\.seq) == Array(0..<10))
    }

    @Test func aDirectoryThatDoesNotExistYetIsWaitedFor() async throws {
        let path = JournalDirectory.absentPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let logs = LogRecorder()
        let running = RunningInput(journalInput(path, committer: try StateDirectory().committer(), logger: logs.logger()))
        try await running.ready()
        #expect(logs.all.contains { $0.message.contains("does not exist yet") })
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try JournalDirectory.write(numberedEntries(0..<3), to: path + "/a.journal")
        try await running.lines(3)
        #expect(try await running.stop().compactMap(\.seq) == Array(0..<3))
    }

    @Test func cancellingAWaitingInputReturnsPromptly() async throws {
        let journal = try JournalDirectory()
        try journal.write(numberedEntries(0..<3))
        let running = RunningInput(journalInput(journal.path, committer: try StateDirectory().committer()))
        try await running.lines(3)
        let started = ContinuousClock.now
        try await running.stop(within: .seconds(5))
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    @Test func nothingIsReadWhileTheConsumerIsBusy() async throws {
        let journal = try JournalDirectory()
        try journal.write(numberedEntries(0..<100))
        let input = journalInput(journal.path, committer: try StateDirectory().committer(), maxBatchEntries: 10)
        let (gate, release) = AsyncStream<Void>.makeStream()
        let (delivered, deliveredContinuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            try await input.run(
                deliver: { batch in
                    deliveredContinuation.yield(batch.count)
                    for await _ in gate { break }
                },
                ready: {})
        }
        var iterator = delivered.makeAsyncIterator()
        #expect(await iterator.next() == 10)
        // The consumer holds the first batch: the reader must not run ahead meanwhile.
        try await Task.sleep(for: .milliseconds(300))
        #expect(input.statistics.entriesRead == 10)
        release.yield()
        #expect(await iterator.next() == 10)
        #expect(input.statistics.entriesRead == 20)
        task.cancel()
        release.finish()
        try await task.value
    }

    // MARK: - Damage

    @Test func aCorruptJournalFileIsNamedAndSkippedAndTheRestIsRead() async throws {
        let journal = try JournalDirectory()
        try journal.write(numberedEntries(0..<10), to: "good.journal")
        let bad = try journal.write(numberedEntries(10..<20, base: 1_700_000_001_000_000), to: "bad.journal")
        try JournalDirectory.overwrite(bad, at: 0, with: Array("XXXXXXXX".utf8))

        let logs = LogRecorder()
        let input = journalInput(journal.path, committer: try StateDirectory().committer(), logger: logs.logger(), follow: false)
        let lines = try await RunningInput(input).finished()
        #expect(lines.compactMap(\.seq) == Array(0..<10))
        #expect(input.statistics.unreadableFiles == 1)
        #expect(logs.all.contains { $0.level == .warning && $0.metadata["file"] == bad && $0.metadata["error"] == "Bad message" })
    }

    @Test func aCorruptEntryIsSkippedAndReadingGoesOnLikeJournalctl() async throws {
        let journal = try JournalDirectory()
        let file = try journal.write(numberedEntries(0..<200))
        let entry = try #require(try JournalDirectory.entryObjectOffsets(file).dropFirst(120).first)
        try JournalDirectory.overwrite(file, at: entry, with: [0x09])  // not an entry object any more

        let lines = try await readAll(journal.path, committer: try StateDirectory().committer())
        let expected = try journal.journalctl()
        #expect(expected.count == 199)
        #expect(lines.compactMap(\.seq) == Array(0..<120) + Array(121..<200))
        #expect(try lines.map { members(try $0.object) } == expected.map(members))
    }

    @Test func anEntryWhoseFieldsCannotBeReadIsSkippedWithALogLineNamingIt() async throws {
        let journal = try JournalDirectory()
        let file = try journal.write(numberedEntries(0..<200))
        let before = try await readAll(journal.path, committer: try StateDirectory().committer())
        let broken = try #require(before.first { $0.seq == 120 }?.checkpoint.cursor)
        // Compression flags that name two algorithms at once: sd-journal cannot decode the
        // MESSAGE of entry 120 (journalctl -o json gives up there altogether).
        let data = try #require(try JournalDirectory.objectOffsets(file, type: 1, containing: "MESSAGE=entry 120").first)
        try JournalDirectory.overwrite(file, at: data + 1, with: [0x03])

        let logs = LogRecorder()
        let input = journalInput(journal.path, committer: try StateDirectory().committer(), logger: logs.logger(), follow: false)
        let lines = try await RunningInput(input).finished()
        #expect(lines.compactMap(\.seq) == Array(0..<120) + Array(121..<200))
        #expect(input.statistics.unreadableEntries == 1)
        #expect(logs.all.contains { $0.level == .warning && $0.metadata["cursor"] == broken && $0.metadata["journal"] == journal.path })
    }
}

extension JournalDirectory {
    static func write(_ entries: [ExportEntry], to file: String) throws {
        let directory = (file as NSString).deletingLastPathComponent
        let name = (file as NSString).lastPathComponent
        let process = Process()
        process.executableURL = URL(fileURLWithPath: remote)
        process.arguments = ["--output=\(directory)/\(name)", "--split-mode=none", "-"]
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: Data(entries.flatMap(\.exported)))
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FixtureError("systemd-journal-remote failed for \(file)") }
    }

    /// Waits (bounded) until journalctl sees `count` entries: the writer has written them.
    func waitForEntries(_ count: Int) throws {
        let deadline = Date().addingTimeInterval(10)
        while try journalctl().count < count {
            guard Date() < deadline else { throw FixtureError("journal never reached \(count) entries") }
            usleep(20_000)
        }
    }

    static func overwrite(_ file: String, at offset: Int, with bytes: [UInt8]) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: file))
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    /// The file offsets of the entry objects of a journal file, in file order.
    static func entryObjectOffsets(_ file: String) throws -> [Int] {
        try objectOffsets(file, type: 3)
    }

    /// The file offsets of the objects of `type` (1 data, 3 entry) whose bytes hold
    /// `containing`, walking the objects from the end of the header (type byte at +0,
    /// size at +8, 8-byte aligned).
    static func objectOffsets(_ file: String, type: UInt8, containing: String? = nil) throws -> [Int] {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        func le64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(data[at + $1]) << (8 * $1) } }
        let needle = containing.map { Array($0.utf8) }
        let headerSize = le64(88)
        let arenaEnd = min(headerSize + le64(96), data.count)
        var offset = headerSize
        var found: [Int] = []
        while offset + 16 <= arenaEnd {
            let size = le64(offset + 8)
            guard size > 0, offset + size <= arenaEnd else { break }
            if data[offset] == type, needle.map({ data[offset..<(offset + size)].firstRange(of: $0) != nil }) ?? true {
                found.append(offset)
            }
            offset += (size + 7) & ~7
        }
        return found
    }
}
