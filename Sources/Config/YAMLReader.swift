import JSON
import Yams

/// Reads a composed YAML document (Yams nodes with their marks) into typed values, recording
/// where every key path was written and turning every problem into a `ConfigError` that
/// names the file, line, column and key path.
///
/// Scalars are resolved with the YAML 1.2 core schema (only `true`/`false` are booleans, so
/// `on`, `no` or `yes` stay text), the schema JSON users expect.
final class YAMLReader {
    let file: String
    private(set) var locations: SourceLocations

    init(file: String) {
        self.file = file
        self.locations = SourceLocations(file: file)
    }

    // MARK: Locations and errors

    func location(_ node: Node) -> SourceLocation {
        guard let mark = node.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    /// An error about the value found at `path`.
    func error(_ path: String, _ message: String) -> ConfigError {
        ConfigError(location: locations.valueLocation(of: path), keyPath: path, message: message)
    }

    /// An error about the key at `path` itself (unknown, repeated).
    func keyError(_ path: String, _ message: String) -> ConfigError {
        ConfigError(location: locations.location(of: path), keyPath: path, message: message)
    }

    private func record(key: Node, value: Node, at path: String) {
        locations.byPath[path] = location(key)
        locations.valuesByPath[path] = location(value)
    }

    private func record(item: Node, at path: String) {
        locations.byPath[path] = location(item)
        locations.valuesByPath[path] = location(item)
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    // MARK: Mappings

    /// The entries of a mapping, by key text, in document order.
    struct Fields {
        let path: String
        let keys: [String]
        let values: [String: Node]

        subscript(key: String) -> Node? { values[key] }

        func path(_ key: String) -> String { YAMLReader.join(path, key) }

        func has(_ key: String) -> Bool {
            guard let node = values[key] else { return false }
            return !YAMLReader.isNull(node)
        }
    }

    /// Reads `node` as a mapping, records the location of each entry, and refuses keys that
    /// are not in `allowed` (suggesting the closest allowed key).
    func mapping(_ node: Node, at path: String, allowed: [String]?, what: String) throws(ConfigError) -> Fields {
        guard case .mapping(let mapping) = node else {
            throw error(path, "\(what) must be a mapping of keys to values, found \(describe(node))")
        }
        var keys: [String] = []
        var values: [String: Node] = [:]
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                let at = location(keyNode)
                throw ConfigError(location: at, keyPath: path, message: "a key in \(what) must be plain text, found \(describe(keyNode))")
            }
            let key = keyScalar.string
            let entryPath = Self.join(path, key)
            record(key: keyNode, value: valueNode, at: entryPath)
            if let allowed, !allowed.contains(key) {
                var message = "unknown key '\(key)' in \(what)"
                if let close = Self.closest(to: key, in: allowed) { message += " (did you mean '\(close)'?)" }
                message += "; allowed keys: \(allowed.joined(separator: ", "))"
                throw keyError(entryPath, message)
            }
            keys.append(key)
            values[key] = valueNode
        }
        return Fields(path: path, keys: keys, values: values)
    }

    /// Reads `node` as a sequence, recording the location of each item.
    func sequence(_ node: Node, at path: String, what: String) throws(ConfigError) -> [(node: Node, path: String)] {
        guard case .sequence(let sequence) = node else {
            throw error(path, "\(what) must be a list, found \(describe(node))")
        }
        var out: [(node: Node, path: String)] = []
        for (i, item) in sequence.enumerated() {
            let itemPath = Self.join(path, String(i))
            record(item: item, at: itemPath)
            out.append((item, itemPath))
        }
        return out
    }

    // MARK: Scalars

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        if let tag = explicitTag(scalar) { return tag == Tag.Name.null.rawValue }
        guard scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The text of a scalar: nil when the key is absent or null; an error for a list or mapping.
    func string(_ fields: Fields, _ key: String) throws(ConfigError) -> String? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        guard case .scalar(let scalar) = node else {
            throw error(fields.path(key), "must be a single value (text), found \(describe(node))")
        }
        return scalar.string
    }

    func requiredString(_ fields: Fields, _ key: String, what: String) throws(ConfigError) -> String {
        guard let value = try string(fields, key) else { throw missing(fields, key, what: what) }
        guard !value.isEmpty else { throw error(fields.path(key), "must not be empty") }
        return value
    }

    func missing(_ fields: Fields, _ key: String, what: String) -> ConfigError {
        if fields[key] != nil { return error(fields.path(key), "needs a value") }
        let at = fields.path.isEmpty ? SourceLocation(file: file, line: 1, column: 1) : locations.location(of: fields.path)
        return ConfigError(location: at, keyPath: fields.path(key), message: "missing required key '\(key)' in \(what)")
    }

    /// A whole number in `range`; `why` explains the bounds to the reader.
    func int(_ fields: Fields, _ key: String, in range: ClosedRange<Int>, why: String = "") throws(ConfigError) -> Int? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        let path = fields.path(key)
        let bounds = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
        guard case .scalar(let scalar) = node, case .number(let text) = Self.resolve(scalar),
            let value = Int(text)
        else {
            throw error(path, "must be a whole number \(bounds)\(why), found \(describe(node))")
        }
        guard range.contains(value) else {
            throw error(path, "must be \(bounds)\(why), found \(value)")
        }
        return value
    }

    /// A size in bytes: a whole number, or a number with `B`, `KB`, `MB`, `KiB`, `MiB`, `GiB`.
    func byteSize(_ fields: Fields, _ key: String, in range: ClosedRange<Int>, why: String = "") throws(ConfigError) -> Int? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        let path = fields.path(key)
        let bounds = "from \(range.lowerBound) to \(range.upperBound) bytes"
        guard case .scalar(let scalar) = node, let value = ConfigValues.byteSize(scalar.string) else {
            throw error(path, "must be a size in bytes (like 1048576 or 1MiB) \(bounds)\(why), found \(describe(node))")
        }
        guard range.contains(value) else { throw error(path, "must be \(bounds)\(why), found \(value)") }
        return value
    }

    func bool(_ fields: Fields, _ key: String) throws(ConfigError) -> Bool? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        guard case .scalar(let scalar) = node, case .bool(let value) = Self.resolve(scalar) else {
            throw error(fields.path(key), "must be true or false, found \(describe(node))")
        }
        return value
    }

    /// A duration such as `200ms`, `5s`, `1m`, `1h` or `1m30s`, within `range`.
    func duration(_ fields: Fields, _ key: String, in range: ClosedRange<Duration>) throws(ConfigError) -> Duration? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        let path = fields.path(key)
        guard case .scalar(let scalar) = node, let value = ConfigValues.duration(scalar.string) else {
            throw error(path, "must be a duration with a unit, like 200ms, 5s, 1m or 1h, found \(describe(node))")
        }
        guard range.contains(value) else {
            throw error(
                path,
                "must be from \(ConfigValues.describe(range.lowerBound)) to \(ConfigValues.describe(range.upperBound)), found \(scalar.string)")
        }
        return value
    }

    /// One of a fixed set of words.
    func choice<T: RawRepresentable>(_ fields: Fields, _ key: String, _: T.Type, options: [T]) throws(ConfigError) -> T?
    where T.RawValue == String {
        guard let text = try string(fields, key) else { return nil }
        guard let value = T(rawValue: text), options.contains(where: { $0.rawValue == text }) else {
            throw error(fields.path(key), "must be one of \(options.map(\.rawValue).joined(separator: ", ")), found '\(text)'")
        }
        return value
    }

    /// A list of texts; a single text is taken as a list of one.
    func stringList(_ fields: Fields, _ key: String, what: String) throws(ConfigError) -> [(value: String, path: String)]? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        let path = fields.path(key)
        if case .scalar(let scalar) = node { return [(scalar.string, path)] }
        var out: [(value: String, path: String)] = []
        for (item, itemPath) in try sequence(node, at: path, what: what) {
            guard case .scalar(let scalar) = item, !Self.isNull(item) else {
                throw error(itemPath, "each item of \(what) must be text, found \(describe(item))")
            }
            out.append((scalar.string, itemPath))
        }
        return out
    }

    // MARK: JSON values

    /// Converts a YAML value (a rule's `match` or `data`) to JSON, recording the location of
    /// every nested key and item.
    func json(_ node: Node, at path: String) throws(ConfigError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch Self.resolve(scalar) {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .number(let text): return .number(JSONNumber(validText: text))
            case .string(let s): return .string(s)
            case .invalid(let why): throw error(path, why)
            }
        case .sequence:
            var items: [JSONValue] = []
            for (item, itemPath) in try sequence(node, at: path, what: path) {
                items.append(try json(item, at: itemPath))
            }
            return .array(items)
        case .mapping:
            let fields = try mapping(node, at: path, allowed: nil, what: path)
            var members: [JSONObject.Member] = []
            for key in fields.keys {
                guard let value = fields[key] else { continue }
                members.append(JSONObject.Member(key: key, value: try json(value, at: fields.path(key))))
            }
            return .object(JSONObject(members))
        case .alias:
            throw error(path, "YAML aliases are not supported here")
        }
    }

    /// A scalar resolved with the YAML 1.2 core schema, numbers as JSON number text.
    enum Resolved: Equatable {
        case null
        case bool(Bool)
        case number(String)
        case string(String)
        case invalid(String)
    }

    private static func explicitTag(_ scalar: Node.Scalar) -> String? {
        let raw = scalar.tag.rawValue
        return raw.isEmpty ? nil : raw
    }

    static func resolve(_ scalar: Node.Scalar) -> Resolved {
        let text = scalar.string
        if let tag = explicitTag(scalar) {
            switch tag {
            case Tag.Name.str.rawValue, "!": return .string(text)
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue:
                if let b = coreBool(text) { return .bool(b) }
                return .invalid("'\(text)' is tagged !!bool but is not true or false")
            case Tag.Name.int.rawValue, Tag.Name.float.rawValue:
                if let n = ConfigValues.jsonNumber(fromYAML: text) { return .number(n) }
                return .invalid("'\(text)' is tagged as a number but is not one")
            default: return .invalid("the YAML tag \(tag) is not supported")
            }
        }
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        if ["", "~", "null", "Null", "NULL"].contains(text) { return .null }
        if let b = coreBool(text) { return .bool(b) }
        if let n = ConfigValues.jsonNumber(fromYAML: text) { return .number(n) }
        if [".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", ".nan", ".NaN", ".NAN"].contains(text) {
            return .invalid("'\(text)' is not a number JSON can hold; quote it to mean the text")
        }
        return .string(text)
    }

    private static func coreBool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// How a node reads to a person, for error messages.
    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch Self.resolve(scalar) {
            case .null: return "nothing (null)"
            case .bool(let b): return "\(b)"
            case .number(let n): return "the number \(n)"
            case .string(let s), .invalid(let s): return "'\(s)'"
            }
        }
    }

    /// The allowed key closest to a misspelt one (edit distance at most 2, or a prefix).
    static func closest(to key: String, in allowed: [String]) -> String? {
        var best: (String, Int)?
        for candidate in allowed {
            let d = editDistance(Array(key.lowercased()), Array(candidate))
            if d <= 2, best.map({ d < $0.1 }) ?? true { best = (candidate, d) }
        }
        return best?.0
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
