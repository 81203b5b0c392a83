/// The eight-bytes-at-a-time test of the parser's and the writer's string scans.
enum ByteScan {
    /// Whether one of the eight bytes in `word` is `"`, `\\` or below 0x20 — or, with
    /// `orNonASCII`, above 0x7F (the parser validates UTF-8 byte by byte; the writer copies
    /// it as it is).
    @inline(__always)
    static func hasSpecialByte(_ word: UInt64, orNonASCII: Bool) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let quotes = (quote &- ones) & ~quote
        let backslashes = (backslash &- ones) & ~backslash
        let nonASCII = orNonASCII ? word : 0
        return (nonASCII | control | quotes | backslashes) & high != 0
    }
}
