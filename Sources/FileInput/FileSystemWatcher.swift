/// What a watcher reports: the reader turns each report into stats of the paths named,
/// reads of the files that grew, or a full rescan.
enum WatchEvent: Equatable, Sendable {
    /// An entry of a watched directory was created, moved in or out, or deleted.
    case entryChanged(directory: String, name: String)
    /// An entry was renamed from one watched directory's path to another's (or the same
    /// directory's): both paths changed, and what is at `to` was at `from` before.
    case moved(from: String, to: String)
    /// A file in a watched directory was written to (or truncated).
    case modified(directory: String, name: String)
    /// Something happened that needs a full rescan: a watched directory itself was moved
    /// or deleted, a subdirectory appeared, the event queue overflowed, or a poll tick.
    case rescan(reason: String)
}

/// The outcome of asking a watcher to watch one directory.
enum WatchOutcome: Equatable, Sendable {
    case watching
    /// The directory does not exist (any more); a later rescan tries again.
    case missing
    /// This watcher cannot serve at all (for inotify: the watch limit is reached); the
    /// reader switches to another implementation.
    case unavailable(reason: String)
}

/// The small interface the reader needs from a file-system watcher. Two implementations:
/// `InotifyWatcher` (the normal case) and `StatPollingWatcher` (where inotify cannot
/// serve). A watcher is owned by one reader task and used only from it.
protocol FileSystemWatcher: AnyObject {
    /// A short name for logs and statistics: `inotify` or `polling`.
    var kind: String { get }

    /// Starts watching a directory (not recursively). Watching twice is harmless.
    func watch(directory: String) -> WatchOutcome

    /// Stops watching a directory.
    func unwatch(directory: String)

    /// What changed since the last call, waiting at most `timeout` for something to
    /// happen (not at all for `.zero`). Returns early, possibly with nothing, when the
    /// calling task is cancelled.
    func changes(waitingAtMost timeout: Duration) async -> [WatchEvent]

    /// Releases the watcher's resources; it is not used afterwards.
    func close()
}
