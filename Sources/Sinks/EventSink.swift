import Kinesis

/// One record for a sink: the encoded event and the partition key it is put with.
public struct SinkRecord: Sendable, Equatable {
    public var partitionKey: String
    public var data: [UInt8]

    public init(partitionKey: String, data: [UInt8]) {
        self.partitionKey = partitionKey
        self.data = data
    }
}

/// What a sink answered for one record of a batch.
public enum RecordResult: Sendable, Equatable {
    case accepted
    /// This record alone failed; retry only it (see `failureKind`).
    case failed(code: String, message: String)

    /// nil when accepted; otherwise whether the failure is throttling, passing, or final.
    public var failureKind: SinkError.Kind? {
        switch self {
        case .accepted: nil
        case .failed(let code, _): RecordFailure.kind(of: code)
        }
    }
}

/// The class of a per-record error code in a PutRecords answer.
public enum RecordFailure {
    /// `ProvisionedThroughputExceededException` is throttling; `InternalFailure` and
    /// `KMSThrottlingException` pass; anything else (a record too large, a KMS key that is
    /// disabled or denied) will fail again the same way.
    public static func kind(of code: String) -> SinkError.Kind {
        switch ErrorCodes.kind(of: code) {
        case .throttled: .throttled
        case .retryable: .retryable
        case .fatal, nil: .fatal
        }
    }
}

/// A failure of a whole sink request (or of making the sink), classified for the sender.
public struct SinkError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Slow down: fewer requests in flight, then retry.
        case throttled
        /// Retry with backoff.
        case retryable
        /// Retrying cannot help.
        case fatal
    }

    /// The code of a configuration that cannot work (unknown region, no stream, bad file path).
    public static let invalidConfiguration = "InvalidConfiguration"

    public var kind: Kind
    /// An AWS error code, or one of the client's own (`ConnectionRefused`, `Timeout`,
    /// `InvalidConfiguration`, `WriteFailed`).
    public var code: String
    public var message: String

    public init(kind: Kind, code: String, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// The same failure as a Kinesis client reported it.
    public init(_ error: KinesisError) {
        switch error.kind {
        case .throttled: kind = .throttled
        case .retryable: kind = .retryable
        case .fatal: kind = .fatal
        }
        code = error.code
        message = error.statusCode.map { "\(error.message) (HTTP \($0))" } ?? error.message
    }

    /// True when the credentials or the signature were refused.
    public var isAuthenticationFailure: Bool { ErrorCodes.authentication.contains(code) }

    public var description: String {
        let text = message.isEmpty ? code : "\(code): \(message)"
        return isAuthenticationFailure ? "authentication failed: " + text : text
    }
}

/// Where events go: Kinesis, a file, or stdout. A sink takes batches and answers, for
/// each record, whether it is accepted — for Kinesis, accepted by the stream; for a file,
/// written and fsync'd.
public protocol EventSink: Sendable {
    /// Puts a batch (<= 500 records, <= 5 MiB); one result per record, in order; throws for the whole request.
    func put(_ records: [SinkRecord]) async throws(SinkError) -> [RecordResult]
    /// Releases what the sink holds (connections, file descriptors). Puts afterwards fail.
    func shutdown() async
}
