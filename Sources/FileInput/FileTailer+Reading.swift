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
        if size < file.readOffset || windowChanged(file) {
            await handleTruncation(file, size: size)
            return true
        }
        if file.incarnation == nil && !establish(file, checkTwins: !file.independent) {
            file.dirty = false
            return false
        }
        guard size > file.readOffset else {
            file.dirty = false
            return false
        }

        let chunk = tuning.readChunkBytes
        var base = file.carryStart
        var end = file.carry.count
        buffer.load(file.carry)
        var lineStart = Int(Int64(file.lineStart) - Int64(base))
        var scanFrom = end
        var budget = tuning.turnBytes
        var atEnd = false

        while budget > 0 {
            buffer.reserve(end + chunk, keeping: end)
            let count = pread(file.fd, buffer.base + end, chunk, off_t(base) + off_t(end))
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
            if end > 0 && windowChanged(file.fd, buffer: buffer.raw(max(0, end - FileIdentity.tailBytes)..<end), endingAt: base + UInt64(end)) {
                file.carry = buffer.bytes(0..<end)
                file.carryStart = base
                await handleTruncation(file, size: FileIdentity.fileSize(file.fd) ?? 0)
                return true
            }
            end += count
            budget -= count
            file.bytesRead += UInt64(count)
            file.lastGrowth = clock.now
            if base + UInt64(end) > file.size { file.size = base + UInt64(end) }

            while scanFrom < end {
                guard let found = memchr(buffer.base + scanFrom, 0x0A, end - scanFrom) else {
                    scanFrom = end
                    break
                }
                let newline = buffer.base.distance(to: found)
                let lineEnd = base + UInt64(newline) + 1
                if let skipStart = file.skipping {
                    tooLong(file, start: skipStart, length: lineEnd - 1 - skipStart)
                    file.skipping = nil
                } else if newline - lineStart > config.maxLineBytes {
                    tooLong(file, start: base + UInt64(lineStart), length: UInt64(newline - lineStart))
                } else {
                    emit(file, from: lineStart, to: newline, base: base)
                }
                lineStart = newline + 1
                scanFrom = lineStart
                file.lineStart = lineEnd
                if batch.count >= tuning.batchMaxLines || batchBytes >= tuning.batchMaxBytes {
                    await flushBatch()
                }
            }
            if file.skipping == nil && end - lineStart > config.maxLineBytes {
                file.skipping = base + UInt64(lineStart)
            }
            let keepFrom =
                file.skipping != nil
                ? max(0, end - FileIdentity.tailBytes) : max(0, lineStart - FileIdentity.tailBytes)
            if keepFrom > 0 {
                buffer.discard(upTo: keepFrom, end: end)
                base += UInt64(keepFrom)
                end -= keepFrom
                lineStart -= keepFrom
                scanFrom -= keepFrom
            }
            if count < chunk {
                atEnd = true
                break
            }
        }
        file.carry = buffer.bytes(0..<end)
        file.carryStart = base
        buffer.shrinkIfLarge()
        file.dirty = !atEnd
        return true
    }

    /// Gives new content in `file` its incarnation once it has a first complete line (or
    /// a full prefix): the fingerprint is taken then. If those first bytes are another
    /// open file's, the file is held instead (it may be a copy being made). Returns
    /// whether reading may go on.
    func establish(_ file: TailedFile, checkTwins: Bool) -> Bool {
        guard file.size > 0,
            let prefix = FileIdentity.read(file.fd, count: Int(min(UInt64(FileIdentity.prefixBytes), file.size)), at: 0),
            !prefix.isEmpty
        else { return false }
        if prefix.count < FileIdentity.prefixBytes && !prefix.contains(0x0A) { return false }
        if checkTwins, let twin = twin(startingWith: prefix, excluding: file) {
            file.hold = Hold(twin: twin.id, size: file.size, lastGrowth: clock.now)
            logger.debug(
                "new file starts like another open file: holding it until that one is truncated or rotate_wait passes",
                metadata: ["path": "\(file.path)", "twin": "\(twin.path)"])
            return false
        }
        let fingerprint = StableHash.hash(prefix)
        file.adopt(Incarnation(key: newKey(for: file.id, fingerprint: fingerprint), fingerprint: fingerprint, prefix: prefix))
        return true
    }

    /// An open file (other than `file`) whose content starts like `prefix`, as far as
    /// both go.
    func twin(startingWith prefix: [UInt8], excluding file: TailedFile) -> TailedFile? {
        for other in files.values where other !== file {
            guard let incarnation = other.incarnation else { continue }
            let count = min(prefix.count, incarnation.prefix.count)
            if count > 0 && prefix[..<count] == incarnation.prefix[..<count] { return other }
        }
        return nil
    }

    @inline(__always)
    func emit(_ file: TailedFile, from start: Int, to newline: Int, base: UInt64) {
        let length = newline - start
        let source = buffer.base + start
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { target, initialized in
            if length > 0 { target.baseAddress!.initialize(from: source.assumingMemoryBound(to: UInt8.self), count: length) }
            initialized = length
        }
        let hashStart = max(0, newline + 1 - FileIdentity.tailBytes)
        var checkpoint = file.template
        checkpoint.offset = base + UInt64(newline) + 1
        checkpoint.tailHash = StableHash.hash(buffer.raw(hashStart..<(newline + 1)))
        batch.append(InputLine(bytes: bytes, origin: file.path, offset: base + UInt64(start), checkpoint: checkpoint))
        batchBytes += length
        file.linesRead += 1
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
        let lines = batch
        batch = []
        batch.reserveCapacity(tuning.batchMaxLines)
        batchBytes = 0
        await deliver(lines)
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
