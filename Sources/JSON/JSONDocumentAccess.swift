/// Index-based reading of a parsed `JSONDocument` without reference counting, for hot loops
/// (the rule matcher, templates). A value is named by its tape index
/// (`JSONDocument.rootIndex` for the top-level value).
///
/// A view points into the document's storage: get one with `JSONDocument.withView` and use
/// it only inside that closure.
public struct JSONView {
    @usableFromInline let tape: UnsafeBufferPointer<JSONDocument.TapeEntry>
    /// The document's text.
    public let bytes: UnsafeBufferPointer<UInt8>

    @inlinable
    init(tape: UnsafeBufferPointer<JSONDocument.TapeEntry>, bytes: UnsafeBufferPointer<UInt8>) {
        self.tape = tape
        self.bytes = bytes
    }

    /// The kind of the value at `index`.
    @inlinable
    public func kind(at index: Int) -> JSONDocument.Kind { tape[index].kind }

    /// The byte range of the value at `index` in `bytes` (a string with its quotes).
    @inlinable
    public func rawRange(at index: Int) -> Range<Int> { Int(tape[index].start)..<Int(tape[index].end) }

    /// The bytes of the value at `index` (a string with its quotes).
    @inlinable
    public func raw(at index: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[rawRange(at: index)]) }

    /// The number of elements of an array or members of an object (0 for scalars).
    @inlinable
    public func count(at index: Int) -> Int { Int(tape[index].count) }

    /// The index of the value after the one at `index` and all its descendants.
    @inlinable
    public func indexAfter(_ index: Int) -> Int {
        let e = tape[index]
        return (e.kind == .array || e.kind == .object) ? Int(e.next) : index + 1
    }

    /// The index of the first element of the array at `index`, and the index just past its
    /// last element (equal when empty); step with `indexAfter`. Nil for other kinds.
    @inlinable
    public func elementRange(of index: Int) -> (first: Int, end: Int)? {
        let e = tape[index]
        guard e.kind == .array else { return nil }
        return (index + 1, Int(e.next))
    }

    /// Like `elementRange` for the members of an object: at each position `i`, `i` is the
    /// key and `i + 1` the value; step with `indexAfter(i + 1)`.
    @inlinable
    public func memberRange(of index: Int) -> (first: Int, end: Int)? {
        let e = tape[index]
        guard e.kind == .object else { return nil }
        return (index + 1, Int(e.next))
    }

    /// The value index of member `key` (UTF-8) of the object at `index`; the last one when
    /// the key repeats, as `JSON.parse` does. Nil when absent or not an object.
    @inlinable
    public func member(of index: Int, key: UnsafeBufferPointer<UInt8>) -> Int? {
        let e = tape[index]
        guard e.kind == .object else { return nil }
        var found: Int?
        var i = index + 1
        let end = Int(e.next)
        while i < end {
            if stringEquals(at: i, key) { found = i + 1 }
            i = indexAfter(i + 1)
        }
        return found
    }

    /// The index of element `position` of the array at `index`; nil when out of range.
    @inlinable
    public func element(of index: Int, at position: Int) -> Int? {
        let e = tape[index]
        guard e.kind == .array, position >= 0, position < Int(e.count) else { return nil }
        var i = index + 1
        for _ in 0..<position { i = indexAfter(i) }
        return i
    }

    /// Whether the string at `index` has exactly the text `wanted` (UTF-8); false for other
    /// kinds.
    @inlinable
    public func stringEquals(at index: Int, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        let e = tape[index]
        guard e.kind == .string else { return false }
        let start = Int(e.start) + 1
        let end = Int(e.end) - 1
        if e.escaped {
            return JSONDocument.unescape(bytes[start..<end]).elementsEqual(wanted)
        }
        guard end - start == wanted.count else { return false }
        guard let base = bytes.baseAddress, let other = wanted.baseAddress else { return wanted.isEmpty }
        return ByteCompare.equal(base + start, other, count: wanted.count)
    }

    /// Calls `body` with the decoded UTF-8 text of the string at `index` (without copying
    /// when the string has no escapes). Returns nil for other kinds.
    @inlinable
    public func withStringBytes<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        let e = tape[index]
        guard e.kind == .string else { return nil }
        let start = Int(e.start) + 1
        let end = Int(e.end) - 1
        if e.escaped {
            return JSONDocument.unescape(bytes[start..<end]).withUnsafeBufferPointer { body($0) }
        }
        return body(UnsafeBufferPointer(rebasing: bytes[start..<end]))
    }

    /// The decoded text of the string at `index`; nil for other kinds.
    public func string(at index: Int) -> String? {
        withStringBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// The value of `true`/`false` at `index`; nil for other kinds.
    @inlinable
    public func bool(at index: Int) -> Bool? {
        let e = tape[index]
        guard e.kind == .bool else { return nil }
        return bytes[Int(e.start)] == UInt8(ascii: "t")
    }

    /// The value of the number at `index` as a Double (exact for integers of up to 15
    /// digits; otherwise the nearest Double); nil for other kinds.
    @inlinable
    public func double(at index: Int) -> Double? {
        let e = tape[index]
        guard e.kind == .number else { return nil }
        let start = Int(e.start)
        let end = Int(e.end)
        var i = start
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        if end - i <= 15 {
            var value: Int64 = 0
            var integer = true
            while i < end {
                let d = bytes[i] &- UInt8(ascii: "0")
                if d > 9 {
                    integer = false
                    break
                }
                value = value &* 10 &+ Int64(d)
                i += 1
            }
            if integer { return Double(negative ? -value : value) }
        }
        return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
    }
}

extension JSONDocument {
    /// The tape index of the top-level value.
    public static let rootIndex = 0

    /// Calls `body` with a view of this document (valid only inside `body`).
    @inlinable
    public func withView<R>(_ body: (JSONView) -> R) -> R {
        tape.withUnsafeBufferPointer { t in
            bytes.withUnsafeBufferPointer { b in body(JSONView(tape: t, bytes: b)) }
        }
    }

    /// The kind of the value at `index`.
    public func kind(at index: Int) -> Kind { tape[index].kind }

    /// The byte range of the value at `index` in `bytes` (a string with its quotes).
    public func rawRange(at index: Int) -> Range<Int> { Int(tape[index].start)..<Int(tape[index].end) }

    /// The number of elements of an array or members of an object (0 for scalars).
    public func count(at index: Int) -> Int { Int(tape[index].count) }

    /// Calls `body` with the index of each element of the array at `index`, in order, until
    /// it returns false. Does nothing for other kinds.
    public func forEachElement(of index: Int, _ body: (Int) -> Bool) {
        withView { view in
            guard let (first, end) = view.elementRange(of: index) else { return }
            var i = first
            while i < end {
                if !body(i) { return }
                i = view.indexAfter(i)
            }
        }
    }

    /// The value index of member `key` of the object at `index` (see `JSONView.member`).
    public func member(of index: Int, key: [UInt8]) -> Int? {
        withView { view in key.withUnsafeBufferPointer { view.member(of: index, key: $0) } }
    }

    /// The index of element `position` of the array at `index`; nil when out of range.
    public func element(of index: Int, at position: Int) -> Int? {
        withView { $0.element(of: index, at: position) }
    }

    /// The decoded text of the string at `index`; nil for other kinds.
    public func string(at index: Int) -> String? { withView { $0.string(at: index) } }

    /// The value of the number at `index` (see `JSONView.double`); nil for other kinds.
    public func double(at index: Int) -> Double? { withView { $0.double(at: index) } }
}
