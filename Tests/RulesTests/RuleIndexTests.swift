import Foundation
import Rules
import Testing

/// The rule index skips rules by the field most of them require (`kind` here): a line must
/// make exactly the events it would make if every rule were tried, whatever the field holds.
@Suite struct RuleIndexTests {
    /// Rules in an order where skipping wrongly shows: rules constrained on `kind`, rules
    /// that do not constrain it (none, a prefix, `exists`, a nested field, an `$or`), and a
    /// catch-all at the end.
    static let rulesYAML = """
          - { name: order, match: { kind: ["order"] }, event: { type: order } }
          - { name: order-or-refund, match: { kind: ["order", "refund"], total: [{ numeric: [">", 100] }] }, event: { type: big }, continue: true }
          - { name: http, match: { kind: ["http"], status: [500] }, event: { type: http-500 } }
          - { name: prefixed, match: { kind: [{ prefix: "aud" }] }, event: { type: prefixed }, continue: true }
          - { name: audit, match: { kind: ["audit"] }, event: { type: audit } }
          - { name: either, match: { "$or": [{ kind: ["job"] }, { level: ["error"] }] }, event: { type: either } }
          - { name: nested, match: { meta: { kind: ["order"] } }, event: { type: nested } }
          - { name: absent, match: { kind: [{ exists: false }] }, event: { type: no-kind } }
          - { name: other, event: { type: other } }
        """

    static func types(_ line: String) throws -> [String] {
        let rules = try RuleSetTests.rules(Self.rulesYAML)
        return RuleSetTests.events(RuleSetTests.map(rules, line)).map(\.event.type)
    }

    @Test func aStringValueTriesItsRulesAndTheUnconstrainedOnes() throws {
        #expect(try Self.types(#"{"kind":"order"}"#) == ["order"])
        #expect(try Self.types(#"{"kind":"refund","total":500}"#) == ["big", "other"])
        #expect(try Self.types(#"{"kind":"order","total":500}"#) == ["order"])
        #expect(try Self.types(#"{"kind":"http","status":500}"#) == ["http-500"])
        #expect(try Self.types(#"{"kind":"http","status":200}"#) == ["other"])
        #expect(try Self.types(#"{"kind":"audit"}"#) == ["prefixed", "audit"])
        #expect(try Self.types(#"{"kind":"job"}"#) == ["either"])
        #expect(try Self.types(#"{"kind":"unknown","level":"error"}"#) == ["either"])
        #expect(try Self.types(#"{"kind":"unknown","meta":{"kind":"order"}}"#) == ["nested"])
    }

    @Test func escapedValuesAreCompared() throws {
        #expect(try Self.types(#"{"kind":"ord\u0065r"}"#) == ["order"])
        #expect(try Self.types(#"{"kind":"order\u0000"}"#) == ["other"])
    }

    @Test func otherKindsOfValueSkipOnlyTheConstrainedRules() throws {
        #expect(try Self.types(#"{"level":"info"}"#) == ["no-kind"])
        #expect(try Self.types(#"{"kind":null}"#) == ["other"])
        #expect(try Self.types(#"{"kind":5}"#) == ["other"])
        #expect(try Self.types(#"{"kind":true}"#) == ["other"])
        // An object is no leaf value: `exists: false` matches it (EventBridge's semantics).
        #expect(try Self.types(#"{"kind":{"a":"order"}}"#) == ["no-kind"])
    }

    @Test func anArrayTriesEveryRule() throws {
        #expect(try Self.types(#"{"kind":["x","order"]}"#) == ["order"])
        #expect(try Self.types(#"{"kind":["audit","http"],"status":500}"#) == ["http-500"])
        #expect(try Self.types(#"{"kind":[]}"#) == ["no-kind"])
    }

    @Test func theLastOfDuplicateKeysCounts() throws {
        #expect(try Self.types(#"{"kind":"order","kind":"audit"}"#) == ["prefixed", "audit"])
    }
}
