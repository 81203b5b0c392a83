/// One `FIELD=value` term of a journald input's `matches`, checked the way sd-journal checks
/// it (`sd_journal_add_match` only says EINVAL), so that a bad term is reported with its reason.
public struct JournalMatch: Sendable, Equatable {
    /// The field name, e.g. `_SYSTEMD_UNIT`.
    public let field: String
    /// The value the field must have (may be empty).
    public let value: String

    /// The term as sd-journal takes it: `FIELD=value`.
    public var term: String { field + "=" + value }

    /// Parses and checks a term: the field is 1 to 64 characters of `A-Z`, `0-9` and `_`,
    /// does not start with a digit or with `__`, and is followed by `=`.
    public init(_ term: String) throws(JournalMatchError) {
        guard let equals = term.utf8.firstIndex(of: UInt8(ascii: "=")) else {
            throw JournalMatchError(term: term, reason: "expected FIELD=value")
        }
        let name = term.utf8[..<equals]
        guard !name.isEmpty else { throw JournalMatchError(term: term, reason: "the field name is empty") }
        guard name.count <= 64 else {
            throw JournalMatchError(term: term, reason: "the field name is longer than 64 characters")
        }
        if let bad = name.first(where: { !Self.isFieldByte($0) }) {
            throw JournalMatchError(
                term: term,
                reason: "the field name may hold only A-Z, 0-9 and _, not \"\(Character(Unicode.Scalar(bad)))\"")
        }
        if let first = name.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) {
            throw JournalMatchError(term: term, reason: "the field name starts with a digit")
        }
        if name.starts(with: "__".utf8) {
            throw JournalMatchError(term: term, reason: "fields starting with __ are the journal's own and cannot be matched")
        }
        field = String(decoding: name, as: UTF8.self)
        value = String(decoding: term.utf8[term.utf8.index(after: equals)...], as: UTF8.self)
    }

    private static func isFieldByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "_")
    }
}
