import Synchronization

/// What a file input has done so far, for metrics: totals since it started, and one
/// entry per file it holds open now.
public struct FileInputStats: Sendable, Equatable {
    /// `inotify`, or `polling` when inotify could not serve.
    public var watcher: String
    /// Lines handed on, bytes read (including skipped lines and newlines), lines skipped
    /// for being longer than `max_line_bytes`: totals over every file, closed ones included.
    public var linesRead: UInt64
    public var bytesRead: UInt64
    public var linesTooLong: UInt64
    public var files: [FileStats]

    public init(watcher: String = "", linesRead: UInt64 = 0, bytesRead: UInt64 = 0, linesTooLong: UInt64 = 0, files: [FileStats] = []) {
        self.watcher = watcher
        self.linesRead = linesRead
        self.bytesRead = bytesRead
        self.linesTooLong = linesTooLong
        self.files = files
    }

    /// Bytes not yet handed on, over every open file.
    public var bytesBehind: UInt64 { files.reduce(0) { $0 + $1.bytesBehind } }
}

/// One file a file input holds open.
public struct FileStats: Sendable, Equatable {
    /// The path the file was last seen under.
    public var path: String
    /// The checkpoint key of what is being read; nil until its first line.
    public var key: String?
    public var device: UInt64
    public var inode: UInt64
    /// The file's size when last looked at.
    public var size: UInt64
    /// Where the next line starts: everything before was handed on or skipped.
    public var offset: UInt64
    /// `size - offset`: what is still to be read.
    public var bytesBehind: UInt64
    public var linesRead: UInt64
    public var bytesRead: UInt64
    public var linesTooLong: UInt64
    /// The file was rotated away (renamed, deleted, or it is the copy a copytruncate made)
    /// and is being drained.
    public var rotated: Bool

    public init(
        path: String, key: String?, device: UInt64, inode: UInt64, size: UInt64, offset: UInt64,
        linesRead: UInt64, bytesRead: UInt64, linesTooLong: UInt64, rotated: Bool
    ) {
        self.path = path
        self.key = key
        self.device = device
        self.inode = inode
        self.size = size
        self.offset = offset
        self.bytesBehind = size > offset ? size - offset : 0
        self.linesRead = linesRead
        self.bytesRead = bytesRead
        self.linesTooLong = linesTooLong
        self.rotated = rotated
    }
}

/// Where the reader publishes its statistics for other tasks to read.
final class StatisticsBox: Sendable {
    private let state = Mutex(FileInputStats())

    func publish(_ stats: FileInputStats) {
        state.withLock { $0 = stats }
    }

    func snapshot() -> FileInputStats {
        state.withLock { $0 }
    }
}
