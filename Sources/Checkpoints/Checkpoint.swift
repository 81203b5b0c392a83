import Foundation

/// One position in one source of an input: where reading may resume once everything
/// before it is done. A file input keeps one per file identity, a journald input one for
/// its cursor. The same value travels with every line an input hands on (the position
/// just after that line) and is what the store writes once the line is done.
public struct Checkpoint: Codable, Sendable, Equatable {
    /// Identifies the source inside its input: a file identity, or `"journal"`.
    public var key: String
    /// File inputs: the path the file was last seen under.
    public var path: String?
    /// File inputs: device and inode of the file.
    public var device: UInt64?
    public var inode: UInt64?
    /// File inputs: a fingerprint of the content's first bytes (at most 1 KiB) and how many
    /// bytes it covers.
    public var fingerprint: UInt64?
    public var fingerprintLength: Int?
    /// File inputs: the byte offset just after the last line that is done.
    public var offset: UInt64?
    /// File inputs: a hash of the bytes just before `offset` (the last 256, or all of them
    /// when `offset` is smaller), to notice a file replaced or rewritten in place.
    public var tailHash: UInt64?
    /// Journald inputs: the cursor of the last entry that is done, and its realtime timestamp (µs).
    public var cursor: String?
    public var realtime: UInt64?
    /// When this checkpoint was last committed (set by the committer).
    public var committedAt: Date?

    public init(
        key: String, path: String? = nil, device: UInt64? = nil, inode: UInt64? = nil,
        fingerprint: UInt64? = nil, fingerprintLength: Int? = nil, offset: UInt64? = nil,
        tailHash: UInt64? = nil, cursor: String? = nil, realtime: UInt64? = nil, committedAt: Date? = nil
    ) {
        self.key = key
        self.path = path
        self.device = device
        self.inode = inode
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
        self.offset = offset
        self.tailHash = tailHash
        self.cursor = cursor
        self.realtime = realtime
        self.committedAt = committedAt
    }
}

/// One line as an input hands it on: its bytes exactly as read (no newline), where it came
/// from (for diagnostics), and the checkpoint that becomes committable once it is done.
public struct InputLine: Sendable {
    public var bytes: [UInt8]
    /// Human-readable origin, e.g. `/var/log/orders/a.ndjson` or `journal`.
    public var origin: String
    /// Where the line starts in its origin (file byte offset; 0 for journal entries).
    public var offset: UInt64
    /// The position just after this line.
    public var checkpoint: Checkpoint

    public init(bytes: [UInt8], origin: String, offset: UInt64, checkpoint: Checkpoint) {
        self.bytes = bytes
        self.origin = origin
        self.offset = offset
        self.checkpoint = checkpoint
    }
}
