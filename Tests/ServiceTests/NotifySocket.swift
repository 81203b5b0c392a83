import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real `NOTIFY_SOCKET` for tests: a Unix datagram socket bound to a fresh path (or an
/// abstract name), read by a thread of its own that records each message with the
/// monotonic time it arrived.
final class NotifySocket: Sendable {
    struct Message: Sendable {
        let text: String
        let at: ContinuousClock.Instant
    }

    /// What to put in `NOTIFY_SOCKET`.
    let address: String
    private let receiver: Receiver

    init(abstract: Bool = false) throws {
        let name = "lk-notify-\(getpid())-\(UUID().uuidString.prefix(8))"
        let path = abstract ? "@" + name : NSTemporaryDirectory() + name + ".sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.address = path
        let receiver = Receiver(fd: fd)
        self.receiver = receiver
        Thread { receiver.run() }.start()
    }

    deinit {
        receiver.stop()
        if !address.hasPrefix("@") { unlink(address) }
    }

    var messages: [Message] { receiver.received.withLock { $0 } }

    /// The messages that contain `assignment` as one of their lines.
    func messages(containing assignment: String) -> [Message] {
        messages.filter { $0.text.split(separator: "\n").contains { $0 == assignment } }
    }

    /// Waits (bounded) until `condition` holds on the messages received so far.
    func wait(
        for timeout: Duration = .seconds(5), until condition: ([Message]) -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(messages) { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return condition(messages)
    }

    /// The thread's side: reads datagrams until stopped, then closes the socket.
    private final class Receiver: Sendable {
        let fd: Int32
        let received = Mutex<[Message]>([])
        private let stopped = Atomic(false)
        private let finished = Atomic(false)

        init(fd: Int32) {
            self.fd = fd
        }

        func run() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !stopped.load(ordering: .relaxed) {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    let message = Message(text: String(decoding: buffer[0..<n], as: UTF8.self), at: .now)
                    received.withLock { $0.append(message) }
                }
            }
            close(fd)
            finished.store(true, ordering: .releasing)
        }

        /// Stops the thread and waits (the receive timeout bounds it) until the socket is closed.
        func stop() {
            stopped.store(true, ordering: .relaxed)
            while !finished.load(ordering: .acquiring) { usleep(1_000) }
        }
    }
}
