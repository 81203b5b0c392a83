#if canImport(Glibc)
import Glibc
#endif

/// The normal watcher: inotify on each watched directory, like Fluent Bit's
/// `tail_fs_inotify.c`. The descriptor is non-blocking and read from the reader's task;
/// only the wait for it to become readable runs on a dedicated thread
/// (`ReadinessWaiter`), so no cooperative thread ever blocks in the kernel.
final class InotifyWatcher: FileSystemWatcher {
    let kind = "inotify"

    private static let directoryMask: UInt32 =
        UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_MODIFY) | UInt32(IN_MOVED_FROM)
        | UInt32(IN_DELETE) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)

    private let fd: Int32
    private let waiter: ReadinessWaiter
    private var directories: [Int32: String] = [:]
    private var descriptors: [String: Int32] = [:]
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// The last IN_MOVED_FROM events, by cookie, to pair with their IN_MOVED_TO.
    private var recentMoves: [(cookie: UInt32, path: String)] = []
    private var closed = false

    init() throws(WatcherError) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw WatcherError(operation: "inotify_init1", errno: errno) }
        do {
            waiter = try ReadinessWaiter(fd: fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit {
        close()
    }

    func watch(directory: String) -> WatchOutcome {
        let wd = inotify_add_watch(fd, directory, Self.directoryMask)
        guard wd >= 0 else {
            let code = errno
            switch code {
            case ENOSPC:
                return .unavailable(reason: "inotify watch limit reached (fs.inotify.max_user_watches) at \(directory)")
            case ENOENT, ENOTDIR, EACCES:
                return .missing
            default:
                return .unavailable(reason: "inotify_add_watch \(directory): \(String(cString: strerror(code)))")
            }
        }
        if let previous = descriptors[directory], previous != wd {
            directories[previous] = nil
        }
        directories[wd] = directory
        descriptors[directory] = wd
        return .watching
    }

    func unwatch(directory: String) {
        guard let wd = descriptors.removeValue(forKey: directory) else { return }
        directories[wd] = nil
        inotify_rm_watch(fd, wd)
    }

    func changes(waitingAtMost timeout: Duration) async -> [WatchEvent] {
        var events = readPending()
        if !events.isEmpty || timeout <= .zero || closed { return events }
        await waiter.waitReadable(timeout: timeout)
        events = readPending()
        return events
    }

    func close() {
        guard !closed else { return }
        closed = true
        waiter.shutdown()
    }

    /// Reads every queued event without blocking.
    private func readPending() -> [WatchEvent] {
        guard !closed else { return [] }
        var events: [WatchEvent] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                let header = 16
                while offset + header <= count {
                    let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let cookie = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameBytes = UnsafeRawBufferPointer(
                        rebasing: raw[(offset + header)..<min(count, offset + header + length)])
                    let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                    offset += header + length
                    guard let event = translate(wd: wd, mask: mask, name: name) else { continue }
                    events.append(event)
                    // A rename inside the watched directories comes as IN_MOVED_FROM then
                    // IN_MOVED_TO with the same cookie (other events may come between, or
                    // a read may end between them): the move is reported as well.
                    guard cookie != 0, case .entryChanged(let directory, let name) = event else { continue }
                    if mask & UInt32(IN_MOVED_FROM) != 0 {
                        if recentMoves.count >= 64 { recentMoves.removeFirst() }
                        recentMoves.append((cookie, PathPatterns.join(directory, name)))
                    } else if mask & UInt32(IN_MOVED_TO) != 0,
                        let index = recentMoves.firstIndex(where: { $0.cookie == cookie })
                    {
                        events.append(.moved(from: recentMoves[index].path, to: PathPatterns.join(directory, name)))
                        recentMoves.remove(at: index)
                    }
                }
            }
        }
        return events
    }

    private func translate(wd: Int32, mask: UInt32, name: String) -> WatchEvent? {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            return .rescan(reason: "inotify event queue overflowed")
        }
        if mask & UInt32(IN_IGNORED) != 0 {
            if let directory = directories.removeValue(forKey: wd), descriptors[directory] == wd {
                descriptors[directory] = nil
            }
            return nil
        }
        guard let directory = directories[wd] else { return nil }
        if mask & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)) != 0 {
            return .rescan(reason: "watched directory \(directory) was moved or deleted")
        }
        if mask & UInt32(IN_ISDIR) != 0 {
            return .rescan(reason: "directory \(name) changed in \(directory)")
        }
        if mask & UInt32(IN_MODIFY) != 0 {
            return .modified(directory: directory, name: name)
        }
        return .entryChanged(directory: directory, name: name)
    }
}
