#if canImport(Glibc)
import Glibc
#endif

/// The one read buffer a reader uses for every file in turn, so that memory does not
/// grow with the number of files: a file's partial line is kept in the file's own
/// `carry` between turns. It grows for a long line (up to `max_line_bytes` plus a chunk)
/// and shrinks back afterwards.
final class ReadBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private let standardCapacity: Int

    init(capacity: Int) {
        standardCapacity = capacity
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        base.deallocate()
    }

    /// Makes room for `count` bytes, keeping the first `keeping` bytes.
    func reserve(_ count: Int, keeping: Int) {
        guard count > capacity else { return }
        let grown = max(count, capacity * 2)
        let replacement = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        replacement.copyMemory(from: base, byteCount: keeping)
        base.deallocate()
        base = replacement
        capacity = grown
    }

    /// Returns to the standard size once a long line is done with.
    func shrinkIfLarge() {
        guard capacity > standardCapacity * 4 else { return }
        base.deallocate()
        base = UnsafeMutableRawPointer.allocate(byteCount: standardCapacity, alignment: 16)
        capacity = standardCapacity
    }

    /// Moves `[from, end)` to the start.
    func discard(upTo from: Int, end: Int) {
        guard from > 0 else { return }
        memmove(base, base + from, end - from)
    }

    func load(_ bytes: [UInt8]) {
        reserve(bytes.count, keeping: 0)
        bytes.withUnsafeBytes { raw in
            if let source = raw.baseAddress { base.copyMemory(from: source, byteCount: raw.count) }
        }
    }

    func bytes(_ range: Range<Int>) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    func raw(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }
}
