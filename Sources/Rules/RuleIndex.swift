/// Skips, for one line, the rules it cannot match without trying them. Most rule sets tell
/// their lines apart by one top-level field of exact strings (`kind: ["order"]`,
/// `SYSLOG_IDENTIFIER: ["shop"]`): for the field that most rules require that way, the
/// index knows which rules each of the field's values leaves in play. A line is then tried
/// against those rules only, and against every rule that does not require the field.
///
/// It only ever skips a rule that would not match: a rule that requires the field to be
/// one of some strings matches no line whose field is another string, absent, `null`, a
/// number, a boolean or an object. A line whose field is an array (whose elements
/// EventBridge matches one by one) is tried against every rule.
struct RuleIndex: Sendable {
    /// The field's top-level slot in the program.
    private let slot: Int32
    /// The distinct values rules require, as byte ranges of the program's text.
    private let values: [PatternProgram.Range32]
    /// Row `v` (for `values[v]`), and a last row for any other value: one bit per rule,
    /// set when the rule may match.
    private let rows: [[UInt64]]

    /// The index of the rules whose pattern roots are `roots` (-1: no pattern), or nil when
    /// fewer than two rules require one same field.
    init?(roots: [Int32], program: PatternProgram.Storage) {
        let required = roots.map { Self.requiredValues(root: $0, program) }
        var rulesPerSlot: [Int32: Int] = [:]
        for case let (slot, _)? in required { rulesPerSlot[slot, default: 0] += 1 }
        guard let (slot, count) = rulesPerSlot.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), count >= 2 else {
            return nil
        }
        var values: [PatternProgram.Range32] = []
        for case let (s, texts)? in required where s == slot {
            for text in texts where !values.contains(where: { program.text($0).elementsEqual(program.text(text)) }) {
                values.append(text)
            }
        }
        let words = (roots.count + 63) / 64
        var rows = [[UInt64]](repeating: [UInt64](repeating: 0, count: words), count: values.count + 1)
        for (rule, requirement) in required.enumerated() {
            let bit = UInt64(1) << UInt64(rule % 64)
            for (row, value) in values.enumerated() {
                let allowed: Bool
                if let (s, texts) = requirement, s == slot {
                    allowed = texts.contains { program.text($0).elementsEqual(program.text(value)) }
                } else {
                    allowed = true
                }
                if allowed { rows[row][rule / 64] |= bit }
            }
            if requirement?.slot != slot { rows[values.count][rule / 64] |= bit }
        }
        self.slot = slot
        self.values = values
        self.rows = rows
    }

    /// The row of rules that may match the line `matcher` holds, or nil when every rule
    /// must be tried.
    func row(for matcher: PatternMatcher) -> Int? {
        let node = Int(matcher.slots[Int(slot)])
        guard node >= 0 else { return values.count }
        switch matcher.doc.kind(at: node) {
        case .array:
            return nil
        case .string:
            for (row, value) in values.enumerated() where matcher.doc.stringEquals(at: node, matcher.program.text(value)) {
                return row
            }
            return values.count
        default:
            return values.count
        }
    }

    /// Whether rule number `rule` may match a line of `row`.
    @inline(__always)
    func allows(row: Int, rule: Int) -> Bool {
        rows[row][rule >> 6] & (UInt64(1) << UInt64(rule & 63)) != 0
    }

    /// The top-level field a pattern requires to be one of some exact strings, with those
    /// strings: a field of the pattern's top level (not inside `$or`) whose leaf has only
    /// exact, case-sensitive string matchers and matches neither absence nor any value.
    private static func requiredValues(root: Int32, _ program: PatternProgram.Storage)
        -> (slot: Int32, texts: [PatternProgram.Range32])?
    {
        guard root >= 0 else { return nil }
        let object = program.objects[Int(root)]
        for field in program.fields[object.fields.range] where field.slot >= 0 && !field.isNested {
            let leaf = program.leaves[Int(field.target)]
            guard !leaf.matchesAbsent, !leaf.matchesAnyValue, leaf.matchers.count > 0 else { continue }
            let matchers = program.matchers[leaf.matchers.range]
            guard matchers.allSatisfy({ $0.op == .string }) else { continue }
            return (field.slot, matchers.map(\.operand))
        }
        return nil
    }
}
