/// The strict single-pass parser behind `JSONDocument`: it validates the text and records
/// each value's byte range on the tape.
struct Parser {
    let maxDepth: Int
    var tape: [JSONDocument.TapeEntry] = []
    private var depth = 0

    init(maxDepth: Int) {
        self.maxDepth = maxDepth
        tape.reserveCapacity(32)
    }

    mutating func parseDocument(_ b: UnsafeBufferPointer<UInt8>) throws(JSONError) {
        var i = skipWhitespace(b, 0)
        guard i < b.count else { throw JSONError(offset: i, message: b.isEmpty ? "empty text" : "no value") }
        i = try parseValue(b, i)
        i = skipWhitespace(b, i)
        if i < b.count { throw JSONError(offset: i, message: "unexpected \(describe(b[i])) after the value") }
    }

    @inline(__always)
    private func skipWhitespace(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var i = start
        while i < b.count {
            switch b[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return i
            }
        }
        return i
    }

    private mutating func parseValue(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) throws(JSONError) -> Int {
        guard start < b.count else { throw JSONError(offset: start, message: "unexpected end of text") }
        switch b[start] {
        case UInt8(ascii: "{"): return try parseObject(b, start)
        case UInt8(ascii: "["): return try parseArray(b, start)
        case UInt8(ascii: "\""): return try parseString(b, start)
        case UInt8(ascii: "t"): return try literal(b, start, "true", .bool)
        case UInt8(ascii: "f"): return try literal(b, start, "false", .bool)
        case UInt8(ascii: "n"): return try literal(b, start, "null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber(b, start)
        default: throw JSONError(offset: start, message: "unexpected \(describe(b[start]))")
        }
    }

    private mutating func literal(
        _ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ word: StaticString, _ kind: JSONDocument.Kind
    ) throws(JSONError) -> Int {
        let n = word.utf8CodeUnitCount
        guard start + n <= b.count else { throw JSONError(offset: start, message: "invalid literal") }
        let w = word.utf8Start
        for k in 0..<n where b[start + k] != w[k] {
            throw JSONError(offset: start + k, message: "invalid literal")
        }
        push(kind, start, start + n)
        return start + n
    }

    @inline(__always)
    private mutating func push(_ kind: JSONDocument.Kind, _ start: Int, _ end: Int, escaped: Bool = false) {
        tape.append(.init(kind: kind, escaped: escaped, start: Int32(start), end: Int32(end), next: 0, count: 0))
    }

    private mutating func enter(_ at: Int) throws(JSONError) {
        depth += 1
        if depth > maxDepth { throw JSONError(offset: at, message: "nesting deeper than \(maxDepth)", kind: .tooDeep) }
    }

    private mutating func parseArray(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) throws(JSONError) -> Int {
        try enter(start)
        let slot = tape.count
        push(.array, start, start)
        var count: Int32 = 0
        var i = skipWhitespace(b, start + 1)
        if i < b.count, b[i] == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                i = try parseValue(b, i)
                count += 1
                i = skipWhitespace(b, i)
                guard i < b.count else { throw JSONError(offset: i, message: "unterminated array") }
                if b[i] == UInt8(ascii: ",") {
                    i = skipWhitespace(b, i + 1)
                    continue
                }
                if b[i] == UInt8(ascii: "]") {
                    i += 1
                    break
                }
                throw JSONError(offset: i, message: "expected ',' or ']' but found \(describe(b[i]))")
            }
        }
        depth -= 1
        tape[slot].end = Int32(i)
        tape[slot].next = Int32(tape.count)
        tape[slot].count = count
        return i
    }

    private mutating func parseObject(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) throws(JSONError) -> Int {
        try enter(start)
        let slot = tape.count
        push(.object, start, start)
        var count: Int32 = 0
        var i = skipWhitespace(b, start + 1)
        if i < b.count, b[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                guard i < b.count else { throw JSONError(offset: i, message: "unterminated object") }
                guard b[i] == UInt8(ascii: "\"") else {
                    throw JSONError(offset: i, message: "expected a member name but found \(describe(b[i]))")
                }
                i = try parseString(b, i)
                i = skipWhitespace(b, i)
                guard i < b.count, b[i] == UInt8(ascii: ":") else {
                    throw JSONError(offset: i, message: i < b.count ? "expected ':' but found \(describe(b[i]))" : "unterminated object")
                }
                i = try parseValue(b, skipWhitespace(b, i + 1))
                count += 1
                i = skipWhitespace(b, i)
                guard i < b.count else { throw JSONError(offset: i, message: "unterminated object") }
                if b[i] == UInt8(ascii: ",") {
                    i = skipWhitespace(b, i + 1)
                    continue
                }
                if b[i] == UInt8(ascii: "}") {
                    i += 1
                    break
                }
                throw JSONError(offset: i, message: "expected ',' or '}' but found \(describe(b[i]))")
            }
        }
        depth -= 1
        tape[slot].end = Int32(i)
        tape[slot].next = Int32(tape.count)
        tape[slot].count = count
        return i
    }

    private mutating func parseString(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) throws(JSONError) -> Int {
        var i = start + 1
        var escaped = false
        while i < b.count {
            // Words at a time: on to the first byte that is a quote, a backslash, a control
            // or non-ASCII, or to the end.
            if let base = b.baseAddress {
                i += ByteScan.plainPrefix(base + i, count: b.count - i, orNonASCII: true)
                guard i < b.count else { break }
            }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                push(.string, start, i + 1, escaped: escaped)
                return i + 1
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                i = try parseEscape(b, i)
                continue
            }
            if c < 0x20 { throw JSONError(offset: i, message: "control character \(describe(c)) in a string") }
            i = try validateUTF8(b, i)
        }
        throw JSONError(offset: start, message: "unterminated string")
    }

    /// Validates the escape at `i` (a backslash); returns the index after it.
    private func parseEscape(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) throws(JSONError) -> Int {
        guard i + 1 < b.count else { throw JSONError(offset: i, message: "unterminated string") }
        switch b[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return i + 2
        case UInt8(ascii: "u"):
            let unit = try hex4(b, i + 2, escapeAt: i)
            if (0xDC00...0xDFFF).contains(unit) {
                throw JSONError(offset: i, message: "lone low surrogate \\u\(String(unit, radix: 16)) in a string")
            }
            guard (0xD800...0xDBFF).contains(unit) else { return i + 6 }
            guard i + 7 < b.count, b[i + 6] == UInt8(ascii: "\\"), b[i + 7] == UInt8(ascii: "u") else {
                throw JSONError(offset: i, message: "lone high surrogate \\u\(String(unit, radix: 16)) in a string")
            }
            let low = try hex4(b, i + 8, escapeAt: i + 6)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw JSONError(offset: i, message: "high surrogate not followed by a low surrogate")
            }
            return i + 12
        default:
            throw JSONError(offset: i, message: "invalid escape \\\(describe(b[i + 1]))")
        }
    }

    private func hex4(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, escapeAt: Int) throws(JSONError) -> UInt32 {
        guard at + 4 <= b.count else { throw JSONError(offset: escapeAt, message: "truncated \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let h = JSONDocument.hexValue(b[at + k]) else {
                throw JSONError(offset: at + k, message: "invalid hex digit in \\u escape")
            }
            v = v << 4 | UInt32(h)
        }
        return v
    }

    /// Validates one multi-byte UTF-8 sequence at `i`; returns the index after it.
    @inline(__always)
    private func validateUTF8(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) throws(JSONError) -> Int {
        let c = b[i]
        let n: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: n = 2
        case 0xE0: n = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: n = 3
        case 0xED: n = 3; upper = 0x9F
        case 0xF0: n = 4; lower = 0x90
        case 0xF1...0xF3: n = 4
        case 0xF4: n = 4; upper = 0x8F
        default: throw JSONError(offset: i, message: "invalid UTF-8 byte 0x\(String(c, radix: 16))", kind: .invalidUTF8)
        }
        guard i + n <= b.count else { throw JSONError(offset: i, message: "truncated UTF-8 sequence", kind: .invalidUTF8) }
        let second = b[i + 1]
        guard second >= lower, second <= upper else { throw JSONError(offset: i, message: "invalid UTF-8 sequence", kind: .invalidUTF8) }
        for k in 2..<max(n, 2) where b[i + k] & 0xC0 != 0x80 {
            throw JSONError(offset: i, message: "invalid UTF-8 sequence", kind: .invalidUTF8)
        }
        return i + n
    }

    private mutating func parseNumber(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) throws(JSONError) -> Int {
        var i = start
        if b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, isDigit(b[i]) else { throw JSONError(offset: i, message: "invalid number") }
        if b[i] == UInt8(ascii: "0") {
            i += 1
            if i < b.count, isDigit(b[i]) { throw JSONError(offset: i, message: "leading zero in a number") }
        } else {
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < b.count, isDigit(b[i]) else { throw JSONError(offset: i, message: "expected a digit after '.'") }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, isDigit(b[i]) else { throw JSONError(offset: i, message: "expected a digit in the exponent") }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        push(.number, start, i)
        return i
    }

    @inline(__always)
    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private func describe(_ c: UInt8) -> String {
        if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x" + (c < 0x10 ? "0" : "") + String(c, radix: 16)
    }
}
