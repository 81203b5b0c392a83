import LKEvent
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Random UUID v4s for event ids and default partition keys. The bytes come from the
/// kernel's random source like `SystemRandomNumberGenerator`'s, but fetched 4 KiB at a
/// time: one `getrandom` call per 256 UUIDs instead of two per UUID, which otherwise
/// costs more than all the rest of mapping a line. Each rule set has a source of its own,
/// so that rule sets mapping on different cores do not take turns on one lock.
final class EventIDs: Sendable {
    private let pool = Mutex(RandomPool())

    /// A fresh id.
    func make() -> String {
        pool.withLock { UUIDv4.make(using: &$0) }
    }

    /// A fresh id and a fresh, different, partition key.
    func makePair() -> (id: String, key: String) {
        pool.withLock { (UUIDv4.make(using: &$0), UUIDv4.make(using: &$0)) }
    }
}

/// Random 64-bit words from a buffer refilled from the kernel's random source.
struct RandomPool: RandomNumberGenerator {
    private var words = [UInt64](repeating: 0, count: 512)
    private var position = 512

    mutating func next() -> UInt64 {
        if position == words.count { refill() }
        defer { position += 1 }
        return words[position]
    }

    private mutating func refill() {
        // glibc's arc4random_buf fills the whole buffer from the kernel's getrandom.
        words.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { arc4random_buf(base, buffer.count) }
        }
        position = 0
    }
}
