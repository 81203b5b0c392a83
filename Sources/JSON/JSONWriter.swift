/// Writes JSON text exactly as JavaScript's `JSON.stringify` does (compact, non-ASCII
/// as UTF-8, control characters as `\u00xx`), so that what lk-forwarder writes cannot be
/// told apart from what lk-dispatch writes.
public enum JSONWriter {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `string` as a quoted, escaped JSON string.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        var s = string
        s.withUTF8 { appendString(utf8: $0, to: &out) }
    }

    /// Appends the text whose UTF-8 bytes are `bytes` (which must be valid UTF-8) as a
    /// quoted, escaped JSON string, without making a `String` of them first.
    public static func appendString(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        let start = out.count
        let length = quotedLength(utf8: bytes)
        out.append(contentsOf: repeatElement(0, count: length))
        out.withUnsafeMutableBufferPointer { _ = writeString(utf8: bytes, into: $0, at: start) }
    }

    /// How many bytes `string` takes as a quoted, escaped JSON string.
    public static func quotedLength(_ string: String) -> Int {
        var s = string
        return s.withUTF8 { quotedLength(utf8: $0) }
    }

    /// Writes `string` as a quoted, escaped JSON string at `position` of `out`, which must
    /// have room for `quotedLength(string)` bytes; returns the position after it.
    public static func writeString(_ string: String, into out: UnsafeMutableBufferPointer<UInt8>, at position: Int) -> Int {
        var s = string
        return s.withUTF8 { writeString(utf8: $0, into: out, at: position) }
    }

    /// How many bytes the UTF-8 text `bytes` takes as a quoted, escaped JSON string. Runs
    /// of bytes that need no escape are passed a word at a time.
    public static func quotedLength(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var length = bytes.count + 2
        var i = 0
        let count = bytes.count
        while i < count {
            if let base = bytes.baseAddress {
                i += ByteScan.plainPrefix(base + i, count: count - i, orNonASCII: false)
                guard i < count else { break }
            }
            length += escapedLength(bytes[i]) - 1
            i += 1
        }
        return length
    }

    /// Writes the UTF-8 text `bytes` (which must be valid UTF-8) as a quoted, escaped JSON
    /// string at `position` of `out`, which must have room for `quotedLength(utf8:)` bytes;
    /// returns the position after it. Runs of bytes that need no escape are copied whole.
    public static func writeString(
        utf8 bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>, at position: Int
    ) -> Int {
        var p = position
        out[p] = UInt8(ascii: "\"")
        p += 1
        var runStart = 0
        var i = 0
        let count = bytes.count
        func copyRun(to end: Int) {
            guard end > runStart, let source = bytes.baseAddress, let target = out.baseAddress else { return }
            (target + p).update(from: source + runStart, count: end - runStart)
            p += end - runStart
        }
        while i < count {
            if let base = bytes.baseAddress {
                i += ByteScan.plainPrefix(base + i, count: count - i, orNonASCII: false)
                guard i < count else { break }
            }
            // The scan stops only at a byte that needs an escape.
            let c = bytes[i]
            copyRun(to: i)
            runStart = i + 1
            i += 1
            out[p] = UInt8(ascii: "\\")
            switch c {
            case UInt8(ascii: "\""): out[p + 1] = UInt8(ascii: "\"")
            case UInt8(ascii: "\\"): out[p + 1] = UInt8(ascii: "\\")
            case 0x08: out[p + 1] = UInt8(ascii: "b")
            case 0x0C: out[p + 1] = UInt8(ascii: "f")
            case 0x0A: out[p + 1] = UInt8(ascii: "n")
            case 0x0D: out[p + 1] = UInt8(ascii: "r")
            case 0x09: out[p + 1] = UInt8(ascii: "t")
            default:
                out[p + 1] = UInt8(ascii: "u")
                out[p + 2] = UInt8(ascii: "0")
                out[p + 3] = UInt8(ascii: "0")
                out[p + 4] = hex[Int(c >> 4)]
                out[p + 5] = hex[Int(c & 0xF)]
            }
            p += escapedLength(c)
        }
        copyRun(to: count)
        out[p] = UInt8(ascii: "\"")
        return p + 1
    }

    /// How many bytes `c` takes in a JSON string: 1, or 2 for a short escape (`\n`), or 6
    /// for `\u00xx`.
    @inline(__always)
    private static func escapedLength(_ c: UInt8) -> Int {
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x09, 0x0A, 0x0C, 0x0D: return 2
        case 0..<0x20: return 6
        default: return 1
        }
    }

    /// Appends the compact text of `value`.
    public static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.text.utf8)
        case .string(let s): appendString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                append(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                append(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
