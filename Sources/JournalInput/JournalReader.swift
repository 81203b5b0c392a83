import Checkpoints
import Config
import Foundation
import Logging

/// Owns the sd-journal handle on its own thread (`JournalThread`): opens the journal, puts
/// the reading position where the checkpoint or `start_at` says, reads entries in batches
/// as JSON lines, and waits for appends when there are none. Nothing is read ahead: it
/// reads only when asked.
actor JournalReader {
    private let thread: JournalThread
    private let directory: String?
    private let matches: [JournalMatch]
    private let startAt: StartAt
    private let origin: String
    private let logger: Logger
    private let counters: JournalInputCounters
    private let wake: WakeSignal

    private var journal: Journal?
    private var descriptor: Int32 = -1
    private var encoder = JournalEntryEncoder()
    /// After a seek to a checkpoint's cursor: the entry the first step must land on.
    private var expected: (cursor: String, realtime: UInt64?)?
    private var checkedFiles: Set<FileIdentity> = []

    nonisolated var unownedExecutor: UnownedSerialExecutor { thread.asUnownedSerialExecutor() }

    init(
        thread: JournalThread, directory: String?, matches: [JournalMatch], startAt: StartAt, origin: String,
        logger: Logger, counters: JournalInputCounters, wake: WakeSignal
    ) {
        self.thread = thread
        self.directory = directory
        self.matches = matches
        self.startAt = startAt
        self.origin = origin
        self.logger = logger
        self.counters = counters
        self.wake = wake
    }

    /// Opens the journal and positions it after `checkpoint` (or per `start_at` without one).
    /// Returns false, with nothing open, when the configured directory does not exist.
    func open(after checkpoint: Checkpoint?) throws(JournalError) -> Bool {
        let journal: Journal
        do throws(JournalError) {
            journal = try Journal(directory: directory)
        } catch {
            if error.code == ENOENT && directory != nil { return false }
            throw error
        }
        try journal.setDataThreshold(JournalEntryEncoder.threshold)
        for (i, match) in matches.enumerated() {
            if i > 0 { try journal.addDisjunction() }
            try journal.addMatch(match)
        }
        descriptor = try journal.fileDescriptor()
        self.journal = journal
        checkFiles()
        try position(journal, after: checkpoint)
        return true
    }

    /// Closes the journal (on this thread, as sd-journal requires).
    func close() {
        journal?.close()
        journal = nil
    }

    /// Reads up to `maxEntries` entries (or about `maxBytes`). With `follow`, waits for new
    /// entries when there are none and returns empty only once woken by the wake signal;
    /// without, returns empty at the end of the journal.
    func read(maxEntries: Int, maxBytes: Int, follow: Bool) throws(JournalError) -> [InputLine] {
        guard let journal else { throw JournalError(operation: "read the journal", code: EBADF) }
        var lines: [InputLine] = []
        var bytes = 0
        while true {
            var unreadable: UInt64 = 0
            while lines.count < maxEntries && bytes < maxBytes, try step(journal) {
                if let line = currentLine(journal) {
                    bytes += line.bytes.count
                    lines.append(line)
                } else {
                    unreadable += 1
                }
            }
            if !lines.isEmpty || unreadable > 0 {
                let count = UInt64(lines.count)
                let newest = lines.last?.checkpoint.realtime
                counters.update {
                    $0.entriesRead += count
                    $0.unreadableEntries += unreadable
                    if let newest { $0.lastEntryRealtime = newest }
                }
            }
            if !lines.isEmpty || !follow { return lines }
            guard try waitForChanges(journal) else { return [] }
        }
    }

    // MARK: - Position

    private func position(_ journal: Journal, after checkpoint: Checkpoint?) throws(JournalError) {
        if let cursor = checkpoint?.cursor {
            let realtime = checkpoint?.realtime ?? Self.realtime(inCursor: cursor)
            do throws(JournalError) {
                try journal.seek(cursor: cursor)
                expected = (cursor, realtime)
                logger.info("resuming after the checkpoint's cursor", metadata: ["cursor": "\(cursor)"])
            } catch {
                try fallBack(journal, cursor: cursor, realtime: realtime, reason: "the cursor cannot be used (\(error.reason))")
            }
            return
        }
        switch startAt {
        case .beginning:
            try journal.seekHead()
        case .end:
            // On the last entry, so that the next step reads only what comes after it. An
            // empty journal reads from its head: whatever appears later is new (a tail
            // position would skip to the last entry of the first file that appears).
            try journal.seekTail()
            if try !journal.previous() { try journal.seekHead() }
        }
    }

    /// The checkpoint's entry is not there: goes on with the first entry after its time.
    private func fallBack(_ journal: Journal, cursor: String, realtime: UInt64?, reason: String) throws(JournalError) {
        counters.update { $0.cursorFallbacks += 1 }
        if let realtime {
            logger.warning(
                "the checkpoint's journal entry is gone (vacuumed, rotated away or another machine's); continuing with the first entry after its time",
                metadata: ["cursor": "\(cursor)", "realtime": "\(realtime)", "reason": "\(reason)"])
            try journal.seek(realtime: realtime + 1)
        } else {
            logger.warning(
                "the checkpoint's journal entry is gone and its cursor holds no time; reading from the journal's beginning",
                metadata: ["cursor": "\(cursor)", "reason": "\(reason)"])
            try journal.seekHead()
        }
    }

    /// The realtime timestamp a cursor names (`t=` in hex), if it has one.
    static func realtime(inCursor cursor: String) -> UInt64? {
        for part in cursor.split(separator: ";") where part.hasPrefix("t=") {
            return UInt64(part.dropFirst(2), radix: 16)
        }
        return nil
    }

    /// Moves to the next entry to hand on; false at the end. Right after a seek to a cursor,
    /// the step lands on the cursor's own entry, which is done already and skipped; if it
    /// lands elsewhere, that entry is gone and reading continues after its time.
    private func step(_ journal: Journal) throws(JournalError) -> Bool {
        var failures = 0
        while true {
            let moved: Bool
            do throws(JournalError) {
                moved = try journal.next()
            } catch {
                // sd-journal drops files it cannot iterate on its own; an error here is an
                // entry it cannot move to. Retry a few times, then give up rather than spin.
                guard error.isDamage, failures < 3 else { throw error }
                failures += 1
                logger.warning("cannot move to the next journal entry; retrying", metadata: ["error": "\(error)"])
                continue
            }
            guard moved else { return false }
            guard let expected else { return true }
            self.expected = nil
            if (try? journal.test(cursor: expected.cursor)) == true { continue }
            try fallBack(journal, cursor: expected.cursor, realtime: expected.realtime, reason: "no entry has this cursor")
        }
    }

    // MARK: - Entries

    /// The current entry as a JSON line, or nil (logged) if the journal cannot read it.
    private func currentLine(_ journal: Journal) -> InputLine? {
        var cursor: String?
        do throws(JournalError) {
            let current = try journal.cursor()
            cursor = current
            let realtime = try journal.realtime()
            let (monotonic, bootID) = try journal.monotonic()
            encoder.reset()
            try journal.forEachField { encoder.add(field: $0) }
            let bytes = encoder.encode(cursor: current, realtime: realtime, monotonic: monotonic, bootID: bootID)
            return InputLine(
                bytes: bytes, origin: origin, offset: 0,
                checkpoint: Checkpoint(key: JournalInput.checkpointKey, cursor: current, realtime: realtime))
        } catch {
            logger.warning(
                "skipping a journal entry that cannot be read",
                metadata: ["journal": "\(origin)", "cursor": "\(cursor ?? "unknown")", "error": "\(error)"])
            return nil
        }
    }

    // MARK: - Waiting

    /// Blocks this thread until the journal changes or the wake signal fires; false if woken.
    private func waitForChanges(_ journal: Journal) throws(JournalError) -> Bool {
        var fds = [
            pollfd(fd: descriptor, events: try journal.events(), revents: 0),
            pollfd(fd: wake.readDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let timeout = try journal.timeout().map(Self.milliseconds(untilMonotonic:)) ?? -1
        if poll(&fds, 2, timeout) < 0 && errno != EINTR {
            throw JournalError(operation: "wait for journal changes", code: errno)
        }
        if fds[1].revents != 0 { return false }
        if try journal.process() == .invalidate { checkFiles() }
        return true
    }

    private static func milliseconds(untilMonotonic deadline: UInt64) -> Int32 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nowMicroseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        guard deadline > nowMicroseconds else { return 0 }
        return Int32(clamping: (deadline - nowMicroseconds + 999) / 1000)
    }

    // MARK: - Unreadable files

    private struct FileIdentity: Hashable {
        var path: String
        var device: UInt64
        var inode: UInt64
    }

    /// sd-journal skips a journal file it cannot open without saying so; this names each
    /// such file once in the log. Runs at open and whenever the set of files changes.
    private func checkFiles() {
        var present: Set<FileIdentity> = []
        for path in journalFiles() {
            var info = stat()
            guard stat(path, &info) == 0, info.st_size > 0 else { continue }
            let identity = FileIdentity(path: path, device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            present.insert(identity)
            guard !checkedFiles.contains(identity) else { continue }
            // A file caught while its writer creates it may not have a complete header
            // yet: only a failure that persists a moment later is reported.
            if Journal.openFailure(file: path) != nil, usleep(100_000) == 0, let failure = Journal.openFailure(file: path) {
                counters.update { $0.unreadableFiles += 1 }
                logger.warning(
                    "skipping a journal file that cannot be read",
                    metadata: ["file": "\(path)", "error": "\(failure.reason)"])
            }
        }
        checkedFiles = present
    }

    /// The journal files sd-journal reads: those in the directory and its machine-ID
    /// subdirectories, or for the local system journal those in this machine's directories.
    private func journalFiles() -> [String] {
        let roots = directory.map { [$0] } ?? ["/run/log/journal", "/var/log/journal"]
        let localMachine = directory == nil ? Self.localMachineID() : nil
        var files: [String] = []
        for root in roots {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
                let path = root + "/" + name
                if Self.isJournalFile(name) {
                    files.append(path)
                } else if name.utf8.count == 32, name.allSatisfy(\.isHexDigit), localMachine.map({ $0 == name }) ?? true,
                    let inner = try? FileManager.default.contentsOfDirectory(atPath: path)
                {
                    files += inner.filter(Self.isJournalFile).map { path + "/" + $0 }
                }
            }
        }
        return files
    }

    private static func localMachineID() -> String? {
        (try? String(contentsOfFile: "/etc/machine-id", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isJournalFile(_ name: String) -> Bool {
        name.hasSuffix(".journal") || name.hasSuffix(".journal~")
    }
}
