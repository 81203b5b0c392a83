import JSON
import Testing

@testable import JournalInput

/// The encoding rules on their own; `JournalctlEqualityTests` checks them against journalctl.
@Suite struct JournalEntryEncoderTests {
    private func encode(_ fields: [[UInt8]]) throws -> JSONValue {
        var encoder = JournalEntryEncoder()
        encoder.reset()
        for field in fields { field.withUnsafeBytes { encoder.add(field: $0) } }
        let bytes = encoder.encode(cursor: "s=1;i=2", realtime: 1_700_000_000_000_000, monotonic: 7, bootID: "00ff")
        return try JSONValue(parsing: bytes)
    }

    private func field(_ name: String, _ value: [UInt8]) -> [UInt8] { Array(name.utf8) + [UInt8(ascii: "=")] + value }
    private func field(_ name: String, _ value: String) -> [UInt8] { field(name, Array(value.utf8)) }

    private func bytes(_ values: [UInt8]) -> JSONValue { .array(values.map { .number(JSONNumber(Int($0))) }) }

    @Test func headerFieldsComeFromTheEntryHeaderAsStrings() throws {
        let object = try encode([field("MESSAGE", "hi"), field("_BOOT_ID", "ignored")])
        #expect(object["__CURSOR"] == .string("s=1;i=2"))
        #expect(object["__REALTIME_TIMESTAMP"] == .string("1700000000000000"))
        #expect(object["__MONOTONIC_TIMESTAMP"] == .string("7"))
        #expect(object["_BOOT_ID"] == .string("00ff"))
        #expect(object["MESSAGE"] == .string("hi"))
        guard case .object(let members) = object else { throw FixtureError("not an object") }
        #expect(members.keys == ["__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP", "_BOOT_ID", "MESSAGE"])
    }

    @Test func printableTextIsAStringWithTabsNewlinesAndEscapes() throws {
        let object = try encode([
            field("A", "tab\there"), field("B", "two\nlines"), field("C", #"quote " and \ backslash"#),
            field("D", "😀 é ü"), field("E", ""),
        ])
        #expect(object["A"] == .string("tab\there"))
        #expect(object["B"] == .string("two\nlines"))
        #expect(object["C"] == .string(#"quote " and \ backslash"#))
        #expect(object["D"] == .string("😀 é ü"))
        #expect(object["E"] == .string(""))
    }

    @Test(arguments: [
        [0x61, 0x00, 0x62],  // NUL
        [0x61, 0x0D, 0x62],  // carriage return
        [0x61, 0x1B, 0x62],  // escape
        [0x61, 0x7F, 0x62],  // DEL
        [0xC2, 0x85],  // U+0085, C1 control
        [0xFF, 0xFE],  // not UTF-8
        [0xC0, 0xAF],  // overlong "/"
        [0xED, 0xA0, 0x80],  // surrogate
        [0xEF, 0xB7, 0x90],  // U+FDD0 non-character
        [0xEF, 0xBF, 0xBE],  // U+FFFE
        [0xF0, 0x9F, 0xBF, 0xBF],  // U+1FFFF
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xE2, 0x82],  // truncated
    ] as [[UInt8]])
    func nonPrintableValuesAreArraysOfBytes(value: [UInt8]) throws {
        let object = try encode([field("BIN", value)])
        #expect(object["BIN"] == bytes(value))
    }

    @Test func aFieldOf4096BytesOrMoreIsNull() throws {
        let object = try encode([
            field("BIGA", String(repeating: "x", count: 4090)),  // 4 + 1 + 4090 = 4095
            field("BIGB", String(repeating: "x", count: 4091)),  // 4096
            field("BIN", [UInt8](repeating: 0xFF, count: 5000)),
        ])
        #expect(object["BIGA"] == .string(String(repeating: "x", count: 4090)))
        #expect(object["BIGB"] == .null)
        #expect(object["BIN"] == .null)
    }

    @Test func repeatedFieldsBecomeOneArrayInTheirOrder() throws {
        let object = try encode([
            field("REP", "one"), field("MESSAGE", "m"), field("REP", [0xFF]), field("REP", String(repeating: "z", count: 5000)),
            field("REPX", "single"),
        ])
        #expect(object["REP"] == .array([.string("one"), bytes([0xFF]), .null]))
        #expect(object["REPX"] == .string("single"))
        guard case .object(let members) = object else { throw FixtureError("not an object") }
        #expect(Array(members.keys.dropFirst(4)) == ["REP", "MESSAGE", "REPX"])
    }

    @Test func dataWithoutAnEqualsSignIsIgnored() throws {
        let object = try encode([Array("NOEQUALS".utf8), field("MESSAGE", "m")])
        guard case .object(let members) = object else { throw FixtureError("not an object") }
        #expect(members.keys.count == 5)
        #expect(object["MESSAGE"] == .string("m"))
    }

    @Test func theEncoderIsReusedWithoutLeftovers() throws {
        var encoder = JournalEntryEncoder()
        for i in 0..<3 {
            encoder.reset()
            field("N", "\(i)").withUnsafeBytes { encoder.add(field: $0) }
            let object = try JSONValue(parsing: encoder.encode(cursor: "c\(i)", realtime: 1, monotonic: 2, bootID: "b"))
            #expect(object["N"] == .string("\(i)"))
            #expect(object["__CURSOR"] == .string("c\(i)"))
        }
    }
}

@Suite struct JournalMatchTests {
    @Test func aTermSplitsIntoFieldAndValue() throws {
        let match = try JournalMatch("_SYSTEMD_UNIT=legacy.service")
        #expect(match.field == "_SYSTEMD_UNIT")
        #expect(match.value == "legacy.service")
        #expect(try JournalMatch("MESSAGE=a=b").value == "a=b")
        #expect(try JournalMatch("PRIORITY=").value == "")
    }

    @Test(arguments: [
        ("MESSAGE", "expected FIELD=value"),
        ("=x", "the field name is empty"),
        ("lower=x", "not \"l\""),
        ("9LIVES=x", "starts with a digit"),
        ("__CURSOR=x", "fields starting with __"),
        (String(repeating: "A", count: 65) + "=x", "longer than 64"),
    ])
    func badTermsAreRefusedWithTheirReason(term: String, reason: String) {
        #expect {
            try JournalMatch(term)
        } throws: { error in
            guard let error = error as? JournalMatchError else { return false }
            return error.term == term && error.description.contains(reason)
        }
    }

    @Test func theRealtimeOfACursorIsItsTField() {
        #expect(JournalReader.realtime(inCursor: "s=ab;i=1f4;b=cd;m=0;t=60a24181e41f3;x=dd") == 0x60a24181e41f3)
        #expect(JournalReader.realtime(inCursor: "s=ab;i=1") == nil)
    }
}
