import Checkpoints
import Logging
#if canImport(Glibc)
import Glibc
#endif

extension FileTailer {
    /// After each round of reads: settles held files, hands on partial last lines of
    /// rotated files that stopped growing, and lets go of rotated-away files that are
    /// drained and have not grown for `rotate_wait`.
    func settle() async {
        let now = clock.now
        for file in files.values where file.hold != nil {
            await settleHold(file, now: now)
        }
        var closing: [TailedFile] = []
        for file in files.values
        where file.hold == nil && (file.isGone || (file.isRotated && (file.hasPartialLine || file.skipping != nil))) {
            guard let size = FileIdentity.fileSize(file.fd) else { continue }
            if size != file.size {
                file.size = size
                file.lastGrowth = now
                file.dirty = true
                continue
            }
            guard size <= file.readOffset, now - file.lastGrowth >= config.rotateWait else { continue }
            if file.isGone {
                closing.append(file)
            } else if file.hasPartialLine || file.skipping != nil {
                deliverPartialLine(file)
            }
        }
        guard !closing.isEmpty else { return }
        // A file that only lost its path may have moved to another matching one that no
        // event told of: look once before letting go.
        if closing.contains(where: { !$0.deleted }) { rescan(markAllDirty: false) }
        for file in closing where file.isGone && files[file.id] === file {
            deliverPartialLine(file)
            close(file)
        }
    }

    func close(_ file: TailedFile) {
        logger.info(
            file.deleted ? "deleted file drained: closing it" : "rotated file drained: closing it",
            metadata: ["path": "\(file.path)", "offset": "\(file.readOffset)", "lines": "\(file.linesRead)"])
        Glibc.close(file.fd)
        files[file.id] = nil
        if pathIndex[file.path] == file.id { pathIndex[file.path] = nil }
        closedLines += file.linesRead
        closedBytes += file.bytesRead
        closedTooLong += file.linesTooLong
        // A held file that starts like this one may be its copy (moved by copying): it
        // continues the content if it holds it; otherwise it is read as its own file.
        for held in files.values where held.hold?.twin == file.id {
            if !continueCopy(of: file, in: held) { release(held, reason: "the file it starts like was closed") }
        }
    }

    /// A held file stays held while it is still a prefix of its twin and keeps growing;
    /// it continues the twin's content if the twin is truncated, and is read as a file of
    /// its own if it diverges or stops growing for `rotate_wait` first.
    func settleHold(_ file: TailedFile, now: ContinuousClock.Instant) async {
        guard var hold = file.hold else { return }
        guard let twin = files[hold.twin], twin.incarnation != nil else {
            release(file, reason: "the file it is a copy of is no longer open")
            return
        }
        if let size = FileIdentity.fileSize(twin.fd), contentReplaced(twin, size: size) {
            await handleTruncation(twin, size: size)
            return
        }
        guard let size = FileIdentity.fileSize(file.fd) else { return }
        file.size = size
        if size != hold.size {
            hold.size = size
            hold.lastGrowth = now
        }
        if hold.verifiedSize != size {
            guard isPrefix(file, of: twin, size: size) else {
                release(file, reason: "it is not a copy of the other file")
                return
            }
            hold.verifiedSize = size
        }
        file.hold = hold
        if now - hold.lastGrowth >= config.rotateWait {
            release(file, reason: "the file it is a copy of was not truncated within rotate_wait")
        }
    }

    func release(_ file: TailedFile, reason: String) {
        file.hold = nil
        file.independent = true
        file.dirty = true
        logger.debug("reading held file as a file of its own", metadata: ["path": "\(file.path)", "reason": "\(reason)"])
    }

    /// `file` was truncated (or rewritten in place): its content so far is gone from it.
    /// If a copy of that content is open (copytruncate), the content continues there from
    /// where it was read up to; the file itself starts over at 0 with new content.
    func handleTruncation(_ file: TailedFile, size: UInt64) async {
        var copy = findCopy(of: file)
        if copy == nil && file.incarnation != nil {
            // The copy's creation may not have been reported yet.
            apply(await watcher.changes(waitingAtMost: .zero))
            copy = findCopy(of: file)
            if copy == nil {
                rescan(markAllDirty: false)
                copy = findCopy(of: file)
            }
        }
        if let copy, let incarnation = file.incarnation {
            logger.notice(
                "file truncated: continuing its content in the copy",
                metadata: [
                    "path": "\(file.path)", "copy": "\(copy.path)", "offset": "\(copy.lineStart)", "key": "\(incarnation.key)",
                ])
        } else if file.incarnation != nil || file.readOffset > 0 {
            let unread = file.size > file.readOffset ? file.size - file.readOffset : 0
            logger.warning(
                "file truncated and no copy of it found under the globs: what was not read before the truncation is lost",
                metadata: [
                    "path": "\(file.path)", "offset": "\(file.lineStart)", "size": "\(size)",
                    "unread_bytes_last_seen": "\(unread)",
                ])
        }
        file.reset()
        file.size = size
        file.lastGrowth = clock.now
    }

    /// An open file that holds the content of `file` up to where it was read: its first
    /// bytes, and the bytes just before the read position, are the same.
    func findCopy(of file: TailedFile) -> TailedFile? {
        guard file.incarnation != nil else { return nil }
        let candidates = files.values.filter { other in
            other !== file && (other.hold?.twin == file.id || (other.incarnation == nil && other.lineStart == 0))
        }
        for candidate in candidates.sorted(by: { $0.path < $1.path }) where continueCopy(of: file, in: candidate) {
            return candidate
        }
        return nil
    }

    /// Moves the content `from` was reading into `copy`, if `copy` holds it: at the read
    /// position with the partial line when it holds that too, else at the start of the
    /// partial line; or, when `copy` is a copy (verified while held) that ends before
    /// those, at its end, having nothing unread. Returns whether it did.
    func continueCopy(of from: TailedFile, in copy: TailedFile) -> Bool {
        guard let incarnation = from.incarnation, let size = FileIdentity.fileSize(copy.fd), size > 0 else { return false }
        let headCount = Int(min(size, UInt64(incarnation.prefix.count)))
        guard let head = FileIdentity.read(copy.fd, count: headCount, at: 0), head[...] == incarnation.prefix[..<headCount]
        else { return false }
        var candidates: [(bytes: [UInt8], offset: UInt64)] = [(from.carry, from.readOffset)]
        if from.skipping == nil && from.readOffset > from.lineStart {
            candidates.append((Array(from.carry[..<Int(from.lineStart - from.carryStart)]), from.lineStart))
        }
        for candidate in candidates where size >= candidate.offset {
            let check = candidate.bytes.suffix(4096)
            guard let actual = FileIdentity.read(copy.fd, count: check.count, at: candidate.offset - UInt64(check.count)),
                actual.elementsEqual(check)
            else { continue }
            copy.carry = candidate.bytes
            copy.carryStart = candidate.offset - UInt64(candidate.bytes.count)
            copy.lineStart = from.lineStart
            copy.skipping = from.skipping
            takeOver(copy, incarnation: incarnation, size: size)
            return true
        }
        // A copy that ends before the read position has nothing unread if it was seen to be
        // a prefix of the file while held, or if its first bytes are a full-length
        // fingerprint's (a shorter match could be a new file that starts the same way).
        let verified = copy.hold.map { $0.twin == from.id && $0.verifiedSize == size } ?? false
        let fullPrefix = incarnation.prefix.count == FileIdentity.prefixBytes && size >= UInt64(FileIdentity.prefixBytes)
        guard size < from.readOffset, verified || fullPrefix else { return false }
        let lineStart = min(from.lineStart, size)
        let skipping = from.skipping.flatMap { $0 < size ? $0 : nil }
        let carryStart =
            skipping != nil
            ? size - min(size, UInt64(FileIdentity.tailBytes)) : lineStart - min(lineStart, UInt64(FileIdentity.tailBytes))
        guard let carry = FileIdentity.read(copy.fd, count: Int(size - carryStart), at: carryStart),
            carry.count == Int(size - carryStart)
        else { return false }
        copy.carry = carry
        copy.carryStart = carryStart
        copy.lineStart = lineStart
        copy.skipping = skipping
        takeOver(copy, incarnation: incarnation, size: size)
        return true
    }

    private func takeOver(_ copy: TailedFile, incarnation: Incarnation, size: UInt64) {
        copy.hold = nil
        copy.adopt(incarnation)
        copy.isCopy = true
        copy.size = size
        copy.dirty = true
        copy.lastGrowth = clock.now
    }
}
