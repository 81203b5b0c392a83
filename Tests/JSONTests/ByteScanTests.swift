import Testing

@testable import JSON

/// The word-at-a-time scan must stop exactly where a byte-by-byte scan stops, wherever
/// the byte is and whatever follows or precedes it (borrows mark later bytes wrongly; the
/// last word overlaps bytes already scanned).
@Suite struct ByteScanTests {
    static func isSpecial(_ byte: UInt8, orNonASCII: Bool) -> Bool {
        byte == 0x22 || byte == 0x5C || byte < 0x20 || (orNonASCII && byte > 0x7F)
    }

    /// What `plainPrefix` must answer: the first special byte, else the end.
    static func naive(_ bytes: [UInt8], orNonASCII: Bool) -> Int {
        bytes.firstIndex { isSpecial($0, orNonASCII: orNonASCII) } ?? bytes.count
    }

    static func scan(_ bytes: [UInt8], orNonASCII: Bool) -> Int {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            return ByteScan.plainPrefix(base, count: buffer.count, orNonASCII: orNonASCII)
        }
    }

    @Test func everyByteAtEveryPositionOfAStep() {
        for length in [1, 7, 8, 13, 32, 36, 40, 47] {
            for position in 0..<length {
                for value in 0...255 {
                    for background: UInt8 in [UInt8(ascii: "a"), 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F] {
                        var bytes = [UInt8](repeating: background, count: length)
                        bytes[position] = UInt8(value)
                        for nonASCII in [false, true] {
                            #expect(Self.scan(bytes, orNonASCII: nonASCII) == Self.naive(bytes, orNonASCII: nonASCII))
                        }
                    }
                }
            }
        }
    }

    @Test func randomBuffersOfEveryLength() {
        var generator = SystemRandomNumberGenerator()
        // Bytes drawn mostly near the special ones, so that borrows chain; plain runs of
        // every length in between.
        let pool: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xFF, 0x61]
        for _ in 0..<100_000 {
            let length = Int(generator.next() % 100)
            let plainRun = Int(generator.next() % UInt64(length + 1))
            let bytes = (0..<length).map { index in
                index < plainRun ? UInt8(ascii: "x") : pool[Int(generator.next() % UInt64(pool.count))]
            }
            for nonASCII in [false, true] {
                let found = Self.scan(bytes, orNonASCII: nonASCII)
                let expected = Self.naive(bytes, orNonASCII: nonASCII)
                if found != expected {
                    Issue.record("\(bytes) nonASCII \(nonASCII): \(found), expected \(expected)")
                    return
                }
            }
        }
    }
}

/// Short-run equality must agree with a byte-by-byte comparison for every length around
/// its word sizes, whichever byte differs.
@Suite struct ByteCompareTests {
    @Test func agreesWithBytewiseEqualityAtEveryLengthAndDifference() {
        for count in 0...40 {
            let base = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Self.equal(base, base))
            for position in 0..<count {
                for flip: UInt8 in [0x01, 0x80, 0xFF] {
                    var other = base
                    other[position] ^= flip
                    if Self.equal(base, other) { Issue.record("length \(count): a difference at \(position) passed") }
                }
            }
        }
    }

    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                guard let p = x.baseAddress, let q = y.baseAddress else { return a.count == b.count }
                return ByteCompare.equal(p, q, count: a.count)
            }
        }
    }
}
