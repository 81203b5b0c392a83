/// The word-at-a-time scan of the parser's and the writer's strings: where the next byte
/// is that a string cannot hold as it is.
enum ByteScan {
    /// How many bytes from `pointer` on (of `count`) need no attention: none of them is
    /// `"`, `\\` or below 0x20 — or, with `orNonASCII`, above 0x7F (the parser validates
    /// UTF-8 byte by byte; the writer copies it as it is). When it returns `n`, byte `n`
    /// is such a byte, or `n == count`.
    ///
    /// The first word is looked at alone (most keys and values in a log line end within
    /// it); then long runs (base64, messages) go 32 bytes a step, shorter ones eight; the
    /// last few bytes in one more word that ends at `count` (a 36-byte UUID's last four
    /// bytes in one step, not four), and a text shorter than a word byte by byte.
    @inline(__always)
    static func plainPrefix(_ pointer: UnsafeRawPointer, count: Int, orNonASCII: Bool) -> Int {
        var n = 0
        if count >= 8 {
            let m = marks(pointer, orNonASCII: orNonASCII)
            if m != 0 { return m.trailingZeroBitCount >> 3 }
            n = 8
        }
        while n + 32 <= count {
            let m0 = marks(pointer + n, orNonASCII: orNonASCII)
            let m1 = marks(pointer + n + 8, orNonASCII: orNonASCII)
            let m2 = marks(pointer + n + 16, orNonASCII: orNonASCII)
            let m3 = marks(pointer + n + 24, orNonASCII: orNonASCII)
            if m0 | m1 | m2 | m3 != 0 {
                if m0 != 0 { return n + m0.trailingZeroBitCount >> 3 }
                if m1 != 0 { return n + 8 + m1.trailingZeroBitCount >> 3 }
                if m2 != 0 { return n + 16 + m2.trailingZeroBitCount >> 3 }
                return n + 24 + m3.trailingZeroBitCount >> 3
            }
            n += 32
        }
        while n + 8 <= count {
            let m = marks(pointer + n, orNonASCII: orNonASCII)
            if m != 0 { return n + m.trailingZeroBitCount >> 3 }
            n += 8
        }
        guard n < count else { return n }
        if count >= 8 {
            // The word ending at `count` overlaps bytes already found plain; those start no
            // borrow, so once they are shifted out the lowest mark left is exact.
            let scanned = 8 - (count - n)
            let m = marks(pointer + (count - 8), orNonASCII: orNonASCII) >> UInt64(8 * scanned)
            return m != 0 ? n + m.trailingZeroBitCount >> 3 : count
        }
        while n < count && !isSpecial(pointer.load(fromByteOffset: n, as: UInt8.self), orNonASCII: orNonASCII) {
            n += 1
        }
        return n
    }

    @inline(__always)
    private static func isSpecial(_ byte: UInt8, orNonASCII: Bool) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || (orNonASCII && byte > 0x7F)
    }

    /// The eight bytes at `pointer` with the high bit of each byte that needs attention set.
    /// A subtraction's borrow can mark bytes after a marked one wrongly, never before it,
    /// so the lowest mark is exact (and only it may be used).
    @inline(__always)
    private static func marks(_ pointer: UnsafeRawPointer, orNonASCII: Bool) -> UInt64 {
        let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let quotes = (quote &- ones) & ~quote
        let backslashes = (backslash &- ones) & ~backslash
        let nonASCII = orNonASCII ? word : 0
        return (nonASCII | control | quotes | backslashes) & high
    }
}
