import JSON
import Testing

/// The writer writes what JavaScript's JSON.stringify writes. The expected texts below are
/// JSON.stringify's output; for strings they agree with Python's
/// `json.dumps(s, ensure_ascii=False, separators=(",", ":"))`, which
/// tests/rules/test_json_writer.py compares against over random strings.
@Suite struct JSONWriterTests {
    static func string(_ s: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test(arguments: [
        ("", #""""#),
        ("plain", #""plain""#),
        ("quote \" backslash \\ slash /", #""quote \" backslash \\ slash /""#),
        ("\u{8}\u{C}\n\r\t", #""\b\f\n\r\t""#),
        ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
        ("\u{7F}", "\"\u{7F}\""),
        ("é€😀", "\"é€😀\""),
        ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
        ("<script>&", #""<script>&""#),
    ])
    func stringsAsJSONStringify(_ input: String, expected: String) {
        #expect(Self.string(input) == expected)
    }

    /// Runs of plain bytes are skipped 32 bytes a step, then eight: an escape at every
    /// position of a longer string (two steps of 32 and the words after), and the
    /// bytes-taking form, must write what character-by-character escaping writes.
    @Test(arguments: ["\"", "\\", "\n", "\u{1}", "\u{1F}", "é", "😀", "\u{7F}"])
    func escapesAtEveryPositionOfALongString(_ special: String) {
        func reference(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\u{1}": out += "\\u0001"
                case "\u{1F}": out += "\\u001f"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        for position in 0...72 {
            let text = String(repeating: "a", count: position) + special + String(repeating: "b", count: 72 - position)
            #expect(Self.string(text) == reference(text))
            var fromBytes: [UInt8] = []
            Array(text.utf8).withUnsafeBufferPointer { JSONWriter.appendString(utf8: $0, to: &fromBytes) }
            #expect(String(decoding: fromBytes, as: UTF8.self) == reference(text))
        }
    }

    @Test func valuesAreCompact() throws {
        let value = JSONValue.object(JSONObject([
            "b": .array([.number(JSONNumber(validText: "1.50")), .null, .bool(false)]),
            "a": .string("x\ny"), "": .object(JSONObject()),
        ]))
        #expect(String(decoding: value.serialized, as: UTF8.self) == #"{"b":[1.50,null,false],"a":"x\ny","":{}}"#)
    }

    @Test func rawJSONKeepsBytes() throws {
        let raw = try RawJSON(validating: Array("  {\"a\": 1.50, \"é\": [ ] }\n".utf8))
        #expect(raw.description == "{\"a\": 1.50, \"é\": [ ] }")
        #expect(throws: JSONError.self) { try RawJSON(validating: Array("{\"a\":}".utf8)) }
    }
}
