import Config
import Foundation
import JSON
import LKEvent
import Rules
import Testing

/// Mapping lines to events: rule order, `continue`, input restrictions, templates and their
/// defaults, journald entries, and every way a line is skipped.
@Suite struct RuleSetTests {
    static let readTime = Date(timeIntervalSince1970: 1_700_000_000.5)

    static func rules(_ rulesYAML: String, inputs: String = Self.defaultInputs) throws -> RuleSet {
        let yaml = "producer_id: test@host\nsink: { type: stdout }\ninputs:\n\(inputs)\nrules:\n\(rulesYAML)"
        return try RuleSet(configuration: ConfigLoader.load(yaml: yaml, file: "t.yaml", environment: [:]))
    }

    static let defaultInputs = """
          - { name: app, type: file, paths: ["/var/log/app.ndjson"] }
          - { name: other, type: file, paths: ["/var/log/other.ndjson"] }
          - { name: journal, type: journald }
          - { name: journal-json, type: journald, parse_message: json }
        """

    static func map(_ rules: RuleSet, _ line: String, input: String = "app") -> MapResult {
        rules.map(line: Array(line.utf8), input: input, readTime: readTime)
    }

    static func events(_ result: MapResult) -> [MappedEvent] {
        if case .events(let events) = result { return events }
        return []
    }

    static func text(_ data: RawJSON) -> String { String(decoding: data.bytes, as: UTF8.self) }

    @Test func firstMatchWinsUnlessContinue() throws {
        let rules = try Self.rules("""
              - { name: a, match: { k: ["x"] }, event: { type: A } }
              - { name: b, match: { k: ["x", "y"] }, event: { type: B }, continue: true }
              - { name: c, event: { type: C } }
              - { name: d, event: { type: D } }
            """)
        #expect(Self.events(Self.map(rules, #"{"k":"x"}"#)).map(\.event.type) == ["A"])
        #expect(Self.events(Self.map(rules, #"{"k":"y"}"#)).map(\.event.type) == ["B", "C"])
        #expect(Self.events(Self.map(rules, #"{"k":"z"}"#)).map(\.rule) == ["c"])
    }

    @Test func ruleSetsOfOneConfigurationShareNoStringStorage() throws {
        // Long enough not to fit in a small string, so each copy has a buffer to share.
        let yaml = """
            producer_id: billing-legacy@host-0042.eu-west-1
            sink: { type: stdout }
            inputs: [ { name: app, type: file, paths: ["/var/log/app.ndjson"] } ]
            rules: [ { name: payment-captured-by-the-legacy-gateway, event: { type: t } } ]
            """
        let configuration = try ConfigLoader.load(yaml: yaml, file: "t.yaml", environment: [:])
        let first = try RuleSet(configuration: configuration)
        let second = try RuleSet(configuration: configuration)
        let a = try #require(Self.events(Self.map(first, "{}")).first)
        let b = try #require(Self.events(Self.map(second, "{}")).first)
        #expect((a.event.producerId, a.rule) == (b.event.producerId, b.rule))
        func buffer(_ text: String) -> UnsafeRawPointer? {
            var text = text
            return text.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        }
        #expect(buffer(a.event.producerId) != buffer(b.event.producerId))
        #expect(buffer(a.rule) != buffer(b.rule))
        #expect(buffer(a.event.producerId) != buffer(configuration.producerId))
        #expect(buffer(a.event.producerId) == buffer(Self.events(Self.map(first, "{}"))[0].event.producerId),
            "one rule set hands out its own copy every time")
    }

    @Test func inputRestrictions() throws {
        let rules = try Self.rules("""
              - { name: only-other, input: other, event: { type: O } }
              - { name: app-or-journal, input: [app, journal], match: { k: [1] }, event: { type: A } }
            """)
        #expect(Self.map(rules, #"{"k":2}"#) == .unmatched)
        #expect(Self.events(Self.map(rules, #"{"k":1}"#)).map(\.event.type) == ["A"])
        #expect(Self.events(Self.map(rules, #"{"k":1}"#, input: "other")).map(\.event.type) == ["O"])
        #expect(Self.events(Self.map(rules, #"{"k":1}"#, input: "journal")).map(\.event.type) == ["A"])
    }

    @Test func defaults() throws {
        let rules = try Self.rules("  - { name: r, event: { type: t } }")
        let line = #"  {"a": 1.50, "s": "é\u00e9", "n": [1, {"x": null}]}  "#
        let event = try #require(Self.events(Self.map(rules, line)).first)
        // The whole line's original bytes (whitespace around the object trimmed).
        #expect(Self.text(event.event.data) == #"{"a": 1.50, "s": "é\u00e9", "n": [1, {"x": null}]}"#)
        #expect(event.event.userId == nil)
        #expect(!event.explicitKey)
        #expect(UUIDv4.isValid(event.event.partitionKey))
        #expect(event.event.partitionKey != event.event.id)
        #expect(event.event.timestamp == Self.readTime)
        #expect(event.event.producerId == "test@host")
        let encoded = String(decoding: event.event.encoded(), as: UTF8.self)
        #expect(encoded.contains(#""timestamp":"2023-11-14T22:13:20.500Z","source":{"userId":null,"producerId":"test@host""#))
    }

    @Test func templates() throws {
        let rules = try Self.rules("""
              - name: r
                event:
                  type: "order-${action}"
                  data: "${order}"
                  user_id: "${user.id}"
                  partition_key: "o-${order.id}-${items.1.sku}"
                  timestamp: "${ts}"
            """)
        let line = #"{"action":"created","order":{"id":42, "total":1.50},"user":{"id":7},"items":[{"sku":"a"},{"sku":"b"}],"ts":"2016-01-01T01:00:00+01:00"}"#
        let event = try #require(Self.events(Self.map(rules, line)).first)
        #expect(event.event.type == "order-created")
        #expect(Self.text(event.event.data) == #"{"id":42, "total":1.50}"#)
        #expect(event.event.userId == "7")
        #expect(event.event.partitionKey == "o-42-b")
        #expect(event.explicitKey)
        #expect(event.event.timestamp == Date(timeIntervalSince1970: 1_451_606_400))
    }

    @Test func structuredDataTemplate() throws {
        let rules = try Self.rules("""
              - name: r
                event:
                  type: t
                  data: { id: "${order.id}", items: ["${items}", "${missing}"], note: "by ${user}", flag: true, n: 1.50, "${lit}": "$${x}", gone: "a ${nope} b" }
            """)
        let line = #"{"order":{"id":"A-1"},"items":[1, 2],"user":"ann \"q\""}"#
        let event = try #require(Self.events(Self.map(rules, line)).first)
        #expect(Self.text(event.event.data) == #"{"id":"A-1","items":[[1, 2],null],"note":"by ann \"q\"","flag":true,"n":1.50,"${lit}":"${x}","gone":null}"#)
        #expect(try JSONValue(parsing: event.event.data.bytes)["note"] == .string(#"by ann "q""#))
    }

    @Test func mappingIntoAnArrayAppendsOrLeavesItAsItWas() throws {
        let rules = try Self.rules("""
              - { name: first, event: { type: A }, continue: true }
              - { name: keyed, event: { type: K, partition_key: "${id}" } }
            """)
        var events: [MappedEvent] = []
        let readTime = Self.readTime
        #expect(rules.map(line: Array(#"{"id":"1"}"#.utf8), input: "app", readTime: readTime, into: &events) == .mapped)
        #expect(events.map(\.event.type) == ["A", "K"])
        // The second rule fails after the first made its event: the line is one unit, and
        // the array keeps only what earlier lines put there.
        #expect(
            rules.map(line: Array(#"{"kind":"x"}"#.utf8), input: "app", readTime: readTime, into: &events)
                == .mappingError(rule: "keyed", message: "partition_key: ${id} is absent or null in this line"))
        #expect(events.map(\.event.type) == ["A", "K"])
        #expect(rules.map(line: Array("[1]".utf8), input: "app", readTime: readTime, into: &events) == .invalid("not a JSON object (found an array)"))
        #expect(rules.map(line: Array(#"{"id":"2"}"#.utf8), input: "app", readTime: readTime, into: &events) == .mapped)
        #expect(events.map(\.event.partitionKey).suffix(1) == ["2"])
        #expect(events.count == 4)
    }

    @Test func missingTypeOrKeyIsAMappingErrorAndTheLineIsOneUnit() throws {
        let rules = try Self.rules("""
              - { name: first, event: { type: A }, continue: true }
              - { name: typed, event: { type: "${kind}" }, continue: true }
              - { name: keyed, event: { type: K, partition_key: "${id}" } }
            """)
        #expect(Self.map(rules, #"{"id":"1"}"#) == .mappingError(rule: "typed", message: "type: ${kind} is absent or null in this line"))
        #expect(Self.map(rules, #"{"kind":null,"id":"1"}"#) == .mappingError(rule: "typed", message: "type: ${kind} is absent or null in this line"))
        #expect(Self.map(rules, #"{"kind":"x"}"#) == .mappingError(rule: "keyed", message: "partition_key: ${id} is absent or null in this line"))
        if case .mappingError(let rule, let message) = Self.map(rules, #"{"kind":"","id":"1"}"#) {
            #expect(rule == "typed")
            #expect(message.contains("empty type"))
        } else {
            Issue.record("an empty type must be a mapping error")
        }
        if case .mappingError(_, let message) = Self.map(rules, #"{"kind":{"a":1},"id":"1"}"#) {
            #expect(message == "type: ${kind} is an object, not a text")
        } else {
            Issue.record("an object type must be a mapping error")
        }
        let long = String(repeating: "k", count: 257)
        if case .mappingError(let rule, let message) = Self.map(rules, #"{"kind":"x","id":"\#(long)"}"#) {
            #expect(rule == "keyed")
            #expect(message.contains("257 characters"))
        } else {
            Issue.record("a 257-character key must be a mapping error")
        }
        #expect(Self.events(Self.map(rules, #"{"kind":"x","id":"1"}"#)).map(\.event.type) == ["A", "x", "K"])
    }

    @Test(arguments: [
        ("2016-01-01T00:00:00.000Z", 1_451_606_400.0),
        ("2016-01-01T02:00:00+02:00", 1_451_606_400),
        ("1451606400", 1_451_606_400),
        ("1451606400.25", 1_451_606_400.25),
        ("1451606400250", 1_451_606_400.25),
        ("1451606400250000", 1_451_606_400.25),
    ])
    func timestamps(_ text: String, _ seconds: Double) throws {
        let rules = try Self.rules(#"  - { name: r, event: { type: t, timestamp: "${ts}" } }"#)
        let asString = try #require(Self.events(Self.map(rules, #"{"ts":"\#(text)"}"#)).first)
        #expect(asString.event.timestamp == Date(timeIntervalSince1970: seconds))
        if !text.contains("-") {
            let asNumber = try #require(Self.events(Self.map(rules, #"{"ts":\#(text)}"#)).first)
            #expect(asNumber.event.timestamp == Date(timeIntervalSince1970: seconds))
        }
    }

    @Test func timestampAbsentIsTheDefaultAndGarbageIsAMappingError() throws {
        let rules = try Self.rules(#"  - { name: r, event: { type: t, timestamp: "${ts}" } }"#)
        #expect(Self.events(Self.map(rules, #"{"x":1}"#)).first?.event.timestamp == Self.readTime)
        #expect(Self.map(rules, #"{"ts":"yesterday"}"#)
            == .mappingError(rule: "r", message: "timestamp: 'yesterday' is not an ISO-8601 time with a zone or an epoch number"))
        if case .mappingError = Self.map(rules, #"{"ts":"2016-01-01T00:00:00"}"#) {} else {
            Issue.record("a time without a zone is ambiguous and must be refused")
        }
    }

    @Test func journaldEntries() throws {
        let rules = try Self.rules("""
              - name: r
                match: { _SYSTEMD_UNIT: ["legacy.service"] }
                event: { type: "${SYSLOG_IDENTIFIER}", data: { msg: "${MESSAGE}" }, user_id: "${message.user}", partition_key: "${message.order.id}" }
            """)
        let entry = #"{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1451606400123456","_SYSTEMD_UNIT":"legacy.service","SYSLOG_IDENTIFIER":"legacy","MESSAGE":"{\"user\":\"u1\",\"order\":{\"id\":9}}"}"#
        // Without parse_message, `message` does not exist: the key is a mapping error.
        #expect(Self.map(rules, entry, input: "journal") == .mappingError(rule: "r", message: "partition_key: ${message.order.id} is absent or null in this line"))
        let event = try #require(Self.events(Self.map(rules, entry, input: "journal-json")).first)
        #expect(event.event.type == "legacy")
        #expect(event.event.userId == "u1")
        #expect(event.event.partitionKey == "9")
        #expect(Self.text(event.event.data) == #"{"msg":"{\"user\":\"u1\",\"order\":{\"id\":9}}"}"#)
        // The journald entry time, not the read time.
        #expect(event.event.timestamp == Date(timeIntervalSince1970: 1_451_606_400.123456))
        #expect(LKTimestamp.format(event.event.timestamp) == "2016-01-01T00:00:00.123Z")
    }

    @Test func parsedMessageIsMatchableAndWholeEntryIsTheDefaultData() throws {
        let rules = try Self.rules("""
              - { name: r, input: journal-json, match: { message: { level: ["error"] } }, event: { type: t } }
              - { name: m, input: journal-json, event: { type: "m", data: "${message}" } }
            """)
        let entry = #"{"MESSAGE":"{\n  \"level\": \"error\"\n}","PRIORITY":"3"}"#
        let first = try #require(Self.events(Self.map(rules, entry, input: "journal-json")).first)
        #expect(first.rule == "r")
        #expect(Self.text(first.event.data) == entry)
        // A MESSAGE spread over lines is carried on one line.
        let second = try #require(Self.events(Self.map(rules, #"{"MESSAGE":"{\n  \"level\": \"info\"\n}"}"#, input: "journal-json")).first)
        #expect(Self.text(second.event.data) == #"{"level":"info"}"#)
        // A MESSAGE that is not a JSON object gives no `message`.
        #expect(Self.map(rules, #"{"MESSAGE":"plain text"}"#, input: "journal-json") != .unmatched)
        #expect(Self.events(Self.map(rules, #"{"MESSAGE":"[1,2]"}"#, input: "journal-json")).first.map { Self.text($0.event.data) } == "null")
    }

    @Test(arguments: [
        ("{\"a\":1,}", "invalid JSON at byte 7 (expected a member name but found '}')"),
        ("{\"a\":1} x", "invalid JSON at byte 8 (unexpected 'x' after the value)"),
        ("[1,2]", "not a JSON object (found an array)"),
        ("\"text\"", "not a JSON object (found a string)"),
        ("", "empty line"),
        ("   ", "empty line"),
        (String(repeating: "[", count: 200), "JSON nested deeper than 128 levels at byte 128"),
    ])
    func invalidLines(_ line: String, _ reason: String) throws {
        let rules = try Self.rules("  - { name: r, event: { type: t } }")
        #expect(Self.map(rules, line) == .invalid(reason))
    }

    @Test func invalidUTF8() throws {
        let rules = try Self.rules("  - { name: r, event: { type: t } }")
        let line: [UInt8] = Array(#"{"a":"x"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(rules.map(line: line, input: "app", readTime: Self.readTime) == .invalid("invalid UTF-8 at byte 7"))
    }

    @Test func arraySlicesAndCRLF() throws {
        let rules = try Self.rules("  - { name: r, event: { type: t } }")
        let file = Array("{\"a\":1}\r\n{\"b\":2}\n".utf8)
        let first = file[0..<8]
        let event = try #require(Self.events(rules.map(line: first, input: "app", readTime: Self.readTime)).first)
        #expect(Self.text(event.event.data) == #"{"a":1}"#)
    }
}
