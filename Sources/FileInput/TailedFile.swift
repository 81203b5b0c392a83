import Checkpoints
#if canImport(Glibc)
import Glibc
#endif

/// A file by device and inode: what stays the same across renames.
struct FileID: Hashable, Sendable, CustomStringConvertible {
    let device: UInt64
    let inode: UInt64

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    init(_ info: stat) {
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    var description: String { "\(device):\(inode)" }
}

/// What a checkpoint key names: the content that began at byte 0 of some file, known by
/// a fingerprint of its first bytes. It normally lives in one inode for good; a
/// copytruncate moves it to the copy, a truncation or replacement starts a new one.
struct Incarnation {
    let key: String
    /// `StableHash` of `prefix`.
    let fingerprint: UInt64
    /// The content's first bytes (at most `FileIdentity.prefixBytes`), kept to recognise
    /// a copy of it.
    let prefix: [UInt8]
}

/// A new file whose bytes so far are the first bytes of another open file: it may be the
/// copy a copytruncate is making, so it is not read until that is settled.
struct Hold {
    /// The file it is a copy of, as far as it goes.
    var twin: FileID
    var size: UInt64
    var lastGrowth: ContinuousClock.Instant
    /// The size up to which it was last found to be a byte-for-byte prefix of the twin.
    var verifiedSize: UInt64
}

/// One open file the reader follows, and where it is in it. Owned by the reader task.
final class TailedFile {
    let id: FileID
    let fd: Int32
    /// Where the file is now; `firstPath` is where it was first seen.
    var path: String
    let firstPath: String
    /// Nil while nothing has been handed on from the current content.
    var incarnation: Incarnation?
    /// The checkpoint every line of this file carries, but for its offset and tail hash.
    var template = Checkpoint(key: "")

    /// The file's bytes `[carryStart, carryStart + carry.count)`: the partial line not yet
    /// complete, preceded by up to `FileIdentity.tailBytes` bytes before `lineStart`.
    var carry: [UInt8] = []
    var carryStart: UInt64 = 0
    /// Where the next line starts: every byte before it was handed on or skipped.
    var lineStart: UInt64 = 0
    /// Set while skipping a line longer than `max_line_bytes`: where that line started.
    var skipping: UInt64?

    /// The size when last looked at, and when that last changed.
    var size: UInt64 = 0
    var lastGrowth: ContinuousClock.Instant
    /// There may be more to read.
    var dirty = true
    /// Unlinked (`st_nlink == 0`).
    var deleted = false
    /// No longer at `path`, and not found at another matching path.
    var pathLost = false
    /// This file is the copy a copytruncate made, continuing another file's content.
    var isCopy = false
    /// Reached through a symlink, so no directory watch sees it grow.
    var isSymlink = false
    /// Read as a file of its own although it starts like another.
    var independent = false
    var hold: Hold?

    var linesRead: UInt64 = 0
    var bytesRead: UInt64 = 0
    var linesTooLong: UInt64 = 0

    init(id: FileID, fd: Int32, path: String, now: ContinuousClock.Instant) {
        self.id = id
        self.fd = fd
        self.path = path
        self.firstPath = path
        self.lastGrowth = now
    }

    var readOffset: UInt64 { carryStart + UInt64(carry.count) }

    /// Rotated away: it is only drained now, and closed once idle for `rotate_wait`.
    var isGone: Bool { deleted || pathLost }

    /// Renamed, deleted or copied: its partial last line is delivered after `rotate_wait`.
    var isRotated: Bool { isGone || isCopy || path != firstPath }

    /// Polled for growth, because no watched directory reports its writes.
    var isPolled: Bool { isGone || isSymlink }

    /// A partial last line is waiting for its newline.
    var hasPartialLine: Bool { skipping == nil && readOffset > lineStart }

    /// Starts reading at `offset`, with `window` the bytes just before it.
    func position(at offset: UInt64, window: [UInt8]) {
        carry = window
        carryStart = offset - UInt64(window.count)
        lineStart = offset
        skipping = nil
    }

    /// Forgets the current content (after a truncation): reading starts again at 0.
    func reset() {
        incarnation = nil
        carry = []
        carryStart = 0
        lineStart = 0
        skipping = nil
        isCopy = false
        independent = false
        hold = nil
        dirty = true
    }

    func adopt(_ incarnation: Incarnation) {
        self.incarnation = incarnation
        template = Checkpoint(
            key: incarnation.key, path: path, device: id.device, inode: id.inode,
            fingerprint: incarnation.fingerprint, fingerprintLength: incarnation.prefix.count)
    }

    func move(to path: String) {
        self.path = path
        template.path = path
    }

    var stats: FileStats {
        FileStats(
            path: path, key: incarnation?.key, device: id.device, inode: id.inode, size: size,
            offset: skipping ?? lineStart, linesRead: linesRead, bytesRead: bytesRead,
            linesTooLong: linesTooLong, rotated: isRotated)
    }
}
