/// All the event patterns of a rule set, flattened into arrays of plain values (indices and
/// byte ranges into one byte arena) so that matching a line walks them without reference
/// counting or allocation. Fields of the patterns' top-level objects also get a *slot*:
/// per line, one pass over the line's top-level members finds every top-level field any
/// rule asks for, instead of each rule searching the line again.
///
/// Built once by `PatternProgram.Builder` from validated `ObjectPattern`s; immutable.
final class PatternProgram: Sendable {
    struct Range32: Sendable {
        var start: Int32
        var count: Int32
        static let empty = Range32(start: 0, count: 0)
        var range: Range<Int> { Int(start)..<Int(start + count) }
    }

    struct ObjectNode: Sendable {
        /// Into `fields`.
        var fields: Range32
        /// Into `ors`: each `$or` at this level.
        var ors: Range32
    }

    struct FieldNode: Sendable {
        /// The field name, in `bytes`.
        var key: Range32
        /// The top-level slot of this field, or -1 when it is not a top-level field.
        var slot: Int32
        var isNested: Bool
        /// An index into `objects` (nested) or `leaves`.
        var target: Int32
    }

    struct LeafNode: Sendable {
        /// Into `matchers`.
        var matchers: Range32
        var matchesAbsent: Bool
        var matchesAnyValue: Bool
    }

    enum Op: UInt8, Sendable {
        case string, number, bool, null, prefix, suffix, equalsIgnoreCase, wildcard, numeric, cidr
        case butStrings, butNumbers, butPrefix, butSuffix, butEqualsIgnoreCase, butWildcards
    }

    /// One value test. `operand` is a byte range (strings, prefixes), a range of `ranges`
    /// (string lists), of `numbers`, of `wildcards`, or an index into `cidrs`, by `op`.
    struct MatcherNode: Sendable {
        var op: Op
        var ignoreCase = false
        /// The operand text is ASCII (then case folding is a byte operation).
        var ascii = true
        var operand = Range32.empty
        var low: Double = 0
        var high: Double = 0
        var lowInclusive = true
        var highInclusive = true
    }

    struct WildcardNode: Sendable {
        /// Into `ranges`: the literal pieces between stars.
        var pieces: Range32
        var startsWithStar: Bool
        var endsWithStar: Bool
    }

    /// The program's arrays at stable addresses, for the matcher.
    let storage: Storage

    /// The program's arrays, allocated once and never changed, read through unsafe
    /// buffers so that matching does no reference counting.
    struct Storage: @unchecked Sendable {
        // Safe to share: every buffer is written once, in `PatternProgram.init`, and only
        // read afterwards; the `PatternProgram` that owns them frees them in `deinit`,
        // and a `Storage` is only used while its program is alive (matching borrows the
        // program).
        let bytes: UnsafeBufferPointer<UInt8>
        let objects: UnsafeBufferPointer<ObjectNode>
        let fields: UnsafeBufferPointer<FieldNode>
        /// Each `$or`: a range of `alternatives`.
        let ors: UnsafeBufferPointer<Range32>
        /// Object indices.
        let alternatives: UnsafeBufferPointer<Int32>
        let leaves: UnsafeBufferPointer<LeafNode>
        let matchers: UnsafeBufferPointer<MatcherNode>
        /// Byte ranges (string lists, wildcard pieces).
        let ranges: UnsafeBufferPointer<Range32>
        let numbers: UnsafeBufferPointer<Double>
        let wildcards: UnsafeBufferPointer<WildcardNode>
        let cidrs: UnsafeBufferPointer<CIDRBlock>
        /// The top-level field names, by slot.
        let slotKeys: UnsafeBufferPointer<Range32>
        /// For a key length, a range of `slotOrder`: the slots whose names have that length.
        let slotsByLength: UnsafeBufferPointer<Range32>
        let slotOrder: UnsafeBufferPointer<Int32>

        /// The bytes of a range of `bytes`.
        @inline(__always)
        func text(_ r: Range32) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: bytes[Int(r.start)..<Int(r.start + r.count)])
        }

        fileprivate func deallocate() {
            for pointer in [
                UnsafeRawPointer(bytes.baseAddress), UnsafeRawPointer(objects.baseAddress), UnsafeRawPointer(fields.baseAddress),
                UnsafeRawPointer(ors.baseAddress), UnsafeRawPointer(alternatives.baseAddress),
                UnsafeRawPointer(leaves.baseAddress), UnsafeRawPointer(matchers.baseAddress),
                UnsafeRawPointer(ranges.baseAddress), UnsafeRawPointer(numbers.baseAddress),
                UnsafeRawPointer(wildcards.baseAddress), UnsafeRawPointer(cidrs.baseAddress),
                UnsafeRawPointer(slotKeys.baseAddress), UnsafeRawPointer(slotsByLength.baseAddress),
                UnsafeRawPointer(slotOrder.baseAddress),
            ] {
                pointer.map { UnsafeMutableRawPointer(mutating: $0).deallocate() }
            }
        }
    }

    private static func stable<T>(_ array: [T]) -> UnsafeBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
        _ = buffer.initialize(from: array)
        return UnsafeBufferPointer(rebasing: buffer[0..<array.count])
    }

    fileprivate init(_ b: Builder) {
        // Slots ordered by name length, and for each length the run of them in that order.
        var lengths: [[Int32]] = []
        for (slot, key) in b.slotKeys.enumerated() {
            let length = Int(key.count)
            while lengths.count <= length { lengths.append([]) }
            lengths[length].append(Int32(slot))
        }
        var order: [Int32] = []
        var runs: [Range32] = []
        for slots in lengths {
            runs.append(Range32(start: Int32(order.count), count: Int32(slots.count)))
            order.append(contentsOf: slots)
        }
        storage = Storage(
            bytes: Self.stable(b.bytes), objects: Self.stable(b.objects), fields: Self.stable(b.fields),
            ors: Self.stable(b.ors), alternatives: Self.stable(b.alternatives), leaves: Self.stable(b.leaves),
            matchers: Self.stable(b.matchers), ranges: Self.stable(b.ranges), numbers: Self.stable(b.numbers),
            wildcards: Self.stable(b.wildcards), cidrs: Self.stable(b.cidrs), slotKeys: Self.stable(b.slotKeys),
            slotsByLength: Self.stable(runs), slotOrder: Self.stable(order))
    }

    deinit { storage.deallocate() }

    var slotCount: Int { storage.slotKeys.count }

    /// Collects validated patterns into a program.
    final class Builder {
        fileprivate var bytes: [UInt8] = []
        fileprivate var objects: [ObjectNode] = []
        fileprivate var fields: [FieldNode] = []
        fileprivate var ors: [Range32] = []
        fileprivate var alternatives: [Int32] = []
        fileprivate var leaves: [LeafNode] = []
        fileprivate var matchers: [MatcherNode] = []
        fileprivate var ranges: [Range32] = []
        fileprivate var numbers: [Double] = []
        fileprivate var wildcards: [WildcardNode] = []
        fileprivate var cidrs: [CIDRBlock] = []
        fileprivate var slotKeys: [Range32] = []
        private var slotByKey: [[UInt8]: Int32] = [:]

        /// Adds a rule's pattern; returns the index of its top-level object.
        func add(_ pattern: ObjectPattern) -> Int32 {
            object(pattern, topLevel: true)
        }

        func build() -> PatternProgram { PatternProgram(self) }

        private func text(_ b: [UInt8]) -> Range32 {
            let r = Range32(start: Int32(bytes.count), count: Int32(b.count))
            bytes.append(contentsOf: b)
            return r
        }

        /// The top-level slot of field `key`, made if it has none yet (pattern fields and
        /// the first step of template paths share them).
        func slot(for key: [UInt8]) -> Int32 {
            if let slot = slotByKey[key] { return slot }
            let slot = Int32(slotKeys.count)
            slotKeys.append(text(key))
            slotByKey[key] = slot
            return slot
        }

        /// `topLevel`: the object is matched against the line itself (a rule's pattern, or
        /// an alternative of one of its top-level `$or`s).
        private func object(_ pattern: ObjectPattern, topLevel: Bool) -> Int32 {
            let index = Int32(objects.count)
            let fieldStart = Int32(fields.count)
            let orStart = Int32(ors.count)
            objects.append(ObjectNode(
                fields: Range32(start: fieldStart, count: Int32(pattern.fields.count)),
                ors: Range32(start: orStart, count: Int32(pattern.alternatives.count))))
            fields.append(contentsOf: repeatElement(FieldNode(key: .empty, slot: -1, isNested: false, target: 0), count: pattern.fields.count))
            ors.append(contentsOf: repeatElement(Range32.empty, count: pattern.alternatives.count))
            for (i, field) in pattern.fields.enumerated() {
                var node = FieldNode(key: text(field.key), slot: topLevel ? slot(for: field.key) : -1, isNested: false, target: 0)
                switch field.condition {
                case .nested(let nested):
                    node.isNested = true
                    node.target = object(nested, topLevel: false)
                case .leaf(let leaf):
                    node.target = self.leaf(leaf)
                }
                fields[Int(fieldStart) + i] = node
            }
            for (i, group) in pattern.alternatives.enumerated() {
                let start = Int32(alternatives.count)
                alternatives.append(contentsOf: repeatElement(0, count: group.count))
                for (k, alternative) in group.enumerated() {
                    alternatives[Int(start) + k] = object(alternative, topLevel: topLevel)
                }
                ors[Int(orStart) + i] = Range32(start: start, count: Int32(group.count))
            }
            return index
        }

        private func leaf(_ leaf: LeafCondition) -> Int32 {
            let start = Int32(matchers.count)
            for matcher in leaf.matchers { matchers.append(node(matcher)) }
            leaves.append(LeafNode(
                matchers: Range32(start: start, count: Int32(leaf.matchers.count)),
                matchesAbsent: leaf.matchesAbsent, matchesAnyValue: leaf.matchesAnyValue))
            return Int32(leaves.count - 1)
        }

        private func node(_ matcher: ValueMatcher) -> MatcherNode {
            switch matcher {
            case .string(let s): return MatcherNode(op: .string, operand: text(s))
            case .number(let d): return MatcherNode(op: .number, low: d)
            case .bool(let b): return MatcherNode(op: .bool, low: b ? 1 : 0)
            case .null: return MatcherNode(op: .null)
            case .prefix(let t): return caseNode(.prefix, t)
            case .suffix(let t): return caseNode(.suffix, t)
            case .equalsIgnoreCase(let t): return caseNode(.equalsIgnoreCase, t)
            case .wildcard(let w): return MatcherNode(op: .wildcard, operand: wildcardList([w]))
            case .numeric(let r):
                return MatcherNode(
                    op: .numeric, low: r.lower, high: r.upper, lowInclusive: r.lowerInclusive, highInclusive: r.upperInclusive)
            case .cidr(let block):
                cidrs.append(block)
                return MatcherNode(op: .cidr, operand: Range32(start: Int32(cidrs.count - 1), count: 1))
            case .anythingBut(.strings(let list)): return MatcherNode(op: .butStrings, operand: textList(list))
            case .anythingBut(.numbers(let list)):
                let start = Int32(numbers.count)
                numbers.append(contentsOf: list)
                return MatcherNode(op: .butNumbers, operand: Range32(start: start, count: Int32(list.count)))
            case .anythingBut(.prefix(let t)): return caseNode(.butPrefix, t)
            case .anythingBut(.suffix(let t)): return caseNode(.butSuffix, t)
            case .anythingBut(.equalsIgnoreCase(let list)):
                return MatcherNode(
                    op: .butEqualsIgnoreCase, ignoreCase: true, ascii: list.allSatisfy(\.isASCII), operand: textList(list.map(\.bytes)))
            case .anythingBut(.wildcard(let list)): return MatcherNode(op: .butWildcards, operand: wildcardList(list))
            }
        }

        private func caseNode(_ op: Op, _ t: CaseText) -> MatcherNode {
            MatcherNode(op: op, ignoreCase: t.ignoreCase, ascii: t.isASCII, operand: text(t.bytes))
        }

        private func textList(_ list: [[UInt8]]) -> Range32 {
            let start = Int32(ranges.count)
            for item in list { ranges.append(text(item)) }
            return Range32(start: start, count: Int32(list.count))
        }

        private func wildcardList(_ list: [Wildcard]) -> Range32 {
            let start = Int32(wildcards.count)
            for w in list {
                wildcards.append(WildcardNode(pieces: textList(w.pieces), startsWithStar: w.startsWithStar, endsWithStar: w.endsWithStar))
            }
            return Range32(start: start, count: Int32(list.count))
        }
    }
}
