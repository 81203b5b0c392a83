/// Immutable bytes at a stable address (pattern keys and values), so that the matcher can
/// compare them with a line's bytes without closures or copies.
final class StableBytes: @unchecked Sendable {
    // Safe to share: the buffer is written once in `init`, never mutated, and freed in
    // `deinit` when no one can read it any more.
    let buffer: UnsafeBufferPointer<UInt8>

    init(_ bytes: [UInt8]) {
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = storage.initialize(from: bytes)
        buffer = UnsafeBufferPointer(rebasing: storage[0..<bytes.count])
    }

    convenience init(_ text: String) { self.init(Array(text.utf8)) }

    deinit {
        if let base = buffer.baseAddress { UnsafeMutablePointer(mutating: base).deallocate() }
    }
}
