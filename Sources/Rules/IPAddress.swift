/// An IPv4 or IPv6 address as 128 bits, parsed from its text form, for `cidr` matching.
struct IPAddress: Sendable, Equatable {
    enum Family: Sendable { case v4, v6 }

    let family: Family
    /// The address bits; an IPv4 address uses the low 32 bits.
    let high: UInt64
    let low: UInt64

    var bitCount: Int { family == .v4 ? 32 : 128 }

    /// Parses dotted-quad IPv4 (`10.0.0.1`) or RFC 4291 IPv6 text (`2001:db8::1`,
    /// `::ffff:10.0.0.1`); nil for anything else.
    init?(_ text: some Collection<UInt8>) {
        let bytes = Array(text)
        if bytes.contains(UInt8(ascii: ":")) {
            guard let (high, low) = Self.parseV6(bytes) else { return nil }
            self.family = .v6
            self.high = high
            self.low = low
        } else {
            guard let v4 = Self.parseV4(bytes[...]) else { return nil }
            self.family = .v4
            self.high = 0
            self.low = UInt64(v4)
        }
    }

    private init(family: Family, high: UInt64, low: UInt64) {
        self.family = family
        self.high = high
        self.low = low
    }

    private static func parseV4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var i = bytes.startIndex
        while true {
            let start = i
            var part: UInt32 = 0
            while i < bytes.endIndex, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                part = part * 10 + UInt32(bytes[i] - UInt8(ascii: "0"))
                i += 1
                if i - start > 3 { return nil }
            }
            // No empty parts and no leading zeros (they would read as octal elsewhere).
            guard i > start, part <= 255, !(i - start > 1 && bytes[start] == UInt8(ascii: "0")) else { return nil }
            value = value << 8 | part
            parts += 1
            if parts == 4 { return i == bytes.endIndex ? value : nil }
            guard i < bytes.endIndex, bytes[i] == UInt8(ascii: ".") else { return nil }
            i += 1
        }
    }

    private static func parseV6(_ bytes: [UInt8]) -> (UInt64, UInt64)? {
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var i = 0
        if bytes.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            sawGap = true
            i = 2
        } else if bytes.first == UInt8(ascii: ":") {
            return nil
        }
        while i < bytes.count {
            let start = i
            var group: UInt32 = 0
            while i < bytes.count, let h = hexValue(bytes[i]) {
                group = group << 4 | UInt32(h)
                i += 1
                if i - start > 4 { return nil }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                // An embedded IPv4 address ends the text.
                guard let v4 = parseV4(bytes[start...]) else { return nil }
                let groups = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                if sawGap { tail += groups } else { head += groups }
                i = bytes.count
                break
            }
            guard i > start else { return nil }
            if sawGap { tail.append(UInt16(group)) } else { head.append(UInt16(group)) }
            if i == bytes.count { break }
            guard bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: ":") {
                guard !sawGap else { return nil }
                sawGap = true
                i += 1
            } else if i == bytes.count {
                return nil
            }
        }
        let total = head.count + tail.count
        if sawGap {
            guard total <= 7 else { return nil }
        } else {
            guard total == 8 else { return nil }
        }
        let groups = head + [UInt16](repeating: 0, count: 8 - total) + tail
        var high: UInt64 = 0
        var low: UInt64 = 0
        for k in 0..<4 { high = high << 16 | UInt64(groups[k]) }
        for k in 4..<8 { low = low << 16 | UInt64(groups[k]) }
        return (high, low)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// This address with all but the first `prefix` bits cleared.
    func masked(to prefix: Int) -> IPAddress {
        let shift = bitCount - prefix
        if family == .v4 {
            let mask: UInt64 = prefix == 0 ? 0 : (0xFFFF_FFFF << UInt64(shift)) & 0xFFFF_FFFF
            return IPAddress(family: .v4, high: 0, low: low & mask)
        }
        let highMask: UInt64 = prefix >= 64 ? .max : (prefix == 0 ? 0 : .max << UInt64(64 - prefix))
        let lowMask: UInt64 = prefix <= 64 ? 0 : (prefix == 128 ? .max : .max << UInt64(128 - prefix))
        return IPAddress(family: .v6, high: high & highMask, low: low & lowMask)
    }
}

/// An IP network written as `address/prefix-length` (`10.0.0.0/24`, `2001:db8::/32`).
/// Host bits set in the address are ignored, as a network is meant.
struct CIDRBlock: Sendable, Equatable {
    let network: IPAddress
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(Array(parts[0].utf8)),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let prefix = Int(parts[1]),
            prefix >= 0, prefix <= address.bitCount
        else { return nil }
        self.network = address.masked(to: prefix)
        self.prefix = prefix
    }

    func contains(_ address: IPAddress) -> Bool {
        address.family == network.family && address.masked(to: prefix) == network
    }
}
