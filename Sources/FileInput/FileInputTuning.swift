/// The knobs of a file input that the configuration does not expose: how it watches,
/// how much it reads at once, how big its batches are, how long it keeps checkpoints of
/// files that are gone. The defaults are what the agent uses; tests shorten the times.
public struct FileInputTuning: Sendable {
    /// How changes are noticed.
    public enum Watcher: Sendable, Equatable {
        /// inotify on the watched directories, falling back to polling where it cannot serve.
        case inotify
        /// Stat polling only, once per `pollInterval` (what the fallback does).
        case polling
    }

    public var watcher: Watcher
    /// The polling fallback's interval, and how often files that are rotated away or
    /// reached through a symlink (which no directory watch covers) are checked for growth.
    public var pollInterval: Duration
    /// How many bytes one read(2) asks for.
    public var readChunkBytes: Int
    /// How many bytes one file may read before the others get a turn.
    public var turnBytes: Int
    /// A batch is handed on when it holds this many lines or bytes, or when the input
    /// has nothing more to read for now.
    public var batchMaxLines: Int
    public var batchMaxBytes: Int
    /// A full rescan of the globs happens this often even when inotify reports nothing.
    public var rescanInterval: Duration
    /// Checkpoints of files that no longer exist are dropped after this long.
    public var checkpointRetention: Duration
    /// How often checkpoints of files that are gone are looked for.
    public var pruneInterval: Duration

    public init(
        watcher: Watcher = .inotify, pollInterval: Duration = .milliseconds(250), readChunkBytes: Int = 256 * 1024,
        turnBytes: Int = 1 << 20, batchMaxLines: Int = 1024, batchMaxBytes: Int = 1 << 20,
        rescanInterval: Duration = .seconds(60), checkpointRetention: Duration = .seconds(7 * 24 * 3600),
        pruneInterval: Duration = .seconds(600)
    ) {
        self.watcher = watcher
        self.pollInterval = pollInterval
        self.readChunkBytes = max(4096, readChunkBytes)
        self.turnBytes = max(self.readChunkBytes, turnBytes)
        self.batchMaxLines = max(1, batchMaxLines)
        self.batchMaxBytes = max(1, batchMaxBytes)
        self.rescanInterval = rescanInterval
        self.checkpointRetention = checkpointRetention
        self.pruneInterval = pruneInterval
    }
}
