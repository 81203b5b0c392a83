#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Equality of byte runs as short as keys and field names are, without a call into libc:
/// two overlapping loads of the widest word that fits (so every byte is compared, none
/// read outside either run) up to 16 bytes; `memcmp` beyond.
public enum ByteCompare {
    @inlinable @inline(__always)
    public static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        switch count {
        case 0:
            return true
        case 1:
            return a.load(as: UInt8.self) == b.load(as: UInt8.self)
        case 2...3:
            return same(UInt16.self, a, b, 0) && same(UInt16.self, a, b, count - 2)
        case 4...7:
            return same(UInt32.self, a, b, 0) && same(UInt32.self, a, b, count - 4)
        case 8...16:
            return same(UInt64.self, a, b, 0) && same(UInt64.self, a, b, count - 8)
        default:
            return memcmp(a, b, count) == 0
        }
    }

    @inlinable @inline(__always)
    static func same<Word: FixedWidthInteger>(_: Word.Type, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ offset: Int) -> Bool {
        a.loadUnaligned(fromByteOffset: offset, as: Word.self) == b.loadUnaligned(fromByteOffset: offset, as: Word.self)
    }
}
