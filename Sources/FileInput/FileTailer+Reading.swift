import Checkpoints
import Logging
#if canImport(Glibc)
import Glibc
#endif

extension FileTailer {
    /// Reads from `file` until its end or `turnBytes`, handing complete lines on. Returns
    /// whether anything happened (bytes read, a truncation handled).
    func readTurn(_ file: TailedFile) async -> Bool {
        var info = stat()
        guard fstat(file.fd, &info) == 0 else {
            file.dirty = false
            return false
        }
        let size = UInt64(info.st_size)
        if info.st_nlink == 0 && !file.deleted {
            file.deleted = true
            logger.debug("file deleted: draining it", metadata: ["path": "\(file.path)"])
        }
        if size != file.size {
            file.size = size
            file.lastGrowth = clock.now
        }
        if contentReplaced(file, size: size) {
            await handleTruncation(file, size: size)
            return true
        }
        if file.incarnation == nil {
            guard await establish(file, checkTwins: !file.independent) else {
                file.dirty = false
                return false
            }
        }
        guard size > file.readOffset else {
            file.dirty = false
            return false
        }
        lengthenFingerprint(file)

        let chunk = tuning.readChunkBytes
        var base = file.carryStart
        var end = file.carry.count
        buffer.load(file.carry)
        var cursor = ScanCursor(lineStart: Int(Int64(file.lineStart) - Int64(base)), scanFrom: end, skipping: file.skipping)
        var budget = tuning.turnBytes
        var atEnd = false
        // The batch is taken into a local for the scan, so that appending to it does not
        // go through the class's exclusivity checks on every line.
        var lines = batch
        batch = []
        var batchBytes = self.batchBytes
        let emitter = LineEmitter(template: file.template, origin: file.path, maxLineBytes: config.maxLineBytes)
        defer { file.linesRead += emitter.takeCount() }

        while budget > 0 {
            buffer.reserve(end + chunk, keeping: end)
            let memory = buffer.base
            let count = pread(file.fd, memory + end, chunk, off_t(base) + off_t(end))
            if count < 0 {
                if errno == EINTR { continue }
                logger.error(
                    "cannot read file", metadata: ["path": "\(file.path)", "error": "\(String(cString: strerror(errno)))"])
                atEnd = true
                break
            }
            if count == 0 {
                atEnd = true
                break
            }
            // The bytes before what was just read must still be the ones read before:
            // otherwise the file was truncated (and maybe rewritten) under the read.
            if end > 0
                && windowChanged(
                    file.fd, buffer: buffer.raw(max(0, end - FileIdentity.tailBytes)..<end), endingAt: base + UInt64(end))
            {
                file.carry = buffer.bytes(0..<end)
                file.carryStart = base
                file.skipping = cursor.skipping
                (batch, self.batchBytes) = (lines, batchBytes)
                await handleTruncation(file, size: FileIdentity.fileSize(file.fd) ?? 0)
                return true
            }
            end += count
            budget -= count
            file.bytesRead += UInt64(count)
            file.lastGrowth = clock.now
            if base + UInt64(end) > file.size { file.size = base + UInt64(end) }

            while cursor.scanFrom < end {
                let outcome = emitter.scan(
                    memory, base: base, end: end, cursor: &cursor, into: &lines, bytes: &batchBytes,
                    maxLines: tuning.batchMaxLines, maxBytes: tuning.batchMaxBytes)
                for skipped in outcome.tooLong { tooLong(file, start: skipped.start, length: skipped.length) }
                if lines.count >= tuning.batchMaxLines || batchBytes >= tuning.batchMaxBytes {
                    file.lineStart = base + UInt64(cursor.lineStart)
                    file.linesRead += emitter.takeCount()
                    (batch, self.batchBytes) = (lines, batchBytes)
                    await flushBatch()
                    (lines, batchBytes) = (batch, 0)
                    batch = []
                }
            }
            if cursor.skipping == nil && end - cursor.lineStart > config.maxLineBytes {
                cursor.skipping = base + UInt64(cursor.lineStart)
            }
            file.lineStart = cursor.skipping ?? base + UInt64(cursor.lineStart)
            let keepFrom =
                cursor.skipping != nil
                ? max(0, end - FileIdentity.tailBytes) : max(0, cursor.lineStart - FileIdentity.tailBytes)
            if keepFrom > 0 {
                buffer.discard(upTo: keepFrom, end: end)
                base += UInt64(keepFrom)
                end -= keepFrom
                cursor.lineStart -= keepFrom
                cursor.scanFrom -= keepFrom
            }
            if count < chunk {
                atEnd = true
                break
            }
        }
        (batch, self.batchBytes) = (lines, batchBytes)
        file.carry = buffer.bytes(0..<end)
        file.carryStart = base
        file.skipping = cursor.skipping
        buffer.shrinkIfLarge()
        file.dirty = !atEnd
        return true
    }

    /// Gives new content in `file` its incarnation once it has a first complete line (or
    /// a full prefix): the fingerprint is taken then. If the file so far is a byte-for-byte
    /// prefix of another open file, it is held instead (it may be a copy being made).
    /// Returns whether reading may go on.
    func establish(_ file: TailedFile, checkTwins: Bool) async -> Bool {
        guard file.size > 0,
            let prefix = FileIdentity.read(file.fd, count: Int(min(UInt64(FileIdentity.prefixBytes), file.size)), at: 0),
            !prefix.isEmpty
        else { return false }
        if prefix.count < FileIdentity.prefixBytes && !prefix.contains(0x0A) { return false }
        if checkTwins {
            if let twin = await twin(of: file, prefix: prefix) {
                file.hold = Hold(twin: twin.id, size: file.size, lastGrowth: clock.now, verifiedSize: file.size)
                logger.debug(
                    "new file is so far a copy of another open file: holding it until that one is truncated or rotate_wait passes",
                    metadata: ["path": "\(file.path)", "twin": "\(twin.path)"])
                return false
            }
            // It may have turned out to be the copy of a file truncated meanwhile.
            if file.incarnation != nil { return true }
        }
        let fingerprint = StableHash.hash(prefix)
        file.adopt(Incarnation(key: newKey(for: file.id, fingerprint: fingerprint), fingerprint: fingerprint, prefix: prefix))
        return true
    }

    /// An open file (other than `file`) of which `file` is so far a byte-for-byte prefix.
    /// A file whose content starts like `file` but that was truncated meanwhile is dealt
    /// with first: `file` may be its copy, and then continues its content.
    func twin(of file: TailedFile, prefix: [UInt8]) async -> TailedFile? {
        for other in files.values where other !== file {
            guard let incarnation = other.incarnation else { continue }
            let count = min(prefix.count, incarnation.prefix.count)
            guard count > 0, prefix[..<count] == incarnation.prefix[..<count] else { continue }
            if isPrefix(file, of: other, size: file.size) { return other }
            if let size = FileIdentity.fileSize(other.fd), contentReplaced(other, size: size) {
                await handleTruncation(other, size: size)
                if file.incarnation != nil { return nil }
            }
        }
        return nil
    }

    /// Whether the first `size` bytes of `file` are those of `other` (compared at the
    /// start and just before `size`).
    func isPrefix(_ file: TailedFile, of other: TailedFile, size: UInt64) -> Bool {
        guard let otherSize = FileIdentity.fileSize(other.fd), otherSize >= size else { return false }
        let head = Int(min(UInt64(FileIdentity.prefixBytes), size))
        guard let mine = FileIdentity.read(file.fd, count: head, at: 0),
            let theirs = FileIdentity.read(other.fd, count: head, at: 0), mine.count == head, mine == theirs,
            let myWindow = FileIdentity.window(file.fd, before: size),
            let theirWindow = FileIdentity.window(other.fd, before: size)
        else { return false }
        return myWindow == theirWindow
    }

    /// Lengthens the fingerprint of content that was shorter than `prefixBytes` when it
    /// was taken, as the file grows: a longer fingerprint tells files apart better. Later
    /// checkpoints carry the new fingerprint and its length; the key stays.
    func lengthenFingerprint(_ file: TailedFile) {
        guard let incarnation = file.incarnation, incarnation.prefix.count < FileIdentity.prefixBytes,
            file.size > UInt64(incarnation.prefix.count),
            let prefix = FileIdentity.read(file.fd, count: Int(min(UInt64(FileIdentity.prefixBytes), file.size)), at: 0),
            prefix.starts(with: incarnation.prefix)
        else { return }
        file.adopt(Incarnation(key: incarnation.key, fingerprint: StableHash.hash(prefix), prefix: prefix))
    }

    func tooLong(_ file: TailedFile, start: UInt64, length: UInt64) {
        file.linesTooLong += 1
        logger.warning(
            "line longer than max_line_bytes skipped",
            metadata: [
                "path": "\(file.path)", "offset": "\(start)", "bytes": "\(length)", "max_line_bytes": "\(config.maxLineBytes)",
            ])
    }

    /// Hands the partial last line of a rotated file on as a line (or counts it as too
    /// long), so that nothing is left behind when the file is let go.
    func deliverPartialLine(_ file: TailedFile) {
        let end = file.readOffset
        if let skipStart = file.skipping {
            tooLong(file, start: skipStart, length: end - skipStart)
            file.skipping = nil
        } else if file.hasPartialLine, file.incarnation != nil {
            let start = Int(file.lineStart - file.carryStart)
            let bytes = Array(file.carry[start...])
            var checkpoint = file.template
            checkpoint.offset = end
            checkpoint.tailHash = StableHash.hash(file.carry.suffix(FileIdentity.tailBytes))
            batch.append(InputLine(bytes: bytes, origin: file.path, offset: file.lineStart, checkpoint: checkpoint))
            batchBytes += bytes.count
            file.linesRead += 1
            logger.debug(
                "partial last line of a rotated file handed on", metadata: ["path": "\(file.path)", "offset": "\(file.lineStart)"])
        } else {
            return
        }
        file.position(at: end, window: Array(file.carry.suffix(FileIdentity.tailBytes)))
    }

    func flushBatch() async {
        guard !batch.isEmpty else { return }
        // The consumer may keep the reader waiting: what was read so far is published first.
        publishStatistics()
        let lines = batch
        batch = []
        batch.reserveCapacity(tuning.batchMaxLines)
        batchBytes = 0
        await deliver(lines)
    }

    /// Whether `file` no longer holds what was read from it: it is shorter than the read
    /// position, or the bytes just before that position or its first bytes differ. (A
    /// truncated file may have grown past the read position again before it is looked at.)
    func contentReplaced(_ file: TailedFile, size: UInt64) -> Bool {
        if size < file.readOffset || windowChanged(file) { return true }
        guard let prefix = file.incarnation?.prefix else { return false }
        guard size >= UInt64(prefix.count), let head = FileIdentity.read(file.fd, count: prefix.count, at: 0) else {
            return true
        }
        return head != prefix
    }

    /// Whether the bytes just before the read position differ from what was read there.
    func windowChanged(_ file: TailedFile) -> Bool {
        guard file.readOffset > 0 else { return false }
        return file.carry.withUnsafeBytes { raw in
            windowChanged(file.fd, buffer: UnsafeRawBufferPointer(rebasing: raw.suffix(FileIdentity.tailBytes)), endingAt: file.readOffset)
        }
    }

    func windowChanged(_ fd: Int32, buffer expected: UnsafeRawBufferPointer, endingAt offset: UInt64) -> Bool {
        guard expected.count > 0 else { return false }
        guard let actual = FileIdentity.read(fd, count: expected.count, at: offset - UInt64(expected.count)) else { return true }
        return actual.count != expected.count || !actual.withUnsafeBytes { $0.elementsEqual(expected) }
    }
}

/// Where a scan of the read buffer is: buffer indices of the line being read and of the
/// first byte not yet searched for a newline, and where a line being skipped started.
struct ScanCursor {
    var lineStart: Int
    var scanFrom: Int
    var skipping: UInt64?
}

/// Turns the complete lines in the read buffer into `InputLine`s: the hot loop of the
/// reader, kept free of class property accesses.
final class LineEmitter {
    let template: Checkpoint
    let origin: String
    let maxLineBytes: Int
    private var emitted: UInt64 = 0

    init(template: Checkpoint, origin: String, maxLineBytes: Int) {
        self.template = template
        self.origin = origin
        self.maxLineBytes = maxLineBytes
    }

    /// The lines emitted since the last call.
    func takeCount() -> UInt64 {
        defer { emitted = 0 }
        return emitted
    }

    struct Outcome {
        /// Lines skipped for their length: where each started, and how long it was.
        var tooLong: [(start: UInt64, length: UInt64)] = []
    }

    /// Scans `memory[cursor.scanFrom..<end]` (file offset `base` at index 0) until its end
    /// or until `lines` holds `maxLines` lines or `maxBytes` bytes, appending each complete
    /// line to `lines`.
    func scan(
        _ memory: UnsafeMutableRawPointer, base: UInt64, end: Int, cursor: inout ScanCursor,
        into lines: inout [InputLine], bytes: inout Int, maxLines: Int, maxBytes: Int
    ) -> Outcome {
        var outcome = Outcome()
        var lineStart = cursor.lineStart
        var scanFrom = cursor.scanFrom
        var skipping = cursor.skipping
        var count: UInt64 = 0
        while scanFrom < end && lines.count < maxLines && bytes < maxBytes {
            guard let found = memchr(memory + scanFrom, 0x0A, end - scanFrom) else {
                scanFrom = end
                break
            }
            let newline = memory.distance(to: found)
            if let skipStart = skipping {
                outcome.tooLong.append((skipStart, base + UInt64(newline) - skipStart))
                skipping = nil
            } else if newline - lineStart > maxLineBytes {
                outcome.tooLong.append((base + UInt64(lineStart), UInt64(newline - lineStart)))
            } else {
                let length = newline - lineStart
                let source = (memory + lineStart).assumingMemoryBound(to: UInt8.self)
                let line = Array(UnsafeBufferPointer(start: source, count: length))
                let hashStart = max(0, newline + 1 - FileIdentity.tailBytes)
                var checkpoint = template
                checkpoint.offset = base + UInt64(newline) + 1
                checkpoint.tailHash = StableHash.hash(UnsafeRawBufferPointer(start: memory + hashStart, count: newline + 1 - hashStart))
                lines.append(InputLine(bytes: line, origin: origin, offset: base + UInt64(lineStart), checkpoint: checkpoint))
                bytes += length
                count += 1
            }
            lineStart = newline + 1
            scanFrom = lineStart
        }
        emitted += count
        cursor = ScanCursor(lineStart: lineStart, scanFrom: scanFrom, skipping: skipping)
        return outcome
    }
}
