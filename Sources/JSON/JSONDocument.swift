/// One parsed JSON text that keeps its original bytes: every value is a range of them, so
/// a sub-object can be carried verbatim, strings are decoded only when asked for, and no
/// tree is built. This is the parser of the hot path (one log line, one document).
///
/// Validation is strict: RFC 8259 grammar, valid UTF-8 (no overlong forms, no surrogates),
/// `\u` escapes that form valid scalars, nesting at most `maxDepth`, nothing but
/// whitespace after the value.
public struct JSONDocument: Sendable {
    public static let defaultMaxDepth = 128

    /// The text as given.
    public let bytes: [UInt8]
    /// Values in document order; a container is followed by its descendants.
    @usableFromInline let tape: [TapeEntry]

    /// The kind of a JSON value.
    public enum Kind: UInt8, Sendable {
        case null, bool, number, string, array, object
    }

    @usableFromInline
    struct TapeEntry: Sendable {
        @usableFromInline var kind: Kind
        /// For a string: whether it holds escapes (so its bytes are not its text).
        @usableFromInline var escaped: Bool
        /// The value's bytes (for a string, with its quotes).
        @usableFromInline var start: Int32
        @usableFromInline var end: Int32
        /// For containers: the tape index just after the last descendant.
        @usableFromInline var next: Int32
        /// For containers: the number of elements or members.
        @usableFromInline var count: Int32
    }

    public init(parsing text: some Collection<UInt8>, maxDepth: Int = JSONDocument.defaultMaxDepth) throws(JSONError) {
        let bytes = Array(text)
        guard bytes.count < Int32.max else { throw JSONError(offset: 0, message: "text too large") }
        var parser = Parser(maxDepth: maxDepth)
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) in
            try parser.parseDocument(buffer)
        }
        self.bytes = bytes
        self.tape = parser.tape
    }

    /// The top-level value.
    public var root: JSONNode { JSONNode(document: self, index: 0) }
}

/// One value inside a `JSONDocument`.
public struct JSONNode: Sendable {
    public let document: JSONDocument
    @usableFromInline let index: Int

    @usableFromInline var entry: JSONDocument.TapeEntry { document.tape[index] }

    public var kind: JSONDocument.Kind { entry.kind }

    /// The value's original bytes (a string with its quotes).
    public var raw: ArraySlice<UInt8> { document.bytes[Int(entry.start)..<Int(entry.end)] }

    /// The decoded text of a string; nil for other kinds.
    public var string: String? {
        let e = entry
        guard e.kind == .string else { return nil }
        let inner = document.bytes[Int(e.start) + 1..<Int(e.end) - 1]
        if !e.escaped { return String(decoding: inner, as: UTF8.self) }
        return String(decoding: JSONDocument.unescape(inner), as: UTF8.self)
    }

    /// The value of a number; nil for other kinds.
    public var number: Double? {
        guard entry.kind == .number else { return nil }
        return Double(String(decoding: raw, as: UTF8.self))
    }

    /// The value of `true`/`false`; nil for other kinds.
    public var bool: Bool? {
        guard entry.kind == .bool else { return nil }
        return document.bytes[Int(entry.start)] == UInt8(ascii: "t")
    }

    public var isNull: Bool { entry.kind == .null }

    /// The number of elements of an array or members of an object (0 for scalars).
    public var count: Int { Int(entry.count) }

    /// The elements of an array (empty for other kinds).
    public var elements: [JSONNode] {
        guard entry.kind == .array else { return [] }
        var out: [JSONNode] = []
        out.reserveCapacity(Int(entry.count))
        var i = index + 1
        let end = Int(entry.next)
        while i < end {
            out.append(JSONNode(document: document, index: i))
            i = document.nextSibling(of: i)
        }
        return out
    }

    /// The element at `position` of an array.
    public func element(_ position: Int) -> JSONNode? {
        guard entry.kind == .array, position >= 0, position < Int(entry.count) else { return nil }
        var i = index + 1
        for _ in 0..<position { i = document.nextSibling(of: i) }
        return JSONNode(document: document, index: i)
    }

    /// The members of an object in document order (empty for other kinds).
    public var members: [(key: String, value: JSONNode)] {
        guard entry.kind == .object else { return [] }
        var out: [(key: String, value: JSONNode)] = []
        out.reserveCapacity(Int(entry.count))
        var i = index + 1
        let end = Int(entry.next)
        while i < end {
            let key = JSONNode(document: document, index: i).string ?? ""
            out.append((key, JSONNode(document: document, index: i + 1)))
            i = document.nextSibling(of: i + 1)
        }
        return out
    }

    /// The value of member `key` of an object (the last one if it repeats, as JSON.parse
    /// does); nil when absent or not an object.
    public subscript(key: String) -> JSONNode? {
        guard entry.kind == .object else { return nil }
        var found: JSONNode?
        var keyBytes = key
        keyBytes.withUTF8 { wanted in
            var i = index + 1
            let end = Int(entry.next)
            while i < end {
                if document.keyEquals(at: i, wanted) { found = JSONNode(document: document, index: i + 1) }
                i = document.nextSibling(of: i + 1)
            }
        }
        return found
    }

    /// The value as a tree.
    public var value: JSONValue {
        switch entry.kind {
        case .null: return .null
        case .bool: return .bool(bool ?? false)
        case .number: return .number(JSONNumber(validText: String(decoding: raw, as: UTF8.self)))
        case .string: return .string(string ?? "")
        case .array: return .array(elements.map(\.value))
        case .object: return .object(JSONObject(members.map { JSONObject.Member(key: $0.key, value: $0.value.value) }))
        }
    }
}

extension JSONDocument {
    @usableFromInline
    func nextSibling(of index: Int) -> Int {
        let e = tape[index]
        return (e.kind == .array || e.kind == .object) ? Int(e.next) : index + 1
    }

    /// Whether the string at tape `index` (an object key) has the text `wanted`.
    @usableFromInline
    func keyEquals(at index: Int, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        let e = tape[index]
        let start = Int(e.start) + 1
        let end = Int(e.end) - 1
        if e.escaped {
            return JSONDocument.unescape(bytes[start..<end]).elementsEqual(wanted)
        }
        guard end - start == wanted.count else { return false }
        return bytes.withUnsafeBufferPointer { all in
            var i = 0
            while i < wanted.count {
                if all[start + i] != wanted[i] { return false }
                i += 1
            }
            return true
        }
    }

    /// Decodes the escapes of a validated string body.
    @usableFromInline
    static func unescape(_ body: ArraySlice<UInt8>) -> [UInt8] {
        body.withUnsafeBufferPointer { unescape($0) }
    }

    /// Decodes the escapes of a validated string body.
    @usableFromInline
    static func unescape(_ body: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8] {
        unescape(UnsafeBufferPointer(rebasing: body))
    }

    /// Decodes the escapes of a validated string body.
    static func unescape(_ body: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var i = 0
        while i < body.count {
            let b = body[i]
            guard b == UInt8(ascii: "\\"), i + 1 < body.count else {
                out.append(b)
                i += 1
                continue
            }
            let e = body[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(body, i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar), i + 6 <= body.count {
                    let low = hex4(body, i + 2)
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                if let s = Unicode.Scalar(scalar) { UTF8.encode(s) { out.append($0) } }
            default: out.append(e)
            }
        }
        return out
    }

    private static func hex4(_ body: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        guard at + 4 <= body.count else { return 0 }
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 4 | UInt32(hexValue(body[at + k]) ?? 0) }
        return v
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
