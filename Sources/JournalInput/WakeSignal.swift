#if canImport(Glibc)
import Glibc
#endif

/// A pipe that another task writes to so that the journal thread, blocked in `poll`, wakes
/// up at once: it is how cancellation reaches a reader waiting for new entries. Once
/// signalled it stays readable.
final class WakeSignal: Sendable {
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    init() throws(JournalError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw JournalError(operation: "create the wake-up pipe", code: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }

    /// Wakes the waiting thread up (now, or at its next wait).
    func signal() {
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }
}
