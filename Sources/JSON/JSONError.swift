/// Why a text is not valid JSON, and the byte offset where that was found.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem, for callers that explain or count them separately.
    public enum Kind: Sendable, Equatable {
        /// Not JSON grammar (includes an empty text and garbage after the value).
        case syntax
        /// Bytes that are not UTF-8.
        case invalidUTF8
        /// Arrays and objects nested deeper than the limit.
        case tooDeep
    }

    /// Byte offset from the start of the text.
    public let offset: Int
    public let message: String
    public let kind: Kind

    public init(offset: Int, message: String, kind: Kind = .syntax) {
        self.offset = offset
        self.message = message
        self.kind = kind
    }

    public var description: String { "\(message) at byte \(offset)" }
}
