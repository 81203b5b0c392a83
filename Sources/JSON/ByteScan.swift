/// The eight-bytes-at-a-time scan of the parser's and the writer's strings: where the next
/// byte is that a string cannot hold as it is.
enum ByteScan {
    /// The position (0-7) of the first of the eight bytes at `pointer` that is `"`, `\\` or
    /// below 0x20 — or, with `orNonASCII`, above 0x7F (the parser validates UTF-8 byte by
    /// byte; the writer copies it as it is) — or 8 when there is none.
    ///
    /// Each test marks a byte by its high bit. A subtraction's borrow can mark bytes after
    /// a marked one wrongly, never before it, so the lowest mark is exact.
    @inline(__always)
    static func firstSpecialByte(at pointer: UnsafeRawPointer, orNonASCII: Bool) -> Int {
        let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let quotes = (quote &- ones) & ~quote
        let backslashes = (backslash &- ones) & ~backslash
        let nonASCII = orNonASCII ? word : 0
        let marks = (nonASCII | control | quotes | backslashes) & high
        return marks.trailingZeroBitCount >> 3
    }
}
