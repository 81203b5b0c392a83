import Checkpoints
import Config
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The reader behind one `FileInput.run`: finds the files the globs match, keeps each open
/// by device and inode, reads their lines into batches, and follows renames, truncations
/// and deletions as the watcher reports them. One task owns it from start to end; nothing
/// in it is shared, which is why it is a plain class.
///
/// The loop: apply what the watcher reported, give each file with something to read a
/// turn (at most `turnBytes`), settle rotated files and held copies, and when nothing is
/// left to read hand on the batch and wait for the watcher (or the next deadline).
final class FileTailer {
    let config: FileInputConfig
    let tuning: FileInputTuning
    let committer: CheckpointCommitter
    var logger: Logger
    let statistics: StatisticsBox
    let deliver: @Sendable ([InputLine]) async -> Void
    let patterns: PathPatterns
    let clock = ContinuousClock()

    var watcher: any FileSystemWatcher
    var files: [FileID: TailedFile] = [:]
    var pathIndex: [String: FileID] = [:]
    /// Checkpoints from the last run that no open file has claimed yet.
    var unclaimed: [String: Checkpoint] = [:]
    var batch: [InputLine] = []
    var batchBytes = 0
    let buffer: ReadBuffer
    /// Counters of files already closed.
    var closedLines: UInt64 = 0
    var closedBytes: UInt64 = 0
    var closedTooLong: UInt64 = 0
    var warnedPaths: Set<String> = []
    var nextRescan: ContinuousClock.Instant
    var nextPrune: ContinuousClock.Instant
    var nextPoll: ContinuousClock.Instant
    var lastPublish: ContinuousClock.Instant

    init(
        name: String, config: FileInputConfig, tuning: FileInputTuning, committer: CheckpointCommitter,
        logger: Logger, statistics: StatisticsBox, deliver: @escaping @Sendable ([InputLine]) async -> Void
    ) {
        self.config = config
        self.tuning = tuning
        self.committer = committer
        self.logger = logger
        self.logger[metadataKey: "input"] = "\(name)"
        self.statistics = statistics
        self.deliver = deliver
        patterns = PathPatterns(
            paths: config.paths, exclude: config.exclude, workingDirectory: FileManager.default.currentDirectoryPath)
        buffer = ReadBuffer(capacity: tuning.readChunkBytes + FileIdentity.tailBytes + 4096)
        let now = clock.now
        nextRescan = now.advanced(by: tuning.rescanInterval)
        nextPrune = now
        nextPoll = now.advanced(by: tuning.pollInterval)
        lastPublish = now
        watcher = StatPollingWatcher(interval: tuning.pollInterval)
        batch.reserveCapacity(tuning.batchMaxLines)
    }

    func run(ready: @Sendable () -> Void) async {
        if tuning.watcher == .inotify {
            do {
                watcher = try InotifyWatcher()
            } catch {
                fallBack(reason: "\(error)")
            }
        }
        unclaimed = await committer.committed
        updateWatches()
        startupScan()
        publishStatistics()
        ready()
        logger.info(
            "following files",
            metadata: ["files": "\(files.count)", "watcher": "\(watcher.kind)", "paths": "\(config.paths)"])

        while !Task.isCancelled {
            apply(await watcher.changes(waitingAtMost: .zero))
            var now = clock.now
            if now >= nextRescan { rescan(markAllDirty: true) }
            if now >= nextPrune { await prune() }
            if now >= nextPoll { pollUnwatched() }

            var progressed = false
            for file in files.values where file.dirty && file.hold == nil && files[file.id] === file {
                if await readTurn(file) { progressed = true }
                if Task.isCancelled { break }
            }
            if Task.isCancelled { break }
            await settle()
            now = clock.now
            if now - lastPublish >= .milliseconds(100) { publishStatistics() }
            if progressed || files.values.contains(where: { $0.dirty && $0.hold == nil }) { continue }

            await flushBatch()
            publishStatistics()
            let wait = nextDeadline() - clock.now
            apply(await watcher.changes(waitingAtMost: max(wait, .milliseconds(1))))
        }
        for file in files.values {
            Glibc.close(file.fd)
            closedLines += file.linesRead
            closedBytes += file.bytesRead
            closedTooLong += file.linesTooLong
        }
        files = [:]
        watcher.close()
        publishStatistics()
    }

    // MARK: - Watching

    /// Watches every directory the globs need now; falls back to polling where inotify
    /// cannot serve. Adding a watch that exists is harmless, so all are (re)added.
    func updateWatches() {
        for directory in patterns.directoriesToWatch() {
            if case .unavailable(let reason) = watcher.watch(directory: directory) {
                fallBack(reason: reason)
                return
            }
        }
    }

    func fallBack(reason: String) {
        watcher.close()
        watcher = StatPollingWatcher(interval: tuning.pollInterval)
        logger.warning(
            "inotify cannot serve: falling back to stat polling",
            metadata: ["reason": "\(reason)", "interval": "\(tuning.pollInterval)"])
    }

    func apply(_ events: [WatchEvent]) {
        var rescanReason: String?
        for event in events {
            switch event {
            case .rescan(let reason):
                rescanReason = reason
            case .modified(let directory, let name):
                let path = PathPatterns.join(directory, name)
                if let id = pathIndex[path], let file = files[id] {
                    file.dirty = true
                } else if patterns.matches(path) {
                    check(path: path)
                }
            case .entryChanged(let directory, let name):
                check(path: PathPatterns.join(directory, name))
            case .moved(let from, let to):
                if patterns.matches(from) && !patterns.matches(to) { drainRotatedAway(path: to) }
            }
        }
        if let reason = rescanReason {
            if reason != StatPollingWatcher.tick { logger.debug("rescanning", metadata: ["reason": "\(reason)"]) }
            updateWatches()
            rescan(markAllDirty: true)
        }
    }

    /// Looks at one path after an event for it: a file may have appeared there, or the
    /// file that was there may have gone.
    func check(path: String) {
        var info = stat()
        let exists = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        if let id = pathIndex[path], !(exists && FileID(info) == id) {
            pathIndex[path] = nil
            if let file = files[id] {
                file.pathLost = true
                file.dirty = true
            }
        }
        guard exists, patterns.matches(path) else { return }
        let id = FileID(info)
        if let file = files[id] {
            relocate(file, to: path)
            file.dirty = true
        } else {
            openAtRuntime(path: path)
        }
    }

    /// A file renamed from a matching path to one that does not match: if it was never
    /// opened (it was created and rotated away before the reader got to it), it is opened
    /// now and drained like any file rotated away.
    func drainRotatedAway(path: String) {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, files[FileID(info)] == nil,
            let file = open(path: path)
        else { return }
        if pathIndex[path] == file.id { pathIndex[path] = nil }
        file.pathLost = true
        if !claimByIdentity(file), !claimByContent(file) {
            logger.debug("file rotated away before it was read: draining it", metadata: ["path": "\(path)"])
        }
    }

    func relocate(_ file: TailedFile, to path: String) {
        if file.pathLost || file.path != path {
            if pathIndex[file.path] == file.id { pathIndex[file.path] = nil }
            if file.path != path {
                logger.debug("file renamed", metadata: ["from": "\(file.path)", "to": "\(path)"])
            }
            file.move(to: path)
            file.pathLost = false
        }
        pathIndex[path] = file.id
        file.isSymlink = Self.isSymlink(path)
    }

    /// Stats every path the globs match now: opens new files, notes new paths of known
    /// ones, and marks those not found anywhere as gone.
    func rescan(markAllDirty: Bool) {
        nextRescan = clock.now.advanced(by: tuning.rescanInterval)
        var found: [FileID: [String]] = [:]
        var order: [String] = []
        for path in patterns.scan() {
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            found[FileID(info), default: []].append(path)
            order.append(path)
        }
        for file in files.values {
            if let paths = found[file.id] {
                if !paths.contains(file.path) || file.pathLost { relocate(file, to: paths[0]) }
            } else if !file.pathLost {
                if pathIndex[file.path] == file.id { pathIndex[file.path] = nil }
                file.pathLost = true
            }
            if markAllDirty { file.dirty = true }
        }
        for path in order {
            var info = stat()
            guard stat(path, &info) == 0, files[FileID(info)] == nil else { continue }
            openAtRuntime(path: path)
        }
    }

    /// Files no directory watch covers (rotated away, or behind a symlink) are looked at
    /// once per poll interval.
    func pollUnwatched() {
        nextPoll = clock.now.advanced(by: tuning.pollInterval)
        for file in files.values where file.isPolled {
            guard let size = FileIdentity.fileSize(file.fd) else { continue }
            if size != file.readOffset || size != file.size { file.dirty = true }
        }
    }

    func nextDeadline() -> ContinuousClock.Instant {
        var deadline = min(nextRescan, nextPrune)
        var polling = false
        for file in files.values {
            if file.isPolled { polling = true }
            if file.hold != nil || file.isGone || (file.isRotated && file.hasPartialLine) {
                deadline = min(deadline, file.lastGrowth.advanced(by: config.rotateWait))
                if let hold = file.hold { deadline = min(deadline, hold.lastGrowth.advanced(by: config.rotateWait)) }
            }
        }
        if polling { deadline = min(deadline, nextPoll) }
        return deadline
    }

    // MARK: - Opening

    /// A file found while running: it resumes where a checkpoint of the last run says if
    /// one is its own, otherwise it is read from its start.
    func openAtRuntime(path: String) {
        guard let file = open(path: path) else { return }
        if !claimByIdentity(file), !claimByContent(file) {
            logger.debug("new file", metadata: ["path": "\(path)", "file": "\(file.id)"])
        }
    }

    /// At start: every matching file, matched to the checkpoints of the last run first by
    /// device and inode, then by content (a copy made by copytruncate while stopped);
    /// the rest start where `start_at` says, or at 0 if their checkpoint no longer fits.
    func startupScan() {
        var opened: [TailedFile] = []
        for path in patterns.scan() {
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            if let file = files[FileID(info)] {
                if pathIndex[path] == nil { pathIndex[path] = file.id }
                continue
            }
            if let file = open(path: path) { opened.append(file) }
        }
        let unmatched = opened.filter { !claimByIdentity($0) }
        for file in unmatched where !claimByContent(file) {
            let replaced = unclaimed.values.contains { $0.device == file.id.device && $0.inode == file.id.inode }
            if replaced {
                logger.notice(
                    "file no longer holds what its checkpoint was taken from (replaced or truncated): reading it from the start",
                    metadata: ["path": "\(file.path)", "file": "\(file.id)"])
            } else if config.startAt == .end {
                startAtEnd(file)
            }
        }
    }

    func open(path: String) -> TailedFile? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            if code != ENOENT, warnedPaths.insert(path).inserted {
                logger.warning(
                    "cannot open file", metadata: ["path": "\(path)", "error": "\(String(cString: strerror(code)))"])
            }
            return nil
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            Glibc.close(fd)
            return nil
        }
        let id = FileID(info)
        if let existing = files[id] {
            Glibc.close(fd)
            relocate(existing, to: path)
            return nil
        }
        warnedPaths.remove(path)
        let file = TailedFile(id: id, fd: fd, path: path, now: clock.now)
        file.size = UInt64(info.st_size)
        file.deleted = info.st_nlink == 0
        file.isSymlink = Self.isSymlink(path)
        files[id] = file
        pathIndex[path] = id
        return file
    }

    static func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// Resumes `file` from an unclaimed checkpoint of the same device and inode.
    func claimByIdentity(_ file: TailedFile) -> Bool {
        let candidates = unclaimed.values
            .filter { $0.device == file.id.device && $0.inode == file.id.inode }
            .sorted { ($0.offset ?? 0) > ($1.offset ?? 0) }
        for checkpoint in candidates {
            if let match = FileIdentity.verify(checkpoint, fd: file.fd, size: file.size) {
                resume(file, from: checkpoint, match: match)
                return true
            }
        }
        return false
    }

    /// Resumes `file` from an unclaimed checkpoint of another inode whose content it
    /// holds: the copy a copytruncate made, or a file copied and removed. A copy that ends
    /// before the checkpoint's offset (its full-length fingerprint matching) was read
    /// through its original already, and is taken as read to its end.
    func claimByContent(_ file: TailedFile) -> Bool {
        var prefixes: [Int: [UInt8]] = [:]
        for checkpoint in unclaimed.values.sorted(by: { $0.key < $1.key }) {
            guard let length = checkpoint.fingerprintLength, let fingerprint = checkpoint.fingerprint,
                let offset = checkpoint.offset, length > 0, length <= FileIdentity.prefixBytes,
                UInt64(length) <= file.size
            else { continue }
            if prefixes[length] == nil {
                prefixes[length] = FileIdentity.read(file.fd, count: length, at: 0) ?? []
            }
            guard let prefix = prefixes[length], prefix.count == length, StableHash.hash(prefix) == fingerprint else {
                continue
            }
            let match: FileIdentity.Match
            if let verified = FileIdentity.verify(checkpoint, fd: file.fd, size: file.size, prefix: prefix) {
                match = verified
            } else if length == FileIdentity.prefixBytes, file.size < offset,
                let window = FileIdentity.window(file.fd, before: file.size)
            {
                match = FileIdentity.Match(prefix: prefix, window: window, offset: file.size)
            } else {
                continue
            }
            logger.notice(
                "file holds the content of another file's checkpoint (a copy): continuing it here",
                metadata: ["path": "\(file.path)", "key": "\(checkpoint.key)", "offset": "\(match.offset)"])
            file.isCopy = checkpoint.device != file.id.device || checkpoint.inode != file.id.inode
            resume(file, from: checkpoint, match: match)
            return true
        }
        return false
    }

    func resume(_ file: TailedFile, from checkpoint: Checkpoint, match: FileIdentity.Match) {
        unclaimed[checkpoint.key] = nil
        guard let fingerprint = checkpoint.fingerprint else { return }
        file.adopt(Incarnation(key: checkpoint.key, fingerprint: fingerprint, prefix: match.prefix))
        file.position(at: match.offset, window: match.window)
        logger.debug(
            "resuming file", metadata: ["path": "\(file.path)", "key": "\(checkpoint.key)", "offset": "\(match.offset)"])
    }

    /// `start_at: end`: the file's existing lines are skipped; reading starts after its
    /// last newline, so that a line being written is read whole.
    func startAtEnd(_ file: TailedFile) {
        let size = file.size
        guard size > 0 else { return }
        let limit = UInt64(config.maxLineBytes) + 1
        var position = size
        var searched: UInt64 = 0
        var start: UInt64?
        while position > 0, searched < limit, start == nil {
            let count = Int(min(UInt64(64 * 1024), position, limit - searched))
            position -= UInt64(count)
            searched += UInt64(count)
            guard let chunk = FileIdentity.read(file.fd, count: count, at: position), chunk.count == count else { return }
            if let index = chunk.lastIndex(of: 0x0A) { start = position + UInt64(index) + 1 }
        }
        let offset = start ?? (position == 0 ? 0 : size)
        guard let window = FileIdentity.window(file.fd, before: offset) else { return }
        file.position(at: offset, window: window)
        if start == nil && position > 0 { file.skipping = position }
        if offset > 0 {
            guard let prefix = FileIdentity.read(file.fd, count: Int(min(UInt64(FileIdentity.prefixBytes), size)), at: 0)
            else { return }
            let fingerprint = StableHash.hash(prefix)
            file.adopt(Incarnation(key: newKey(for: file.id, fingerprint: fingerprint), fingerprint: fingerprint, prefix: prefix))
        }
    }

    // MARK: - Checkpoint housekeeping

    /// Drops checkpoints of content that no open file holds and that were not committed
    /// for `checkpointRetention`.
    func prune() async {
        nextPrune = clock.now.advanced(by: tuning.pruneInterval)
        let live = Set(files.values.compactMap { $0.incarnation?.key })
        let pruned = await committer.prune(keeping: live, olderThan: tuning.checkpointRetention)
        for key in pruned { unclaimed[key] = nil }
        if !pruned.isEmpty {
            logger.info("dropped checkpoints of files gone for longer than the retention", metadata: ["count": "\(pruned.count)"])
        }
    }

    /// A key for new content in a file: device, inode and fingerprint, and when it was
    /// first seen (milliseconds since 1970, in hex), so that content that starts the same
    /// way in a reused inode never gets the key of what was there before.
    func newKey(for id: FileID, fingerprint: UInt64) -> String {
        let milliseconds = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        return "\(id.device):\(id.inode):\(String(fingerprint, radix: 16)):\(String(milliseconds, radix: 16))"
    }

    func publishStatistics() {
        lastPublish = clock.now
        var stats = FileInputStats(watcher: watcher.kind)
        stats.linesRead = closedLines
        stats.bytesRead = closedBytes
        stats.linesTooLong = closedTooLong
        stats.files = files.values.map(\.stats)
        for file in stats.files {
            stats.linesRead += file.linesRead
            stats.bytesRead += file.bytesRead
            stats.linesTooLong += file.linesTooLong
        }
        statistics.publish(stats)
    }
}
