/// Index-based reading of a `JSONDocument`, for hot loops (the rule matcher, templates):
/// a value is named by its tape index (`JSONDocument.rootIndex` for the top-level value),
/// and nothing here copies the document or allocates unless it returns an array.
extension JSONDocument {
    /// The tape index of the top-level value.
    public static let rootIndex = 0

    /// The kind of the value at `index`.
    @inlinable
    public func kind(at index: Int) -> Kind { tape[index].kind }

    /// The byte range of the value at `index` in `bytes` (a string with its quotes).
    @inlinable
    public func rawRange(at index: Int) -> Range<Int> { Int(tape[index].start)..<Int(tape[index].end) }

    /// The number of elements of an array or members of an object (0 for scalars).
    @inlinable
    public func count(at index: Int) -> Int { Int(tape[index].count) }

    /// The index of the value after the one at `index` and all its descendants.
    @inlinable
    public func indexAfter(_ index: Int) -> Int {
        let e = tape[index]
        return (e.kind == .array || e.kind == .object) ? Int(e.next) : index + 1
    }

    /// Calls `body` with the index of each element of the array at `index`, in order, until
    /// it returns false. Does nothing for other kinds.
    @inlinable
    public func forEachElement(of index: Int, _ body: (Int) -> Bool) {
        let e = tape[index]
        guard e.kind == .array else { return }
        var i = index + 1
        let end = Int(e.next)
        while i < end {
            if !body(i) { return }
            i = indexAfter(i)
        }
    }

    /// Calls `body` with the key index and value index of each member of the object at
    /// `index`, in order, until it returns false. Does nothing for other kinds.
    @inlinable
    public func forEachMember(of index: Int, _ body: (_ key: Int, _ value: Int) -> Bool) {
        let e = tape[index]
        guard e.kind == .object else { return }
        var i = index + 1
        let end = Int(e.next)
        while i < end {
            if !body(i, i + 1) { return }
            i = indexAfter(i + 1)
        }
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

    /// The value index of member `key` of the object at `index` (see the buffer variant).
    @inlinable
    public func member(of index: Int, key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { member(of: index, key: $0) }
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
        return bytes.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress, let other = wanted.baseAddress else { return wanted.isEmpty }
            return memcmp(base + start, other, wanted.count) == 0
        }
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
        return bytes.withUnsafeBufferPointer { all in body(UnsafeBufferPointer(rebasing: all[start..<end])) }
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
        return bytes.withUnsafeBufferPointer { all -> Double? in
            var i = start
            let negative = all[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            if end - i <= 15 {
                var value: Int64 = 0
                var integer = true
                while i < end {
                    let d = all[i] &- UInt8(ascii: "0")
                    if d > 9 {
                        integer = false
                        break
                    }
                    value = value &* 10 &+ Int64(d)
                    i += 1
                }
                if integer { return Double(negative ? -value : value) }
            }
            return Double(String(decoding: UnsafeBufferPointer(rebasing: all[start..<end]), as: UTF8.self))
        }
    }

    /// The node at `index`.
    public func node(at index: Int) -> JSONNode { JSONNode(document: self, index: index) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
