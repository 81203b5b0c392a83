import Config
import JSON

#if canImport(Glibc)
import Glibc
#endif

/// A path into a line's JSON: `a.b.c`, with array positions as numbers (`items.0.id`).
/// A segment of digits is an array position when the value there is an array, and a member
/// name when it is an object. Journald field names are written as they are (`_SYSTEMD_UNIT`).
struct TemplatePath: Sendable, CustomStringConvertible {
    struct Segment: Sendable {
        let key: StableBytes
        let position: Int?
    }

    let segments: [Segment]
    let text: String
    /// The top-level slot of the first segment in the rule set's `PatternProgram`, once
    /// bound (-1 before): the matcher has already found that field in the line.
    private(set) var slot: Int32 = -1

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.segments = parts.map { part in
            let position = part.allSatisfy({ $0.isASCII && $0.isNumber }) && part.count <= 9 ? Int(part) : nil
            return Segment(key: StableBytes(String(part)), position: position)
        }
        self.text = text
    }

    var description: String { text }

    /// Gives the first segment a top-level slot of `program`, so that `resolve` takes the
    /// field the matcher found instead of searching the line for it.
    mutating func bind(to program: PatternProgram.Builder) {
        slot = program.slot(for: Array(segments[0].key.buffer))
    }

    /// The tape index of the value at this path in `line`, or nil when absent.
    func resolve(in line: TemplateLine) -> Int? {
        let doc = line.doc
        var node = JSONDocument.rootIndex
        var index = 0
        if slot >= 0, doc.kind(at: node) == .object {
            node = Int(line.slots[Int(slot)])
            guard node >= 0 else { return nil }
            index = 1
        }
        while index < segments.count {
            switch doc.kind(at: node) {
            case .object:
                guard let next = doc.member(of: node, key: segments[index].key.buffer) else { return nil }
                node = next
            case .array:
                guard let position = segments[index].position, let next = doc.element(of: node, at: position) else {
                    return nil
                }
                node = next
            default:
                return nil
            }
            index += 1
        }
        return node
    }
}

/// One line as templates read it: its JSON, and the value of each top-level field the rule
/// set names (the matcher's slots, filled in one pass over the line).
struct TemplateLine {
    let doc: JSONView
    let slots: UnsafeMutableBufferPointer<Int32>

    init(_ matcher: PatternMatcher) {
        doc = matcher.doc
        slots = matcher.slots
    }
}

/// What a template field gives for one line.
enum Rendered {
    case text(String)
    /// The path is absent, or its value is null.
    case nothing(path: String)
    /// The path leads to something a text cannot hold (an object or array); the message
    /// says which.
    case problem(String)
}

/// A text template: literal text with `${path}` holes, compiled once. `$${` writes a
/// literal `${`.
struct StringTemplate: Sendable {
    enum Piece: Sendable {
        case literal(String)
        case path(TemplatePath)
    }

    private(set) var pieces: [Piece]
    let source: String

    /// Binds every path to `program`'s top-level slots (see `TemplatePath.bind`).
    mutating func bind(to program: PatternProgram.Builder) {
        for index in pieces.indices {
            if case .path(var path) = pieces[index] {
                path.bind(to: program)
                pieces[index] = .path(path)
            }
        }
    }

    /// The template's single path when it is exactly `${path}`.
    var lonePath: TemplatePath? {
        if pieces.count == 1, case .path(let p) = pieces[0] { return p }
        return nil
    }

    /// The text when the template has no holes.
    var literal: String? {
        if pieces.isEmpty { return "" }
        if pieces.count == 1, case .literal(let s) = pieces[0] { return s }
        return nil
    }

    /// Parses `source`; the error message says what is wrong.
    static func parse(_ source: String) -> Result<StringTemplate, PatternError> {
        var pieces: [Piece] = []
        var literal = ""
        var rest = Substring(source)
        while let dollar = rest.firstIndex(of: "$") {
            literal += rest[..<dollar]
            let after = rest[dollar...]
            if after.hasPrefix("$${") {
                literal += "${"
                rest = after.dropFirst(3)
                continue
            }
            guard after.hasPrefix("${") else {
                literal += "$"
                rest = after.dropFirst()
                continue
            }
            guard let close = after.firstIndex(of: "}") else {
                return .failure(PatternError("'${' without a closing '}' in the template \"\(source)\""))
            }
            let inner = String(after[after.index(after.startIndex, offsetBy: 2)..<close])
            guard let path = TemplatePath(inner.trimmingSpaces) else {
                return .failure(
                    PatternError("'${\(inner)}' is not a path; write names joined by dots, like ${order.id} or ${items.0.sku}"))
            }
            if !literal.isEmpty {
                pieces.append(.literal(literal))
                literal = ""
            }
            pieces.append(.path(path))
            rest = after[after.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        return .success(StringTemplate(pieces: pieces, source: source))
    }

    /// The text for one line: holes filled with strings as they are, numbers as written,
    /// booleans as `true`/`false`.
    func render(_ line: TemplateLine) -> Rendered {
        if let literal { return .text(literal) }
        let doc = line.doc
        var out = ""
        for index in pieces.indices {
            switch pieces[index] {
            case .literal(let s): out += s
            case .path(let path):
                guard let node = path.resolve(in: line) else { return .nothing(path: path.text) }
                switch doc.kind(at: node) {
                case .null: return .nothing(path: path.text)
                case .string: out += doc.string(at: node) ?? ""
                case .number, .bool: out += String(decoding: doc.raw(at: node), as: UTF8.self)
                case .object: return .problem("${\(path)} is an object, not a text")
                case .array: return .problem("${\(path)} is a list, not a text")
                }
            }
        }
        return .text(out)
    }
}

/// The template of an event's `data`: the whole line by default; otherwise any JSON value
/// in which each string is a template. A string that is exactly `${path}` is replaced by
/// the JSON value at that path, carried byte for byte (null when absent); other strings
/// become JSON strings (null when one of their paths is absent).
struct DataTemplate: Sendable {
    enum Piece: Sendable {
        /// JSON text written as it is.
        case literal([UInt8])
        /// The value at the path, verbatim.
        case value(TemplatePath)
        /// A JSON string rendered from a text template.
        case string(StringTemplate)
    }

    /// nil: the whole line.
    private(set) var pieces: [Piece]?

    /// Binds every path to `program`'s top-level slots (see `TemplatePath.bind`).
    mutating func bind(to program: PatternProgram.Builder) {
        guard var bound = pieces else { return }
        for index in bound.indices {
            switch bound[index] {
            case .literal: break
            case .value(var path):
                path.bind(to: program)
                bound[index] = .value(path)
            case .string(var template):
                template.bind(to: program)
                bound[index] = .string(template)
            }
        }
        pieces = bound
    }

    static let wholeLine = DataTemplate(pieces: nil)

    /// Compiles `value` (a rule's `data`), checking each string template; errors name the
    /// key path below `path`.
    static func compile(_ value: JSONValue, path: String, locations: SourceLocations) throws(ConfigError) -> DataTemplate {
        var pieces: [Piece] = []
        var pending: [UInt8] = []
        func flush() {
            if !pending.isEmpty {
                pieces.append(.literal(pending))
                pending = []
            }
        }
        func walk(_ value: JSONValue, _ path: String) throws(ConfigError) {
            switch value {
            case .string(let s):
                let template: StringTemplate
                switch StringTemplate.parse(s) {
                case .success(let t): template = t
                case .failure(let e):
                    throw ConfigError(location: locations.valueLocation(of: path), keyPath: path, message: e.message)
                }
                if let lone = template.lonePath {
                    flush()
                    pieces.append(.value(lone))
                } else if let literal = template.literal {
                    JSONWriter.appendString(literal, to: &pending)
                } else {
                    flush()
                    pieces.append(.string(template))
                }
            case .array(let items):
                pending.append(UInt8(ascii: "["))
                for (i, item) in items.enumerated() {
                    if i > 0 { pending.append(UInt8(ascii: ",")) }
                    try walk(item, "\(path).\(i)")
                }
                pending.append(UInt8(ascii: "]"))
            case .object(let object):
                pending.append(UInt8(ascii: "{"))
                for (i, member) in object.members.enumerated() {
                    if i > 0 { pending.append(UInt8(ascii: ",")) }
                    JSONWriter.appendString(member.key, to: &pending)
                    pending.append(UInt8(ascii: ":"))
                    try walk(member.value, "\(path).\(member.key)")
                }
                pending.append(UInt8(ascii: "}"))
            case .null, .bool, .number:
                JSONWriter.append(value, to: &pending)
            }
        }
        try walk(value, path)
        flush()
        return DataTemplate(pieces: pieces)
    }

    /// The data bytes for one line; `line` is what templates read, `wholeLine` the line as read.
    func render(_ line: TemplateLine, wholeLine: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard let pieces else { return Self.compact(wholeLine) }
        let doc = line.doc
        if pieces.count == 1, case .value(let path) = pieces[0] {
            guard let node = path.resolve(in: line) else { return Array("null".utf8) }
            return Self.compact(doc.raw(at: node))
        }
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for index in pieces.indices {
            switch pieces[index] {
            case .literal(let bytes): out.append(contentsOf: bytes)
            case .value(let path):
                if let node = path.resolve(in: line) {
                    out.append(contentsOf: Self.compact(doc.raw(at: node)))
                } else {
                    out.append(contentsOf: "null".utf8)
                }
            case .string(let template):
                if case .text(let text) = template.render(line) {
                    JSONWriter.appendString(text, to: &out)
                } else {
                    out.append(contentsOf: "null".utf8)
                }
            }
        }
        return out
    }

    /// Valid JSON bytes as they are, unless they hold a line break (possible only as
    /// whitespace between tokens, e.g. in a journald MESSAGE): then that whitespace is
    /// removed, so an event always stays on one line.
    static func compact(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard let base = bytes.baseAddress, memchr(base, 0x0A, bytes.count) != nil else { return Array(bytes) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var inString = false
        var escaped = false
        for b in bytes {
            if inString {
                out.append(b)
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch b {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "\""):
                inString = true
                out.append(b)
            default: out.append(b)
            }
        }
        return out
    }
}

extension String {
    /// The text without leading and trailing spaces.
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " }), let last = scalars.lastIndex(where: { $0 != " " }) else {
            return ""
        }
        return String(scalars[first...last])
    }
}
