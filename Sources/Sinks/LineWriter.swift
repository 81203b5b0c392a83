import Dispatch
import Foundation
import Synchronization

/// Appends batches of records to a file descriptor, one record per line, on a serial
/// queue of its own so that blocking writes and fsyncs never hold a thread of Swift's
/// cooperative pool. A batch is one write; if it fails part way the file is cut back to
/// where the batch started, so a retried batch never leaves a broken line behind.
final class LineWriter: Sendable {
    let label: String
    let syncToDisk: Bool
    let closeOnShutdown: Bool
    private let queue: DispatchQueue
    /// The descriptor; nil once closed. Only used on `queue`; the mutex lets the compiler
    /// see that too, so the class is Sendable without `@unchecked`.
    private let descriptor: Mutex<Int32?>

    init(descriptor: Int32, label: String, syncToDisk: Bool, closeOnShutdown: Bool) {
        self.label = label
        self.syncToDisk = syncToDisk
        self.closeOnShutdown = closeOnShutdown
        self.queue = DispatchQueue(label: "lk-forwarder.sink.\(label)")
        self.descriptor = Mutex(descriptor)
    }

    /// Writes every record's data followed by a newline; returns once written (and, with
    /// `syncToDisk`, fsync'd).
    func write(_ records: [SinkRecord]) async throws(SinkError) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(records.reduce(0) { $0 + $1.data.count + 1 })
        for record in records {
            buffer.append(contentsOf: record.data)
            buffer.append(UInt8(ascii: "\n"))
        }
        let payload = buffer
        let failure: SinkError? = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.writeNow(payload))
            }
        }
        if let failure { throw failure }
    }

    private func writeNow(_ payload: [UInt8]) -> SinkError? {
        guard let fd = descriptor.withLock({ $0 }) else {
            return SinkError(kind: .fatal, code: "SinkClosed", message: "the \(label) sink is shut down")
        }
        let start = syncToDisk ? lseek(fd, 0, SEEK_END) : -1
        var written = 0
        let error: Int32? = payload.withUnsafeBytes { bytes -> Int32? in
            guard let base = bytes.baseAddress else { return nil }
            while written < bytes.count {
                let result = Foundation.write(fd, base + written, bytes.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += result
            }
            return nil
        }
        if let error {
            if start >= 0, written > 0 { _ = ftruncate(fd, start) }
            return Self.failure("writing to", label, error)
        }
        if syncToDisk, fsync(fd) != 0 {
            let error = errno
            if start >= 0 { _ = ftruncate(fd, start) }
            return Self.failure("syncing", label, error)
        }
        return nil
    }

    /// ENOSPC, EDQUOT and EIO may clear (space freed, device back): retryable. Anything
    /// else (EBADF, EPIPE) will not.
    static func failure(_ action: String, _ label: String, _ error: Int32) -> SinkError {
        let reason = String(cString: strerror(error))
        let passing = error == ENOSPC || error == EDQUOT || error == EIO || error == EAGAIN
        return SinkError(kind: passing ? .retryable : .fatal, code: "WriteFailed", message: "\(action) \(label): \(reason)")
    }

    /// Closes the descriptor (unless it is one the process keeps, like stdout).
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                let fd = self.descriptor.withLock { value -> Int32? in
                    defer { value = nil }
                    return value
                }
                if let fd, self.closeOnShutdown { _ = Foundation.close(fd) }
                continuation.resume()
            }
        }
    }
}
