/// A JSON value as a tree, for what is small and built or inspected as a whole: rule
/// patterns from the configuration, journald entries, AWS answers. The hot path over log
/// lines uses `JSONDocument` instead, which does not build a tree.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The member `key` of an object, nil for anything else or a missing key.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The compact JSON text of this value (as `JSON.stringify` writes it).
    public var serialized: [UInt8] {
        var out: [UInt8] = []
        JSONWriter.append(self, to: &out)
        return out
    }

    /// Parses one JSON text into a tree.
    public init(parsing bytes: some Collection<UInt8>, maxDepth: Int = JSONDocument.defaultMaxDepth) throws(JSONError) {
        self = try JSONDocument(parsing: bytes, maxDepth: maxDepth).root.value
    }
}

/// A JSON number, kept as written so that it is carried verbatim (`1.50` stays `1.50`,
/// big integers keep every digit); `double` is its value for comparisons.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    /// Wraps number text that is already known to be valid JSON number syntax.
    public init(validText text: String) {
        self.text = text
    }

    public init(_ value: Int) {
        self.text = String(value)
    }

    public init(_ value: Double) {
        if value.rounded() == value, abs(value) < 1e15 {
            self.text = String(Int64(value))
        } else {
            self.text = "\(value)"
        }
    }

    /// The number's value as a Double (may round for very long numbers).
    public var double: Double { Double(text) ?? .nan }

    public var description: String { text }

    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool { lhs.double == rhs.double }
    public func hash(into hasher: inout Hasher) { hasher.combine(double) }
}

/// A JSON object with its members in the order they were written.
public struct JSONObject: Sendable, Hashable {
    public var members: [Member]

    /// One `"key": value` pair.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public init(_ members: [Member] = []) {
        self.members = members
    }

    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    /// The value of the last member named `key` (JSON.parse keeps the last duplicate).
    public subscript(key: String) -> JSONValue? {
        get { members.last(where: { $0.key == key })?.value }
        set {
            if let index = members.lastIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    public var keys: [String] { members.map(\.key) }
    public var isEmpty: Bool { members.isEmpty }
}
