/// The bytes of one valid JSON value, carried as they are (an event's `data`): numbers,
/// escapes, unicode and member order stay exactly as written. Surrounding whitespace is
/// trimmed.
public struct RawJSON: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Validates `bytes` as one JSON text.
    public init(validating bytes: some Collection<UInt8>, maxDepth: Int = JSONDocument.defaultMaxDepth) throws(JSONError) {
        let document = try JSONDocument(parsing: bytes, maxDepth: maxDepth)
        self.init(document.root)
    }

    /// The original bytes of a parsed value.
    public init(_ node: JSONNode) {
        self.bytes = Array(node.raw)
    }

    /// The text of a value built as a tree.
    public init(_ value: JSONValue) {
        self.bytes = value.serialized
    }

    /// `{}`: the data of an event that has none.
    public static let emptyObject = RawJSON(bytesAlreadyValid: Array("{}".utf8))

    /// Wraps bytes that are known to be one valid JSON value (e.g. just written by `JSONWriter`).
    public init(bytesAlreadyValid bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var description: String { String(decoding: bytes, as: UTF8.self) }
}
