import JSON
import Testing

/// The strict parser against JSONTestSuite-style cases: what RFC 8259 accepts is accepted
/// with every value's original bytes kept; what it refuses is refused with the offset of
/// the first bad byte.
@Suite struct JSONParserTests {
    static func parse(_ text: String, maxDepth: Int = JSONDocument.defaultMaxDepth) throws(JSONError) -> JSONDocument {
        try JSONDocument(parsing: Array(text.utf8), maxDepth: maxDepth)
    }

    static func error(_ bytes: [UInt8], maxDepth: Int = JSONDocument.defaultMaxDepth) -> JSONError? {
        do {
            _ = try JSONDocument(parsing: bytes, maxDepth: maxDepth)
            return nil
        } catch {
            return error
        }
    }

    static func error(_ text: String) -> JSONError? { error(Array(text.utf8)) }

    static func trimmed(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        let space: Set<Unicode.Scalar> = [" ", "\t", "\r", "\n"]
        while let first = scalars.first, space.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, space.contains(last) { scalars.removeLast() }
        return String(scalars)
    }

    @Test(arguments: [
        "0", "-0", "1", "-1", "123456789012345678901234567890", "1.5", "-0.0", "1e10", "1E+10", "1e-10", "1.25e-3",
        "0.1e1", "[1]", "{}", "[]", "\"\"", "true", "false", "null", " \t\r\n{ \"a\" : [ 1 , 2 ] }\r\n",
        "{\"a\":{\"b\":{\"c\":[[],[{}]]}}}", "\"\\u0000\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\ud83d\\ude00\"",
        "\"\\uD83D\\uDE00\"", "\"é😀\u{7F}\"", "{\"a\":1,\"a\":2}",
    ])
    func accepts(_ text: String) throws {
        let doc = try Self.parse(text)
        #expect(String(decoding: doc.root.raw, as: UTF8.self) == Self.trimmed(text))
    }

    @Test(arguments: [
        ("", 0), (" ", 1), ("01", 1), ("-", 1), ("-a", 1), ("1.", 2), (".5", 0), ("1e", 2), ("1e+", 3), ("+1", 0),
        ("0x10", 1), ("NaN", 0), ("Infinity", 0), ("-Infinity", 1), ("[1,]", 3), ("[,1]", 1), ("{\"a\":1,}", 7),
        ("{\"a\" 1}", 5), ("{a:1}", 1), ("{'a':1}", 1), ("[1 2]", 3), ("[1", 2), ("{\"a\":1", 6), ("\"abc", 0),
        ("tru", 0), ("truex", 4), ("nul", 0), ("[1]]", 3), ("{} {}", 3), ("1 2", 2), ("\"\\x\"", 1),
        ("\"\\u12\"", 1), ("\"\\u12g4\"", 5), ("\"\\ud800\"", 1), ("\"\\udc00\"", 1), ("\"\\ud800\\u0041\"", 1),
        ("\"\\ud800x\"", 1), ("\"a\tb\"", 2), ("\"a\nb\"", 2), ("\"\u{1F}\"", 1), ("[\"a\",]", 5),
    ])
    func refuses(_ text: String, offset: Int) {
        let e = Self.error(text)
        #expect(e != nil, "accepted \(text.debugDescription)")
        #expect(e?.offset == offset, "\(text.debugDescription): \(e.map { "\($0)" } ?? "")")
        #expect(e?.kind == .syntax)
    }

    @Test(arguments: [
        ([0x22, 0xFF, 0x22], 1),  // never valid in UTF-8
        ([0x22, 0xC0, 0xAF, 0x22], 1),  // overlong '/'
        ([0x22, 0xE0, 0x80, 0xAF, 0x22], 1),  // overlong
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // UTF-16 surrogate encoded in UTF-8
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),  // above U+10FFFF
        ([0x22, 0xE2, 0x82, 0x22], 1),  // truncated sequence
        ([0x22, 0x80, 0x22], 1),  // lone continuation byte
        ([0x7B, 0x22, 0x61, 0xC3, 0x22, 0x3A, 0x31, 0x7D], 3),  // in a key
    ] as [([UInt8], Int)])
    func refusesInvalidUTF8(_ bytes: [UInt8], offset: Int) {
        let e = Self.error(bytes)
        #expect(e?.kind == .invalidUTF8)
        #expect(e?.offset == offset)
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        _ = try Self.parse(ok)
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        let e = Self.error(deep)
        #expect(e?.kind == .tooDeep)
        #expect(e?.offset == 128)
        let objects = String(repeating: "{\"a\":", count: 10) + "1" + String(repeating: "}", count: 10)
        #expect(Self.error(Array(objects.utf8), maxDepth: 9)?.kind == .tooDeep)
        _ = try Self.parse(objects, maxDepth: 10)
        // A very deep text is refused without exhausting the stack.
        let huge = String(repeating: "[", count: 100_000)
        #expect(Self.error(huge)?.kind == .tooDeep)
    }

    @Test func stringsDecodeEscapesAndSurrogatePairs() throws {
        let doc = try Self.parse(#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20AC", "\ud83d\ude00", "\u0000", "plain é"]"#)
        let strings = doc.root.elements.map(\.string)
        #expect(strings == ["a\"b\\c/d\u{8}\u{C}\n\r\t", "é€", "😀", "\u{0}", "plain é"])
    }

    @Test func numbersKeepTheirTextAndValue() throws {
        let doc = try Self.parse(#"[1.50, -0, 1e2, 123456789012345678901234567890, 0.1, -12.5e-1, 9007199254740993]"#)
        var texts: [String] = []
        var values: [Double?] = []
        doc.forEachElement(of: JSONDocument.rootIndex) { i in
            texts.append(String(decoding: doc.bytes[doc.rawRange(at: i)], as: UTF8.self))
            values.append(doc.double(at: i))
            return true
        }
        #expect(texts == ["1.50", "-0", "1e2", "123456789012345678901234567890", "0.1", "-12.5e-1", "9007199254740993"])
        #expect(values == [1.5, 0, 100, 1.2345678901234568e29, 0.1, -1.25, 9007199254740992])
    }

    @Test func objectsAndIndexAccess() throws {
        let doc = try Self.parse(#"{"a": {"b": [10, {"c": "x"}]}, "k\u0065y": 1, "a2": null, "dup": 1, "dup": 2}"#)
        let root = JSONDocument.rootIndex
        #expect(doc.count(at: root) == 5)
        let a = try #require(doc.member(of: root, key: Array("a".utf8)))
        let b = try #require(doc.member(of: a, key: Array("b".utf8)))
        #expect(doc.kind(at: b) == .array)
        let second = try #require(doc.element(of: b, at: 1))
        let c = try #require(doc.member(of: second, key: Array("c".utf8)))
        #expect(doc.string(at: c) == "x")
        #expect(doc.element(of: b, at: 2) == nil)
        // An escaped key is found by its decoded text.
        #expect(doc.member(of: root, key: Array("key".utf8)).flatMap { doc.double(at: $0) } == 1)
        #expect(doc.member(of: root, key: Array("a2".utf8)).map { doc.kind(at: $0) } == .null)
        // The last of repeated keys wins, as JSON.parse does.
        #expect(doc.member(of: root, key: Array("dup".utf8)).flatMap { doc.double(at: $0) } == 2)
        #expect(doc.member(of: root, key: Array("missing".utf8)) == nil)
        #expect(String(decoding: doc.bytes[doc.rawRange(at: a)], as: UTF8.self) == #"{"b": [10, {"c": "x"}]}"#)
    }

    @Test func treeValue() throws {
        let value = try JSONValue(parsing: Array(#"{"a":[1,"x",true,null],"b":{}}"#.utf8))
        let expected = JSONValue.object(JSONObject([
            "a": .array([.number(JSONNumber(1)), .string("x"), .bool(true), .null]), "b": .object(JSONObject()),
        ]))
        #expect(value == expected)
        #expect(String(decoding: value.serialized, as: UTF8.self) == #"{"a":[1,"x",true,null],"b":{}}"#)
    }

    /// The string scan reads 32 bytes a step, then eight: a quote, escape, control character
    /// or non-ASCII byte at any position of a long string (two steps of 32 and the words
    /// after) is still seen.
    @Test func specialBytesAtEveryPositionOfALongString() throws {
        for p in 0..<72 {
            let before = String(repeating: "a", count: p)
            let after = String(repeating: "b", count: 13)
            let escaped = try Self.parse("\"\(before)\\n\(after)\"")
            #expect(escaped.root.string == before + "\n" + after)
            let accented = try Self.parse("\"\(before)é€😀\(after)\"")
            #expect(accented.root.string == before + "é€😀" + after)
            #expect(Self.error("\"\(before)\u{1}\(after)\"")?.offset == 1 + p)
            #expect(Self.error("\"\(before)\"\(after)\"")?.offset == 2 + p)
            #expect(Self.error(Array("\"\(before)".utf8) + [0xFF] + Array("\(after)\"".utf8))?.kind == .invalidUTF8)
        }
    }
}
