/// A fast 64-bit hash of a byte range that is the same on every run and every machine,
/// used for file fingerprints and for the hash of the bytes just before a checkpoint's
/// offset. Not cryptographic: it only has to tell different file contents apart.
/// Words are read little-endian, so the value does not depend on the host's byte order.
enum StableHash {
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = 0x243F_6A88_85A3_08D3 ^ (UInt64(bytes.count) &* multiplier)
        var index = 0
        let count = bytes.count
        if count >= 32 {
            // Four independent lanes, so that the multiplications overlap.
            var lanes: (UInt64, UInt64, UInt64, UInt64) = (h, h ^ 0x1319_8A2E_0370_7344, h ^ 0xA409_3822_299F_31D0, h ^ 0x082E_FA98_EC4E_6C89)
            while index + 32 <= count {
                lanes.0 = mix(lanes.0 ^ word(bytes, index))
                lanes.1 = mix(lanes.1 ^ word(bytes, index + 8))
                lanes.2 = mix(lanes.2 ^ word(bytes, index + 16))
                lanes.3 = mix(lanes.3 ^ word(bytes, index + 24))
                index += 32
            }
            h = mix(mix(mix(lanes.0 ^ lanes.1.rotated(17)) ^ lanes.2.rotated(31)) ^ lanes.3.rotated(47))
        }
        while index + 8 <= count {
            h = mix(h ^ word(bytes, index))
            index += 8
        }
        if index < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while index < count {
                tail |= UInt64(bytes[index]) << shift
                shift += 8
                index += 1
            }
            h = mix(h ^ tail)
        }
        return finalize(h)
    }

    static func hash(_ bytes: some Collection<UInt8>) -> UInt64 {
        if let result = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { hash($0) }
    }

    @inline(__always)
    private static func word(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        let m = value &* multiplier
        return m ^ (m >> 29)
    }

    /// The avalanche step of MurmurHash3's fmix64.
    @inline(__always)
    private static func finalize(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotated(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
