/// The fallback watcher for where inotify cannot serve (the watch limit is reached, or
/// inotify cannot be initialised): it watches nothing and asks for a full rescan once
/// per interval, which makes the reader stat every matching path and every open file,
/// like Fluent Bit's `tail_fs_stat.c`.
final class StatPollingWatcher: FileSystemWatcher {
    let kind = "polling"
    /// The reason of the rescan each tick asks for.
    static let tick = "poll"
    let interval: Duration
    private let clock = ContinuousClock()
    private var nextTick: ContinuousClock.Instant

    init(interval: Duration) {
        self.interval = interval
        nextTick = clock.now.advanced(by: interval)
    }

    func watch(directory: String) -> WatchOutcome { .watching }

    func unwatch(directory: String) {}

    func changes(waitingAtMost timeout: Duration) async -> [WatchEvent] {
        let now = clock.now
        if now < nextTick {
            let wait = min(timeout, nextTick - now)
            guard wait > .zero else { return [] }
            do {
                try await Task.sleep(until: now.advanced(by: wait), clock: clock)
            } catch {
                return []
            }
            if clock.now < nextTick { return [] }
        }
        nextTick = clock.now.advanced(by: interval)
        return [.rescan(reason: Self.tick)]
    }

    func close() {}
}
