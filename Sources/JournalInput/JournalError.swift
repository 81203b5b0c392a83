#if canImport(Glibc)
import Glibc
#endif

/// A libsystemd call that failed: which operation, on what, and the errno it returned.
public struct JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was attempted, e.g. `open journal directory /var/log/journal`.
    public let operation: String
    /// The positive errno value (libsystemd returns `-errno`).
    public let code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code < 0 ? -code : code
    }

    /// The errno's text, e.g. `Bad message`.
    public var reason: String { String(cString: strerror(code)) }

    public var description: String { "\(operation): \(reason)" }

    /// Whether the error says the data on disk is damaged or unreachable (`EBADMSG`,
    /// `EADDRNOTAVAIL`, `ENODATA`, `EPROTONOSUPPORT`): the entry or file is skipped, not fatal.
    var isDamage: Bool {
        [EBADMSG, EADDRNOTAVAIL, ENODATA, EPROTONOSUPPORT, EIO, EIDRM].contains(code)
    }
}

/// A `matches` term that sd-journal cannot use, with the reason.
public struct JournalMatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public let term: String
    public let reason: String

    public var description: String { "invalid journald match \"\(term)\": \(reason)" }
}
