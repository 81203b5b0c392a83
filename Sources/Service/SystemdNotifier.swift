import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd how the service is doing, with the `sd_notify` protocol: one datagram of
/// newline-separated `KEY=value` assignments sent to the Unix socket named in
/// `NOTIFY_SOCKET` (a path, or an abstract socket written `@name`). When `NOTIFY_SOCKET` is
/// unset (not run by systemd, or `Type=` is not `notify`) every call does nothing.
public struct SystemdNotifier: Sendable {
    /// The socket messages go to; nil when notifications are off.
    public let socketPath: String?
    private let logger: Logger

    /// Reads `NOTIFY_SOCKET` from `environment`.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "lk-forwarder.systemd")
    ) {
        let path = environment["NOTIFY_SOCKET"] ?? ""
        self.socketPath = path.isEmpty ? nil : path
        self.logger = logger
    }

    /// Whether messages are sent anywhere.
    public var isEnabled: Bool { socketPath != nil }

    /// `READY=1`: start-up is done (every input is open); with a one-line status.
    public func ready(status: String? = nil) {
        notify(["READY=1"] + Self.statusLine(status))
    }

    /// `STATUS=`: a one-line summary `systemctl status` shows.
    public func status(_ text: String) {
        notify(Self.statusLine(text))
    }

    /// `RELOADING=1` with `MONOTONIC_USEC`: a configuration reload has begun. Send `ready`
    /// once it is over, whether the new configuration was taken or refused.
    public func reloading(status: String? = nil) {
        notify(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"] + Self.statusLine(status))
    }

    /// `STOPPING=1`: shutdown has begun.
    public func stopping(status: String? = nil) {
        notify(["STOPPING=1"] + Self.statusLine(status))
    }

    /// `WATCHDOG=1`: the service is alive; see `WatchdogService` for who may say so.
    public func watchdog() {
        notify(["WATCHDOG=1"])
    }

    /// Sends the assignments, logging (not throwing) a failure: a notification that cannot
    /// be delivered must not stop the agent, and systemd will act on the missing message.
    public func notify(_ assignments: [String]) {
        do {
            try send(assignments.joined(separator: "\n"))
        } catch {
            logger.warning("cannot notify systemd", metadata: ["error": "\(error)"])
        }
    }

    /// Sends one raw message. Does nothing when notifications are off.
    public func send(_ message: String) throws(SystemdNotifyError) {
        guard let socketPath else { return }
        let bytes = Array(message.utf8)
        var address = try Self.address(socketPath)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemdNotifyError(socket: socketPath, errno: errno) }
        defer { close(fd) }
        let sent = withUnsafePointer(to: &address.storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                bytes.withUnsafeBytes { raw in
                    sendto(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL), sockaddrPointer, address.length)
                }
            }
        }
        guard sent >= 0 else { throw SystemdNotifyError(socket: socketPath, errno: errno) }
        guard sent == bytes.count else {
            throw SystemdNotifyError(socket: socketPath, reason: "short send: \(sent) of \(bytes.count) bytes")
        }
    }

    /// The `sockaddr_un` for a socket path; a leading `@` names an abstract socket, whose
    /// address starts with a NUL byte and has no terminator (its length counts).
    static func address(_ path: String) throws(SystemdNotifyError) -> (storage: sockaddr_un, length: socklen_t) {
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        guard abstract || bytes.first == UInt8(ascii: "/") else {
            throw SystemdNotifyError(socket: path, reason: "not an absolute path or an abstract socket name (@...)")
        }
        if abstract { bytes[0] = 0 }
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        // A path needs room for its terminating NUL; an abstract name does not have one.
        guard bytes.count + (abstract ? 0 : 1) <= capacity else {
            throw SystemdNotifyError(socket: path, reason: "socket path longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? MemoryLayout<sa_family_t>.size
        let length = pathOffset + bytes.count + (abstract ? 0 : 1)
        return (storage, socklen_t(length))
    }

    private static func statusLine(_ text: String?) -> [String] {
        guard let text else { return [] }
        // The protocol is line based: a status is one line.
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return ["STATUS=\(line)"]
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}

/// A notification that could not be sent, with the socket it was meant for.
public struct SystemdNotifyError: Error, Sendable, CustomStringConvertible {
    public let socket: String
    public let reason: String

    public init(socket: String, reason: String) {
        self.socket = socket
        self.reason = reason
    }

    init(socket: String, errno code: Int32) {
        self.init(socket: socket, reason: String(cString: strerror(code)))
    }

    public var description: String { "NOTIFY_SOCKET \(socket): \(reason)" }
}
