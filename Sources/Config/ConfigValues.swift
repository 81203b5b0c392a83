#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The value syntaxes of the configuration that YAML does not have: durations (`200ms`,
/// `5s`, `1m30s`), byte sizes (`5MiB`), and YAML numbers rewritten as JSON numbers.
enum ConfigValues {
    /// Parses a duration: one or more `<number><unit>` parts, units `ms`, `s`, `m`, `h`
    /// (`1m30s`, `1.5s`, `200ms`). A bare number is refused: the unit must be said.
    static func duration(_ text: String) -> Duration? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var i = 0
        var totalMillis: Double = 0
        while i < bytes.count {
            let numberStart = i
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) || bytes[i] == UInt8(ascii: ".") {
                i += 1
            }
            guard i > numberStart, let number = Double(String(decoding: bytes[numberStart..<i], as: UTF8.self)) else {
                return nil
            }
            let unitStart = i
            while i < bytes.count, bytes[i] >= UInt8(ascii: "a"), bytes[i] <= UInt8(ascii: "z") { i += 1 }
            let factor: Double
            switch String(decoding: bytes[unitStart..<i], as: UTF8.self) {
            case "ms": factor = 1
            case "s": factor = 1000
            case "m": factor = 60_000
            case "h": factor = 3_600_000
            default: return nil
            }
            totalMillis += number * factor
        }
        guard totalMillis.isFinite, totalMillis < 1e12 else { return nil }
        return .milliseconds(Int64(totalMillis.rounded()))
    }

    /// A duration as a person writes it: `200ms`, `5s`, `2m`, `1h`.
    static func describe(_ duration: Duration) -> String {
        let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if millis % 3_600_000 == 0, millis > 0 { return "\(millis / 3_600_000)h" }
        if millis % 60_000 == 0, millis > 0 { return "\(millis / 60_000)m" }
        if millis % 1000 == 0 { return "\(millis / 1000)s" }
        return "\(millis)ms"
    }

    /// Parses a byte size: a whole number, optionally followed by `B`, `KB`, `MB`, `GB`
    /// (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024).
    static func byteSize(_ text: String) -> Int? {
        let trimmed = text.filter { $0 != " " }
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let factor: Int
        switch trimmed.dropFirst(digits.count) {
        case "", "B": factor = 1
        case "KB": factor = 1000
        case "MB": factor = 1_000_000
        case "GB": factor = 1_000_000_000
        case "KiB": factor = 1024
        case "MiB": factor = 1_048_576
        case "GiB": factor = 1_073_741_824
        default: return nil
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: factor)
        return overflow ? nil : value
    }

    /// The JSON text of a YAML 1.2 core-schema number (`+5` → `5`, `.5` → `0.5`, `0x1F` →
    /// `31`, `007` → `7`); nil when `text` is not a number.
    static func jsonNumber(fromYAML text: String) -> String? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            let body = String(decoding: bytes[2...], as: UTF8.self)
            if bytes[1] == UInt8(ascii: "x"), let v = UInt64(body, radix: 16) { return String(v) }
            if bytes[1] == UInt8(ascii: "o"), let v = UInt64(body, radix: 8) { return String(v) }
            if bytes[1] == UInt8(ascii: "x") || bytes[1] == UInt8(ascii: "o") { return nil }
        }
        var i = 0
        var negative = false
        if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        let intStart = i
        while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        var integer = Array(bytes[intStart..<i])
        var fraction: [UInt8] = []
        var sawPoint = false
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            sawPoint = true
            i += 1
            let fracStart = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            fraction = Array(bytes[fracStart..<i])
        }
        guard !integer.isEmpty || !fraction.isEmpty else { return nil }
        if sawPoint, integer.isEmpty, fraction.isEmpty { return nil }
        var exponent: [UInt8] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            exponent.append(UInt8(ascii: "e"))
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                if bytes[i] == UInt8(ascii: "-") { exponent.append(bytes[i]) }
                i += 1
            }
            let expStart = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            guard i > expStart else { return nil }
            exponent.append(contentsOf: bytes[expStart..<i])
        }
        guard i == bytes.count else { return nil }
        while integer.count > 1, integer[0] == UInt8(ascii: "0") { integer.removeFirst() }
        if integer.isEmpty { integer = [UInt8(ascii: "0")] }
        var out: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        out.append(contentsOf: integer)
        if !fraction.isEmpty {
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: fraction)
        }
        out.append(contentsOf: exponent)
        return String(decoding: out, as: UTF8.self)
    }

    /// This machine's host name, for the default producer id.
    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
