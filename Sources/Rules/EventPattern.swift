import Config
import JSON

/// A validated Amazon EventBridge event pattern (see docs/rules.md): an object pattern whose
/// fields must all match, each field either a nested object pattern or a list of value
/// matchers of which one must match, plus `$or` groups. `PatternCompiler` builds it from
/// the configuration; `PatternProgram` flattens it for matching.
final class ObjectPattern: Sendable {
    let fields: [FieldPattern]
    /// Each `$or` at this level: at least one of its patterns must match.
    let alternatives: [[ObjectPattern]]

    init(fields: [FieldPattern], alternatives: [[ObjectPattern]]) {
        self.fields = fields
        self.alternatives = alternatives
    }
}

/// One field of an object pattern.
struct FieldPattern: Sendable {
    enum Condition: Sendable {
        case nested(ObjectPattern)
        /// The field's leaf values must satisfy at least one matcher.
        case leaf(LeafCondition)
    }

    let key: [UInt8]
    let condition: Condition
}

/// The matchers of a leaf field, split by what they need from the event.
struct LeafCondition: Sendable {
    let matchers: [ValueMatcher]
    /// Whether an `exists: false` matcher is present (the field may be absent).
    let matchesAbsent: Bool
    /// Whether an `exists: true` matcher is present (any leaf value will do).
    let matchesAnyValue: Bool
}

/// A test on one leaf value of the event.
enum ValueMatcher: Sendable {
    case string([UInt8])
    case number(Double)
    case bool(Bool)
    case null
    case prefix(CaseText)
    case suffix(CaseText)
    case equalsIgnoreCase(CaseText)
    case wildcard(Wildcard)
    case numeric(NumericRange)
    case cidr(CIDRBlock)
    case anythingBut(AnythingBut)
}

/// A text to compare with, either exactly or ignoring case (then stored lower-cased).
struct CaseText: Sendable {
    let bytes: [UInt8]
    let ignoreCase: Bool
    /// Whether the text is ASCII (then case folding is a byte operation).
    let isASCII: Bool

    init(_ text: String, ignoreCase: Bool) {
        let folded = ignoreCase ? text.lowercased() : text
        self.bytes = Array(folded.utf8)
        self.ignoreCase = ignoreCase
        self.isASCII = text.utf8.allSatisfy { $0 < 0x80 }
    }
}

/// `anything-but`: matches a present leaf value that is none of these.
enum AnythingBut: Sendable {
    case strings([[UInt8]])
    case numbers([Double])
    case prefix(CaseText)
    case suffix(CaseText)
    case equalsIgnoreCase([CaseText])
    case wildcard([Wildcard])
}

/// A numeric range with optional bounds; `=` is a range with equal inclusive bounds.
struct NumericRange: Sendable {
    var lower: Double = -.infinity
    var lowerInclusive = true
    var upper: Double = .infinity
    var upperInclusive = true

    func contains(_ value: Double) -> Bool {
        (lowerInclusive ? value >= lower : value > lower) && (upperInclusive ? value <= upper : value < upper)
    }
}

/// A `wildcard` pattern: `*` matches any run of characters (also none); `\*` is a literal
/// star and `\\` a literal backslash.
struct Wildcard: Sendable {
    /// The literal pieces between stars, in order.
    let pieces: [[UInt8]]
    let startsWithStar: Bool
    let endsWithStar: Bool

    /// Parses a wildcard pattern; the error explains what is wrong.
    static func parse(_ text: String) -> Result<Wildcard, PatternError> {
        var pieces: [[UInt8]] = []
        var current: [UInt8] = []
        var startsWithStar = false
        var previousWasStar = false
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "*") || bytes[i + 1] == UInt8(ascii: "\\") else {
                    return .failure(PatternError("in a wildcard, a backslash may only escape * or \\"))
                }
                current.append(bytes[i + 1])
                i += 2
                previousWasStar = false
                continue
            }
            if b == UInt8(ascii: "*") {
                if previousWasStar { return .failure(PatternError("a wildcard may not have two * in a row")) }
                if i == 0 { startsWithStar = true } else { pieces.append(current) }
                current = []
                previousWasStar = true
                i += 1
                continue
            }
            current.append(b)
            previousWasStar = false
            i += 1
        }
        pieces.append(current)
        return .success(Wildcard(pieces: pieces, startsWithStar: startsWithStar, endsWithStar: previousWasStar))
    }
}

/// Why a pattern is invalid, with the key path inside the pattern where it was found.
struct PatternError: Error {
    var message: String
    /// The path below the pattern's own path (`order.total.0`), filled in as the error
    /// travels up.
    var subPath: [String] = []

    init(_ message: String) { self.message = message }
}

/// Compiles EventBridge patterns (as `JSONValue` trees from the configuration), checking
/// every operator the way EventBridge does when a rule is created.
enum PatternCompiler {
    static let operators = [
        "prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr",
    ]

    /// Compiles the pattern at `path` (e.g. `rules.2.match`), turning problems into
    /// `ConfigError`s located through `locations`.
    static func compile(_ pattern: JSONValue, path: String, locations: SourceLocations) throws(ConfigError) -> ObjectPattern {
        do throws(PatternError) {
            guard case .object(let object) = pattern else { throw PatternError("an event pattern must be an object") }
            return try compileObject(object)
        } catch {
            let fullPath = ([path] + error.subPath).joined(separator: ".")
            throw ConfigError(location: locations.valueLocation(of: fullPath), keyPath: fullPath, message: error.message)
        }
    }

    private static func at<T>(_ key: String, _ body: () throws(PatternError) -> T) throws(PatternError) -> T {
        do throws(PatternError) {
            return try body()
        } catch {
            var e = error
            e.subPath.insert(key, at: 0)
            throw e
        }
    }

    static func compileObject(_ object: JSONObject) throws(PatternError) -> ObjectPattern {
        guard !object.isEmpty else {
            throw PatternError("an empty pattern object matches nothing in particular; give it fields or remove it")
        }
        var fields: [FieldPattern] = []
        var alternatives: [[ObjectPattern]] = []
        for member in object.members {
            let key = member.key
            if key == "$or" {
                alternatives.append(try at(key) { () throws(PatternError) in try compileOr(member.value) })
                continue
            }
            let condition: FieldPattern.Condition = try at(key) { () throws(PatternError) in
                switch member.value {
                case .object(let nested):
                    return .nested(try compileObject(nested))
                case .array(let items):
                    return .leaf(try compileLeaf(items))
                default:
                    throw PatternError(
                        "a pattern value must be a list of values (like [\"x\"]) or an object of fields, found \(describe(member.value))")
                }
            }
            fields.append(FieldPattern(key: Array(key.utf8), condition: condition))
        }
        return ObjectPattern(fields: fields, alternatives: alternatives)
    }

    private static func compileOr(_ value: JSONValue) throws(PatternError) -> [ObjectPattern] {
        guard case .array(let items) = value, items.count >= 2 else {
            throw PatternError("$or must be a list of at least two pattern objects")
        }
        var out: [ObjectPattern] = []
        for (i, item) in items.enumerated() {
            try at(String(i)) { () throws(PatternError) in
                guard case .object(let object) = item else {
                    throw PatternError("each $or alternative must be a pattern object, found \(describe(item))")
                }
                out.append(try compileObject(object))
            }
        }
        return out
    }

    private static func compileLeaf(_ items: [JSONValue]) throws(PatternError) -> LeafCondition {
        guard !items.isEmpty else { throw PatternError("an empty list matches nothing; give at least one value") }
        var matchers: [ValueMatcher] = []
        var matchesAbsent = false
        var matchesAnyValue = false
        for (i, item) in items.enumerated() {
            try at(String(i)) { () throws(PatternError) in
                switch item {
                case .string(let s): matchers.append(.string(Array(s.utf8)))
                case .number(let n): matchers.append(.number(try finite(n)))
                case .bool(let b): matchers.append(.bool(b))
                case .null: matchers.append(.null)
                case .array: throw PatternError("a list inside a list of values is not allowed")
                case .object(let object):
                    guard object.members.count == 1, let member = object.members.first else {
                        throw PatternError(
                            "an operator object must have exactly one key (one of \(operators.joined(separator: ", ")))")
                    }
                    if member.key == "exists" {
                        guard case .bool(let exists) = member.value else {
                            throw PatternError("exists must be true or false, found \(describe(member.value))")
                        }
                        if exists { matchesAnyValue = true } else { matchesAbsent = true }
                    } else {
                        matchers.append(try compileOperator(member.key, member.value))
                    }
                }
            }
        }
        return LeafCondition(matchers: matchers, matchesAbsent: matchesAbsent, matchesAnyValue: matchesAnyValue)
    }

    private static func finite(_ n: JSONNumber) throws(PatternError) -> Double {
        let d = n.double
        guard d.isFinite else { throw PatternError("the number \(n.text) is too large") }
        return d
    }

    private static func compileOperator(_ name: String, _ value: JSONValue) throws(PatternError) -> ValueMatcher {
        switch name {
        case "prefix": return .prefix(try caseText(value, operator: "prefix"))
        case "suffix": return .suffix(try caseText(value, operator: "suffix"))
        case "equals-ignore-case":
            guard case .string(let s) = value else {
                throw PatternError("equals-ignore-case takes a string, found \(describe(value))")
            }
            return .equalsIgnoreCase(CaseText(s, ignoreCase: true))
        case "wildcard":
            guard case .string(let s) = value else { throw PatternError("wildcard takes a string, found \(describe(value))") }
            return .wildcard(try wildcard(s))
        case "numeric": return .numeric(try numeric(value))
        case "cidr":
            guard case .string(let s) = value, let block = CIDRBlock(s) else {
                throw PatternError("cidr takes an IP network like \"10.0.0.0/24\" or \"2001:db8::/32\", found \(describe(value))")
            }
            return .cidr(block)
        case "anything-but": return .anythingBut(try anythingBut(value))
        default:
            var message = "unknown operator '\(name)'; the operators are \(operators.joined(separator: ", "))"
            if name == "$or" { message = "$or belongs at the level of fields, not inside a list of values" }
            throw PatternError(message)
        }
    }

    /// The value of `prefix`/`suffix`: a string, or `{"equals-ignore-case": string}`.
    private static func caseText(_ value: JSONValue, operator name: String) throws(PatternError) -> CaseText {
        switch value {
        case .string(let s): return CaseText(s, ignoreCase: false)
        case .object(let object):
            guard object.members.count == 1, let member = object.members.first, member.key == "equals-ignore-case",
                case .string(let s) = member.value
            else {
                throw PatternError("\(name) takes a string or {\"equals-ignore-case\": string}")
            }
            return CaseText(s, ignoreCase: true)
        default: throw PatternError("\(name) takes a string, found \(describe(value))")
        }
    }

    private static func wildcard(_ text: String) throws(PatternError) -> Wildcard {
        switch Wildcard.parse(text) {
        case .success(let w): return w
        case .failure(let e): throw e
        }
    }

    private static func numeric(_ value: JSONValue) throws(PatternError) -> NumericRange {
        let usage = "numeric takes operator/number pairs: [\"=\", 5], [\">\", 0], [\">=\", 0, \"<\", 10]"
        guard case .array(let items) = value, !items.isEmpty, items.count % 2 == 0, items.count <= 4 else {
            throw PatternError(usage)
        }
        var range = NumericRange()
        var sawLower = false
        var sawUpper = false
        for pair in stride(from: 0, to: items.count, by: 2) {
            guard case .string(let op) = items[pair], case .number(let n) = items[pair + 1] else {
                throw PatternError(usage)
            }
            let bound = try finite(n)
            switch op {
            case "=":
                guard items.count == 2 else { throw PatternError("numeric \"=\" stands alone: [\"=\", 5]") }
                range = NumericRange(lower: bound, lowerInclusive: true, upper: bound, upperInclusive: true)
            case ">", ">=":
                guard !sawLower else { throw PatternError("numeric has two lower bounds (> or >=)") }
                sawLower = true
                range.lower = bound
                range.lowerInclusive = op == ">="
            case "<", "<=":
                guard !sawUpper else { throw PatternError("numeric has two upper bounds (< or <=)") }
                sawUpper = true
                range.upper = bound
                range.upperInclusive = op == "<="
            default:
                throw PatternError("unknown numeric operator '\(op)'; use =, <, <=, > or >=")
            }
        }
        if range.lower > range.upper || (range.lower == range.upper && !(range.lowerInclusive && range.upperInclusive)) {
            throw PatternError("this numeric range is empty: no number is in it")
        }
        return range
    }

    private static func anythingBut(_ value: JSONValue) throws(PatternError) -> AnythingBut {
        switch value {
        case .string(let s): return .strings([Array(s.utf8)])
        case .number(let n): return .numbers([try finite(n)])
        case .array(let items):
            guard !items.isEmpty else { throw PatternError("anything-but needs at least one value") }
            if items.allSatisfy({ if case .string = $0 { return true } else { return false } }) {
                return .strings(items.compactMap { if case .string(let s) = $0 { return Array(s.utf8) } else { return nil } })
            }
            if items.allSatisfy({ if case .number = $0 { return true } else { return false } }) {
                var numbers: [Double] = []
                for case .number(let n) in items { numbers.append(try finite(n)) }
                return .numbers(numbers)
            }
            throw PatternError("an anything-but list must hold only strings or only numbers")
        case .object(let object):
            guard object.members.count == 1, let member = object.members.first else {
                throw PatternError("anything-but takes one of prefix, suffix, equals-ignore-case or wildcard")
            }
            return try at(member.key) { () throws(PatternError) -> AnythingBut in
                switch member.key {
                case "prefix", "suffix":
                    guard case .string(let s) = member.value, !s.isEmpty else {
                        throw PatternError("anything-but \(member.key) takes a non-empty string, found \(describe(member.value))")
                    }
                    let text = CaseText(s, ignoreCase: false)
                    return member.key == "prefix" ? .prefix(text) : .suffix(text)
                case "equals-ignore-case":
                    return .equalsIgnoreCase(try strings(member.value, operator: "anything-but equals-ignore-case").map {
                        CaseText($0, ignoreCase: true)
                    })
                case "wildcard":
                    var out: [Wildcard] = []
                    for s in try strings(member.value, operator: "anything-but wildcard") { out.append(try wildcard(s)) }
                    return .wildcard(out)
                default:
                    throw PatternError("anything-but takes one of prefix, suffix, equals-ignore-case or wildcard, found '\(member.key)'")
                }
            }
        case .bool, .null:
            throw PatternError("anything-but takes strings or numbers, not \(describe(value))")
        }
    }

    private static func strings(_ value: JSONValue, operator name: String) throws(PatternError) -> [String] {
        switch value {
        case .string(let s): return [s]
        case .array(let items) where !items.isEmpty:
            var out: [String] = []
            for case .string(let s) in items { out.append(s) }
            guard out.count == items.count else { throw PatternError("\(name) takes a string or a list of strings") }
            return out
        default: throw PatternError("\(name) takes a string or a list of strings, found \(describe(value))")
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let n): return "the number \(n.text)"
        case .string(let s): return "the string \"\(s)\""
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
