/// Random (version 4) UUIDs in the lower-case form lk events use.
public enum UUIDv4 {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A fresh random UUID v4: `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return make(using: &generator)
    }

    /// A UUID v4 from the given random source.
    public static func make(using generator: inout some RandomNumberGenerator) -> String {
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            func put(_ value: UInt64, nibbles: Int) {
                var shift = (nibbles - 1) * 4
                for _ in 0..<nibbles {
                    let nibble = UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0xF
                    buffer[position] = nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &- 10 &+ nibble
                    position += 1
                    shift -= 4
                }
            }
            put(high >> 32, nibbles: 8)
            buffer[position] = UInt8(ascii: "-"); position += 1
            put(high >> 16, nibbles: 4)
            buffer[position] = UInt8(ascii: "-"); position += 1
            put(high, nibbles: 4)
            buffer[position] = UInt8(ascii: "-"); position += 1
            put(low >> 48, nibbles: 4)
            buffer[position] = UInt8(ascii: "-"); position += 1
            put(low, nibbles: 12)
            return position
        }
    }

    /// Whether `text` is a lower-case UUID v4.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (i, c) in bytes.enumerated() {
            switch i {
            case 8, 13, 18, 23: if c != UInt8(ascii: "-") { return false }
            case 14: if c != UInt8(ascii: "4") { return false }
            case 19: if !"89ab".utf8.contains(c) { return false }
            default: if !hex.contains(c) { return false }
            }
        }
        return true
    }
}
