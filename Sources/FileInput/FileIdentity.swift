import Checkpoints
#if canImport(Glibc)
import Glibc
#endif

/// How a file's content is recognised, and the small reads that need: the fingerprint
/// covers the first `prefixBytes` bytes (fewer if the file was shorter when it was
/// taken; `Checkpoint.fingerprintLength` says how many), and a checkpoint's `tailHash`
/// covers the `tailBytes` bytes just before its offset (all of them when the offset is
/// smaller). The window is wide enough to reach past the constant end many NDJSON lines
/// share (`..."level":"info"}`) into what differs from line to line.
enum FileIdentity {
    static let prefixBytes = 1024
    static let tailBytes = 256

    /// Up to `count` bytes at `offset`; fewer at the end of the file, nil on error.
    static func read(_ fd: Int32, count: Int, at offset: UInt64) -> [UInt8]? {
        guard count > 0 else { return [] }
        var result = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = result.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            done += n
        }
        result.removeLast(count - done)
        return result
    }

    /// The bytes a tail hash at `offset` covers.
    static func window(_ fd: Int32, before offset: UInt64) -> [UInt8]? {
        let count = Int(min(UInt64(tailBytes), offset))
        guard let bytes = read(fd, count: count, at: offset - UInt64(count)), bytes.count == count else { return nil }
        return bytes
    }

    static func fileSize(_ fd: Int32) -> UInt64? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return UInt64(info.st_size)
    }

    /// What a verified checkpoint gives back: the content's first bytes and the bytes just
    /// before the offset.
    struct Match {
        let prefix: [UInt8]
        let window: [UInt8]
        let offset: UInt64
    }

    /// Whether the open file still holds the content `checkpoint` was taken from, up to
    /// its offset: same first bytes, same bytes just before the offset.
    static func verify(_ checkpoint: Checkpoint, fd: Int32, size: UInt64, prefix: [UInt8]? = nil) -> Match? {
        guard let offset = checkpoint.offset, let fingerprint = checkpoint.fingerprint,
            let length = checkpoint.fingerprintLength, length > 0, length <= prefixBytes,
            size >= offset, size >= UInt64(length)
        else { return nil }
        let head: [UInt8]
        if let prefix, prefix.count >= length {
            head = Array(prefix[..<length])
        } else {
            guard let bytes = read(fd, count: length, at: 0), bytes.count == length else { return nil }
            head = bytes
        }
        guard StableHash.hash(head) == fingerprint else { return nil }
        guard let window = window(fd, before: offset) else { return nil }
        if offset > 0 {
            guard let tail = checkpoint.tailHash, StableHash.hash(window) == tail else { return nil }
        }
        return Match(prefix: head, window: window, offset: offset)
    }
}
