import Checkpoints
import Config
import Logging

/// The `file` input: follows every file matching the `paths` globs (minus `exclude`),
/// including files that appear later, and hands their lines on in batches.
///
/// - Files are known by device and inode, and their content by a fingerprint of its first
///   bytes; a checkpoint also hashes the bytes just before its offset. So a rename is the
///   same file (not read twice), a truncation or a replaced file is new content (read from
///   0, and logged), a reused inode is told apart from the file it replaces, and the copy
///   a copytruncate makes continues the content where it was read up to.
/// - Rotation: a file renamed or deleted is kept open and drained; after `rotate_wait`
///   without growth its partial last line is handed on and it is closed.
/// - Changes are noticed with inotify on the watched directories; where inotify cannot
///   serve (watch limit, no inotify) it falls back to stat polling and logs so once.
/// - Threads: reads of regular files run on the calling task, one chunk (256 KiB by
///   default) per read(2), so a call is short; the inotify descriptor is non-blocking and
///   only the wait for it to become readable runs on a dedicated thread (`ReadinessWaiter`),
///   so Swift's cooperative threads never block on it.
/// - Memory: one shared read buffer, plus per open file its partial line (at most
///   `max_line_bytes`); a batch is handed on when full, and reading waits while `deliver`
///   does.
///
/// `run` may only be called once at a time.
public final class FileInput: LineInput {
    public let name: String
    public let config: FileInputConfig
    public let committer: CheckpointCommitter
    public let tuning: FileInputTuning
    private let logger: Logger
    private let statistics = StatisticsBox()

    public init(
        name: String, config: FileInputConfig, committer: CheckpointCommitter, logger: Logger,
        tuning: FileInputTuning = FileInputTuning()
    ) {
        self.name = name
        self.config = config
        self.committer = committer
        self.logger = logger
        self.tuning = tuning
    }

    /// Reads until the calling task is cancelled. Each line carries the checkpoint to
    /// commit (through `committer.advance`) once it and every line before it are done;
    /// the input never commits on its own. `ready` is called once every file found at
    /// start is open and positioned.
    public func run(
        deliver: @escaping @Sendable ([InputLine]) async -> Void,
        ready: @escaping @Sendable () -> Void
    ) async throws {
        let tailer = FileTailer(
            name: name, config: config, tuning: tuning, committer: committer, logger: logger,
            statistics: statistics, deliver: deliver)
        await tailer.run(ready: ready)
    }

    /// Counters for metrics: lines and bytes read, lines too long, and per open file (by
    /// path) its size, position and bytes behind, as of the last batch handed on or the
    /// last look at the files. Cheap; safe to call from any task at any time.
    public func stats() -> FileInputStats {
        var stats = statistics.snapshot()
        stats.files.sort { $0.path < $1.path }
        return stats
    }
}
