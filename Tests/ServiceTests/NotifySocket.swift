import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real `NOTIFY_SOCKET` for tests: a Unix datagram socket bound to a fresh path (or an
/// abstract name), read by a thread of its own that records each message with the time the
/// kernel queued it (SO_TIMESTAMPNS), so a busy machine delaying the reader does not move
/// the times a test compares.
final class NotifySocket: Sendable {
    struct Message: Sendable {
        let text: String
        /// When the datagram arrived, on the `NotifySocket.now()` clock.
        let at: Duration
    }

    /// The clock `Message.at` is on (CLOCK_REALTIME, as the kernel stamps datagrams).
    static func now() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
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
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, socklen_t(MemoryLayout<Int32>.size))
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
            var control = [UInt8](repeating: 0, count: 128)
            while !stopped.load(ordering: .relaxed) {
                var controlLength = 0
                let n = buffer.withUnsafeMutableBytes { data in
                    control.withUnsafeMutableBytes { controlBytes in
                        var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                        return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                            var message = msghdr()
                            message.msg_iov = vectorPointer
                            message.msg_iovlen = 1
                            message.msg_control = controlBytes.baseAddress
                            message.msg_controllen = controlBytes.count
                            let received = recvmsg(fd, &message, 0)
                            controlLength = Int(message.msg_controllen)
                            return received
                        }
                    }
                }
                if n > 0 {
                    let at = Self.kernelTimestamp(control, length: controlLength) ?? NotifySocket.now()
                    let message = Message(text: String(decoding: buffer[0..<n], as: UTF8.self), at: at)
                    received.withLock { $0.append(message) }
                }
            }
            close(fd)
            finished.store(true, ordering: .releasing)
        }

        /// The SCM_TIMESTAMPNS value in a control buffer (cmsghdr, then its data aligned to 8).
        private static func kernelTimestamp(_ control: [UInt8], length: Int) -> Duration? {
            let headerSize = MemoryLayout<cmsghdr>.size
            var offset = 0
            return control.withUnsafeBytes { bytes in
                while offset + headerSize <= length {
                    let header = bytes.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self)
                    if header.cmsg_level == SOL_SOCKET, header.cmsg_type == SCM_TIMESTAMPNS,
                        offset + headerSize + MemoryLayout<timespec>.size <= length
                    {
                        let time = bytes.loadUnaligned(fromByteOffset: offset + headerSize, as: timespec.self)
                        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
                    }
                    guard header.cmsg_len > 0 else { return nil }
                    offset += (Int(header.cmsg_len) + 7) & ~7
                }
                return nil
            }
        }

        /// Stops the thread and waits (the receive timeout bounds it) until the socket is closed.
        func stop() {
            stopped.store(true, ordering: .relaxed)
            while !finished.load(ordering: .acquiring) { usleep(1_000) }
        }
    }
}
