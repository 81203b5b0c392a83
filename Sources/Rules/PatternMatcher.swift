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
    static func matches(_ pattern: ObjectPattern, in view: JSONView) -> Bool {
        matchObject(pattern, view, JSONDocument.rootIndex)
    }

    /// `node` nil means the value is absent.
    static func matchObject(_ pattern: ObjectPattern, _ doc: JSONView, _ node: Int?) -> Bool {
        var object: Int?
        if let node {
            switch doc.kind(at: node) {
            case .array:
                var elements = FlatElements(doc, node)
                var sawElement = false
                while let element = elements.next() {
                    sawElement = true
                    if matchObject(pattern, doc, element) { return true }
                }
                return sawElement ? false : matchObject(pattern, doc, nil)
            case .object: object = node
            default: object = nil
            }
        }
        for field in pattern.fields {
            var child: Int?
            if let object { child = doc.member(of: object, key: field.key.buffer) }
            switch field.condition {
            case .nested(let nested):
                if !matchObject(nested, doc, child) { return false }
            case .leaf(let leaf):
                if !matchLeaf(leaf, doc, child) { return false }
            }
        }
        for alternatives in pattern.alternatives {
            var any = false
            for alternative in alternatives where matchObject(alternative, doc, node) {
                any = true
                break
            }
            if !any { return false }
        }
        return true
    }

    /// The non-array elements of an array, nested arrays flattened, in order.
    struct FlatElements {
        let doc: JSONView
        /// The open arrays: the next index to look at and the end of each.
        private var stack: [(next: Int, end: Int)] = []

        init(_ doc: JSONView, _ array: Int) {
            self.doc = doc
            if let range = doc.elementRange(of: array) { stack.append((range.first, range.end)) }
        }

        mutating func next() -> Int? {
            while let top = stack.last {
                if top.next >= top.end {
                    stack.removeLast()
                    continue
                }
                let index = top.next
                stack[stack.count - 1].next = doc.indexAfter(index)
                if let range = doc.elementRange(of: index) {
                    stack.append((range.first, range.end))
                    continue
                }
                return index
            }
            return nil
        }
    }

    static func matchLeaf(_ leaf: LeafCondition, _ doc: JSONView, _ node: Int?) -> Bool {
        guard let node else { return leaf.matchesAbsent }
        switch doc.kind(at: node) {
        case .object:
            return leaf.matchesAbsent
        case .array:
            var elements = FlatElements(doc, node)
            var sawLeaf = false
            while let element = elements.next() {
                if doc.kind(at: element) == .object { continue }
                sawLeaf = true
                if leaf.matchesAnyValue || matchAny(leaf.matchers, doc, element) { return true }
            }
            return sawLeaf ? false : leaf.matchesAbsent
        default:
            return leaf.matchesAnyValue || matchAny(leaf.matchers, doc, node)
        }
    }

    @inline(__always)
    static func matchAny(_ matchers: [ValueMatcher], _ doc: JSONView, _ node: Int) -> Bool {
        for matcher in matchers where matchValue(matcher, doc, node) { return true }
        return false
    }

    static func matchValue(_ matcher: ValueMatcher, _ doc: JSONView, _ node: Int) -> Bool {
        switch matcher {
        case .string(let wanted):
            return doc.stringEquals(at: node, wanted.buffer)
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

    private static func isExcluded(_ excluded: AnythingBut, _ doc: JSONView, _ node: Int) -> Bool {
        switch excluded {
        case .strings(let values):
            guard doc.kind(at: node) == .string else { return false }
            for v in values where doc.stringEquals(at: node, v.buffer) { return true }
            return false
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
