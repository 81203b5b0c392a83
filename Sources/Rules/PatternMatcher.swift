import JSON

/// Matches a `PatternProgram`'s patterns against one parsed line, with EventBridge's
/// semantics:
///
/// - every field of a pattern object must match, and one alternative of each `$or`;
/// - a leaf field matches if one of its matchers matches one of the field's leaf values;
/// - an array in the line is crushed: a leaf field's values are the array's scalar
///   elements (nested arrays flattened), and a nested pattern matches if it matches one
///   element of the array as a whole (so two fields never match in different elements);
/// - a field whose value is an object is not a leaf: for a leaf pattern it is absent
///   (`exists: false` matches it, as the EventBridge guide's example shows);
/// - `null` is a value (not absence); numbers compare by value (`5` matches `5.0`).
///
/// A matcher lives for one line: it holds the line's top-level slots.
struct PatternMatcher {
    let program: PatternProgram.Storage
    let doc: JSONView
    /// The value index of each top-level slot in this line, or -1 when absent.
    let slots: UnsafeMutableBufferPointer<Int32>

    /// Calls `body` with a matcher for the line `doc`, its slots filled by one pass over
    /// the line's top-level members.
    static func with<R>(_ program: PatternProgram, _ doc: JSONView, _ body: (PatternMatcher) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(program.slotCount, 1)) { slots in
            slots.initialize(repeating: -1)
            let matcher = PatternMatcher(program: program.storage, doc: doc, slots: slots)
            matcher.fillSlots()
            return body(matcher)
        }
    }

    private func fillSlots() {
        guard let (first, end) = doc.memberRange(of: JSONDocument.rootIndex), !program.slotsByLength.isEmpty else { return }
        var i = first
        while i < end {
            let keyIndex = i
            doc.withStringBytes(at: keyIndex) { key in
                guard key.count < program.slotsByLength.count else { return }
                let run = program.slotsByLength[key.count]
                var k = Int(run.start)
                let runEnd = k + Int(run.count)
                while k < runEnd {
                    let slot = Int(program.slotOrder[k])
                    if equal(program.slotKeys[slot], key) { slots[slot] = Int32(keyIndex + 1) }
                    k += 1
                }
            }
            i = doc.indexAfter(i + 1)
        }
    }

    /// Whether the rule pattern whose top-level object is `root` matches the line.
    func matches(root: Int32) -> Bool {
        matchObject(root, JSONDocument.rootIndex, topLevel: true)
    }

    // MARK: Objects and fields

    /// `node` -1 means absent. `topLevel`: `node` is the line itself.
    private func matchObject(_ objectIndex: Int32, _ node: Int, topLevel: Bool) -> Bool {
        var object = -1
        if node >= 0 {
            switch doc.kind(at: node) {
            case .array:
                var sawElement = false
                if anyElement(of: node, matches: objectIndex, sawElement: &sawElement) { return true }
                return sawElement ? false : matchObject(objectIndex, -1, topLevel: false)
            case .object: object = node
            default: break
            }
        }
        let o = program.objects[Int(objectIndex)]
        var f = Int(o.fields.start)
        let fieldsEnd = f + Int(o.fields.count)
        while f < fieldsEnd {
            let field = program.fields[f]
            var child = -1
            if topLevel && field.slot >= 0 {
                child = Int(slots[Int(field.slot)])
            } else if object >= 0 {
                child = doc.member(of: object, key: program.text(field.key)) ?? -1
            }
            let ok = field.isNested
                ? matchObject(field.target, child, topLevel: false) : matchLeaf(program.leaves[Int(field.target)], child)
            if !ok { return false }
            f += 1
        }
        var g = Int(o.ors.start)
        let orsEnd = g + Int(o.ors.count)
        while g < orsEnd {
            let group = program.ors[g]
            var any = false
            var a = Int(group.start)
            let end = a + Int(group.count)
            while a < end, !any {
                any = matchObject(program.alternatives[a], node, topLevel: topLevel)
                a += 1
            }
            if !any { return false }
            g += 1
        }
        return true
    }

    /// Whether an element of the array at `array` (nested arrays flattened) matches the
    /// object pattern.
    private func anyElement(of array: Int, matches objectIndex: Int32, sawElement: inout Bool) -> Bool {
        guard let (first, end) = doc.elementRange(of: array) else { return false }
        var i = first
        while i < end {
            if doc.kind(at: i) == .array {
                if anyElement(of: i, matches: objectIndex, sawElement: &sawElement) { return true }
            } else {
                sawElement = true
                if matchObject(objectIndex, i, topLevel: false) { return true }
            }
            i = doc.indexAfter(i)
        }
        return false
    }

    private func matchLeaf(_ leaf: PatternProgram.LeafNode, _ node: Int) -> Bool {
        guard node >= 0 else { return leaf.matchesAbsent }
        switch doc.kind(at: node) {
        case .object:
            return leaf.matchesAbsent
        case .array:
            var sawLeaf = false
            if anyLeafValue(of: node, matches: leaf, sawLeaf: &sawLeaf) { return true }
            return sawLeaf ? false : leaf.matchesAbsent
        default:
            return leaf.matchesAnyValue || matchAny(leaf.matchers, node)
        }
    }

    private func anyLeafValue(of array: Int, matches leaf: PatternProgram.LeafNode, sawLeaf: inout Bool) -> Bool {
        guard let (first, end) = doc.elementRange(of: array) else { return false }
        var i = first
        while i < end {
            switch doc.kind(at: i) {
            case .array:
                if anyLeafValue(of: i, matches: leaf, sawLeaf: &sawLeaf) { return true }
            case .object:
                break
            default:
                sawLeaf = true
                if leaf.matchesAnyValue || matchAny(leaf.matchers, i) { return true }
            }
            i = doc.indexAfter(i)
        }
        return false
    }

    private func matchAny(_ matchers: PatternProgram.Range32, _ node: Int) -> Bool {
        var m = Int(matchers.start)
        let end = m + Int(matchers.count)
        while m < end {
            if matchValue(program.matchers[m], node) { return true }
            m += 1
        }
        return false
    }

    // MARK: Values

    private func matchValue(_ m: PatternProgram.MatcherNode, _ node: Int) -> Bool {
        switch m.op {
        case .string:
            return doc.stringEquals(at: node, program.text(m.operand))
        case .number:
            return doc.double(at: node) == m.low
        case .bool:
            return doc.bool(at: node) == (m.low != 0)
        case .null:
            return doc.kind(at: node) == .null
        case .prefix:
            return doc.withStringBytes(at: node) { hasPrefix($0, m) } ?? false
        case .suffix:
            return doc.withStringBytes(at: node) { hasSuffix($0, m) } ?? false
        case .equalsIgnoreCase:
            return doc.withStringBytes(at: node) { equalsFolded($0, program.text(m.operand), ascii: m.ascii) } ?? false
        case .wildcard:
            return doc.withStringBytes(at: node) { anyWildcard(m.operand, $0) } ?? false
        case .numeric:
            guard let value = doc.double(at: node) else { return false }
            return (m.lowInclusive ? value >= m.low : value > m.low) && (m.highInclusive ? value <= m.high : value < m.high)
        case .cidr:
            let block = program.cidrs[Int(m.operand.start)]
            return doc.withStringBytes(at: node) { IPAddress($0).map(block.contains) ?? false } ?? false
        case .butStrings:
            guard doc.kind(at: node) == .string else { return true }
            var r = Int(m.operand.start)
            let end = r + Int(m.operand.count)
            while r < end {
                if doc.stringEquals(at: node, program.text(program.ranges[r])) { return false }
                r += 1
            }
            return true
        case .butNumbers:
            guard let value = doc.double(at: node) else { return true }
            return !program.numbers[m.operand.range].contains(value)
        case .butPrefix:
            return !(doc.withStringBytes(at: node) { hasPrefix($0, m) } ?? false)
        case .butSuffix:
            return !(doc.withStringBytes(at: node) { hasSuffix($0, m) } ?? false)
        case .butEqualsIgnoreCase:
            let excluded = doc.withStringBytes(at: node) { value in
                program.ranges[m.operand.range].contains { equalsFolded(value, program.text($0), ascii: m.ascii) }
            }
            return !(excluded ?? false)
        case .butWildcards:
            return !(doc.withStringBytes(at: node) { anyWildcard(m.operand, $0) } ?? false)
        }
    }

    // MARK: Text comparisons, exact or ignoring case

    private func hasPrefix(_ value: UnsafeBufferPointer<UInt8>, _ m: PatternProgram.MatcherNode) -> Bool {
        let text = program.text(m.operand)
        if !m.ignoreCase { return value.count >= text.count && equal(text, UnsafeBufferPointer(rebasing: value[0..<text.count])) }
        if m.ascii, isASCII(value) {
            guard value.count >= text.count else { return false }
            for k in 0..<text.count where lowerASCII(value[k]) != text[k] { return false }
            return true
        }
        return folded(value).starts(with: text)
    }

    private func hasSuffix(_ value: UnsafeBufferPointer<UInt8>, _ m: PatternProgram.MatcherNode) -> Bool {
        let text = program.text(m.operand)
        if !m.ignoreCase {
            return value.count >= text.count && equal(text, UnsafeBufferPointer(rebasing: value[(value.count - text.count)...]))
        }
        if m.ascii, isASCII(value) {
            guard value.count >= text.count else { return false }
            let offset = value.count - text.count
            for k in 0..<text.count where lowerASCII(value[offset + k]) != text[k] { return false }
            return true
        }
        let f = folded(value)
        return f.count >= text.count && f[(f.count - text.count)...].elementsEqual(text)
    }

    private func equalsFolded(_ value: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>, ascii: Bool) -> Bool {
        if ascii, isASCII(value) {
            guard value.count == text.count else { return false }
            for k in 0..<value.count where lowerASCII(value[k]) != text[k] { return false }
            return true
        }
        return folded(value).elementsEqual(text)
    }

    private func anyWildcard(_ list: PatternProgram.Range32, _ value: UnsafeBufferPointer<UInt8>) -> Bool {
        program.wildcards[list.range].contains { wildcardMatches($0, value) }
    }

    /// Whether `value` matches the whole wildcard: the first piece is a prefix (unless the
    /// pattern starts with a star), the last a suffix (unless it ends with one), and the
    /// pieces between are found in order; leftmost matching is exact for `*`-only patterns.
    private func wildcardMatches(_ w: PatternProgram.WildcardNode, _ value: UnsafeBufferPointer<UInt8>) -> Bool {
        let pieces = program.ranges[w.pieces.range]
        guard let firstPiece = pieces.first, let lastPiece = pieces.last else { return false }
        if pieces.count == 1 && !w.startsWithStar { return equal(program.text(firstPiece), value) }
        var position = 0
        var end = value.count
        var firstIndex = pieces.startIndex
        var lastIndex = pieces.endIndex
        if !w.startsWithStar {
            let p = program.text(firstPiece)
            guard value.count >= p.count, equal(p, UnsafeBufferPointer(rebasing: value[0..<p.count])) else { return false }
            position = p.count
            firstIndex += 1
        }
        if !w.endsWithStar {
            let p = program.text(lastPiece)
            guard end - position >= p.count, equal(p, UnsafeBufferPointer(rebasing: value[(end - p.count)..<end])) else {
                return false
            }
            end -= p.count
            lastIndex -= 1
        }
        var k = firstIndex
        while k < lastIndex {
            let p = program.text(pieces[k])
            if !p.isEmpty {
                guard let found = find(p, in: value, from: position, to: end) else { return false }
                position = found + p.count
            }
            k += 1
        }
        return position <= end
    }

    private func find(_ piece: UnsafeBufferPointer<UInt8>, in text: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard to - from >= piece.count else { return nil }
        var i = from
        while i <= to - piece.count {
            if text[i] == piece[0], equal(piece, UnsafeBufferPointer(rebasing: text[i..<(i + piece.count)])) { return i }
            i += 1
        }
        return nil
    }

    @inline(__always)
    private func equal(_ a: PatternProgram.Range32, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        equal(program.text(a), b)
    }

    @inline(__always)
    private func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        guard let x = a.baseAddress, let y = b.baseAddress else { return true }
        return ByteCompare.equal(x, y, count: a.count)
    }

    @inline(__always)
    private func lowerASCII(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
    }

    private func isASCII(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        value.allSatisfy { $0 < 0x80 }
    }

    private func folded(_ value: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        Array(String(decoding: value, as: UTF8.self).lowercased().utf8)
    }
}
