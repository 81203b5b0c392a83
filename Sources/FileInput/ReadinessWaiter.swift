import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Waits for one file descriptor (the inotify descriptor) to become readable on a
/// dedicated thread, so that Swift's cooperative threads never block in poll(2).
///
/// The waiter owns the descriptor it waits on and closes it (and its pipe) when it is
/// released, which is after its thread has ended: no descriptor number is closed while
/// anything could still use it. A wait is
/// bridged to async code through a continuation; cancelling the waiting task writes to
/// a pipe that the thread polls as well, so the wait ends at once.
final class ReadinessWaiter: Sendable {
    private struct Request {
        var timeoutMilliseconds: Int32
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var pending: Request?
        var shutdown = false
    }

    private let fd: Int32
    /// The pipe that wakes the thread: it polls `wakeRead`, `wake()` writes `wakeWrite`.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let state = Mutex(State())
    private let requests = DispatchSemaphore(value: 0)

    /// Takes ownership of `fd`. Fails only if no pipe can be made.
    init(fd: Int32) throws(WatcherError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw WatcherError(operation: "pipe", errno: errno) }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        self.fd = fd
        self.wakeRead = ends[0]
        self.wakeWrite = ends[1]
        let thread = Thread { [self] in self.serve() }
        thread.name = "lk-file-watch"
        thread.start()
    }

    /// Returns when the descriptor is readable, `timeout` has passed, or the calling task
    /// is cancelled, whichever comes first.
    func waitReadable(timeout: Duration) async {
        let milliseconds = Int32(clamping: max(0, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000 + 1))
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let accepted = state.withLock { state -> Bool in
                    guard !state.shutdown else { return false }
                    state.pending = Request(timeoutMilliseconds: milliseconds, continuation: continuation)
                    return true
                }
                if accepted {
                    requests.signal()
                } else {
                    continuation.resume()
                }
            }
        } onCancel: {
            wake()
        }
    }

    deinit {
        Glibc.close(fd)
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// Ends the thread (after any wait in progress); the descriptors are closed when the
    /// waiter is released.
    func shutdown() {
        state.withLock { $0.shutdown = true }
        requests.signal()
        wake()
    }

    private func wake() {
        var one: UInt8 = 1
        _ = Glibc.write(wakeWrite, &one, 1)
    }

    private func serve() {
        while true {
            requests.wait()
            let request = state.withLock { state -> Request? in
                defer { state.pending = nil }
                return state.pending
            }
            guard let request else {
                if state.withLock({ $0.shutdown }) { break }
                continue
            }
            var fds = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            _ = poll(&fds, 2, request.timeoutMilliseconds)
            if fds[1].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                while Glibc.read(wakeRead, &drain, drain.count) > 0 {}
            }
            request.continuation.resume()
            if state.withLock({ $0.shutdown }) { break }
        }
        state.withLock { state in
            state.pending?.continuation.resume()
            state.pending = nil
        }
    }
}

/// A watcher that cannot be set up, with the call that failed.
struct WatcherError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32

    init(operation: String, errno code: Int32) {
        self.operation = operation
        self.code = code
    }

    var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
