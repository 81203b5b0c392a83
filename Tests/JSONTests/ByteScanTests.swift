import Testing

@testable import JSON

/// The eight-bytes-at-a-time scan must find exactly the first byte a byte-by-byte scan
/// finds, wherever it is and whatever follows it (borrows mark later bytes wrongly).
@Suite struct ByteScanTests {
    static func naive(_ bytes: [UInt8], orNonASCII: Bool) -> Int {
        bytes.firstIndex { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 || (orNonASCII && $0 > 0x7F) } ?? 8
    }

    static func scan(_ bytes: [UInt8], orNonASCII: Bool) -> Int {
        bytes.withUnsafeBytes { ByteScan.firstSpecialByte(at: $0.baseAddress!, orNonASCII: orNonASCII) }
    }

    @Test func everyByteAtEveryPosition() {
        for position in 0..<8 {
            for value in 0...255 {
                for background: UInt8 in [UInt8(ascii: "a"), 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F] {
                    var bytes = [UInt8](repeating: background, count: 8)
                    bytes[position] = UInt8(value)
                    for nonASCII in [false, true] {
                        #expect(Self.scan(bytes, orNonASCII: nonASCII) == Self.naive(bytes, orNonASCII: nonASCII))
                    }
                }
            }
        }
    }

    @Test func randomWords() {
        var generator = SystemRandomNumberGenerator()
        // Bytes drawn mostly near the special ones, so that borrows chain.
        let pool: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xFF, 0x61]
        for _ in 0..<200_000 {
            let bytes = (0..<8).map { _ in pool[Int(generator.next() % UInt64(pool.count))] }
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
