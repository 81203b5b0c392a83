import JSON

/// Matches compiled event patterns against a parsed line, with EventBridge's semantics:
///
/// - every field of a pattern object must match, and one alternative of each `$or`;
/// - a leaf field matches if one of its matchers matches one of the field's leaf values;
/// - an array in the event is crushed: a leaf field's values are the array's scalar
///   elements (nested arrays flattened), and a nested pattern matches if it matches one
///   element of the array as a whole (so two fields never match in different elements);
/// - a field whose value is an object is not a leaf: for a leaf pattern it is absent
///   (`exists: false` matches it, as the EventBridge guide's example shows);
/// - `null` is a value (not absence); numbers compare by value (`5` matches `5.0`).
enum PatternMatcher {
    static func matches(_ pattern: ObjectPattern, in document: JSONDocument) -> Bool {
        matchObject(pattern, document, JSONDocument.rootIndex)
    }

    /// `node` nil means the value is absent.
    static func matchObject(_ pattern: ObjectPattern, _ doc: JSONDocument, _ node: Int?) -> Bool {
        if let node, doc.kind(at: node) == .array {
            var sawElement = false
            var matched = false
            forEachFlattened(doc, node) { element in
                sawElement = true
                matched = matchObject(pattern, doc, element)
                return !matched
            }
            return sawElement ? matched : matchObject(pattern, doc, nil)
        }
        let object: Int? = node.flatMap { doc.kind(at: $0) == .object ? $0 : nil }
        for field in pattern.fields {
            let child: Int? = object.flatMap { o in field.key.withUnsafeBufferPointer { doc.member(of: o, key: $0) } }
            switch field.condition {
            case .nested(let nested):
                if !matchObject(nested, doc, child) { return false }
            case .leaf(let leaf):
                if !matchLeaf(leaf, doc, child) { return false }
            }
        }
        for alternatives in pattern.alternatives where !alternatives.contains(where: { matchObject($0, doc, node) }) {
            return false
        }
        return true
    }

    /// Calls `body` with each non-array element of the array at `index`, descending into
    /// nested arrays, until it returns false. Returns false if stopped.
    @discardableResult
    static func forEachFlattened(_ doc: JSONDocument, _ index: Int, _ body: (Int) -> Bool) -> Bool {
        var goOn = true
        doc.forEachElement(of: index) { element in
            if doc.kind(at: element) == .array {
                goOn = forEachFlattened(doc, element, body)
            } else {
                goOn = body(element)
            }
            return goOn
        }
        return goOn
    }

    static func matchLeaf(_ leaf: LeafCondition, _ doc: JSONDocument, _ node: Int?) -> Bool {
        guard let node else { return leaf.matchesAbsent }
        switch doc.kind(at: node) {
        case .object:
            return leaf.matchesAbsent
        case .array:
            var sawLeaf = false
            var matched = false
            forEachFlattened(doc, node) { element in
                guard doc.kind(at: element) != .object else { return true }
                sawLeaf = true
                matched = leaf.matchesAnyValue || leaf.matchers.contains { matchValue($0, doc, element) }
                return !matched
            }
            return sawLeaf ? matched : leaf.matchesAbsent
        default:
            return leaf.matchesAnyValue || leaf.matchers.contains { matchValue($0, doc, node) }
        }
    }

    static func matchValue(_ matcher: ValueMatcher, _ doc: JSONDocument, _ node: Int) -> Bool {
        switch matcher {
        case .string(let wanted):
            return wanted.withUnsafeBufferPointer { doc.stringEquals(at: node, $0) }
        case .number(let wanted):
            return doc.double(at: node) == wanted
        case .bool(let wanted):
            return doc.bool(at: node) == wanted
        case .null:
            return doc.kind(at: node) == .null
        case .prefix(let text):
            return doc.withStringBytes(at: node) { hasPrefix($0, text) } ?? false
        case .suffix(let text):
            return doc.withStringBytes(at: node) { hasSuffix($0, text) } ?? false
        case .equalsIgnoreCase(let text):
            return doc.withStringBytes(at: node) { equalsFolded($0, text) } ?? false
        case .wildcard(let wildcard):
            return doc.withStringBytes(at: node) { wildcard.matches($0) } ?? false
        case .numeric(let range):
            guard let value = doc.double(at: node) else { return false }
            return range.contains(value)
        case .cidr(let block):
            return doc.withStringBytes(at: node) { bytes in IPAddress(bytes).map(block.contains) ?? false } ?? false
        case .anythingBut(let excluded):
            return !isExcluded(excluded, doc, node)
        }
    }

    private static func isExcluded(_ excluded: AnythingBut, _ doc: JSONDocument, _ node: Int) -> Bool {
        switch excluded {
        case .strings(let values):
            guard doc.kind(at: node) == .string else { return false }
            return values.contains { v in v.withUnsafeBufferPointer { doc.stringEquals(at: node, $0) } }
        case .numbers(let values):
            guard let value = doc.double(at: node) else { return false }
            return values.contains(value)
        case .prefix(let text):
            return doc.withStringBytes(at: node) { hasPrefix($0, text) } ?? false
        case .suffix(let text):
            return doc.withStringBytes(at: node) { hasSuffix($0, text) } ?? false
        case .equalsIgnoreCase(let texts):
            return doc.withStringBytes(at: node) { bytes in texts.contains { equalsFolded(bytes, $0) } } ?? false
        case .wildcard(let wildcards):
            return doc.withStringBytes(at: node) { bytes in wildcards.contains { $0.matches(bytes) } } ?? false
        }
    }

    // MARK: Text comparisons, exact or ignoring case

    private static func hasPrefix(_ value: UnsafeBufferPointer<UInt8>, _ text: CaseText) -> Bool {
        if !text.ignoreCase { return value.starts(with: text.bytes) }
        if text.isASCII, isASCII(value) {
            guard value.count >= text.bytes.count else { return false }
            for k in 0..<text.bytes.count where lowerASCII(value[k]) != text.bytes[k] { return false }
            return true
        }
        return folded(value).starts(with: text.bytes)
    }

    private static func hasSuffix(_ value: UnsafeBufferPointer<UInt8>, _ text: CaseText) -> Bool {
        if !text.ignoreCase {
            return value.count >= text.bytes.count && value[(value.count - text.bytes.count)...].elementsEqual(text.bytes)
        }
        if text.isASCII, isASCII(value) {
            guard value.count >= text.bytes.count else { return false }
            let offset = value.count - text.bytes.count
            for k in 0..<text.bytes.count where lowerASCII(value[offset + k]) != text.bytes[k] { return false }
            return true
        }
        let f = folded(value)
        return f.count >= text.bytes.count && f[(f.count - text.bytes.count)...].elementsEqual(text.bytes)
    }

    private static func equalsFolded(_ value: UnsafeBufferPointer<UInt8>, _ text: CaseText) -> Bool {
        if text.isASCII, isASCII(value) {
            guard value.count == text.bytes.count else { return false }
            for k in 0..<value.count where lowerASCII(value[k]) != text.bytes[k] { return false }
            return true
        }
        return folded(value).elementsEqual(text.bytes)
    }

    @inline(__always)
    private static func lowerASCII(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
    }

    private static func isASCII(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        value.allSatisfy { $0 < 0x80 }
    }

    private static func folded(_ value: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        Array(String(decoding: value, as: UTF8.self).lowercased().utf8)
    }
}
