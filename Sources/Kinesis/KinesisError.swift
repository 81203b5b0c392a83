import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A failed Kinesis (or STS) request, classified by what a sender should do about it:
/// slow down (`throttled`), try again (`retryable`), or give up (`fatal`).
public struct KinesisError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The stream or account limit was hit: retry later, with fewer requests in flight.
        case throttled
        /// A passing fault (5xx, connection reset, timeout): retry with backoff.
        case retryable
        /// Retrying cannot help (unknown stream, denied, invalid request, bad signature).
        case fatal
    }

    public var kind: Kind
    /// The AWS error code (`ResourceNotFoundException`, `SignatureDoesNotMatch`), or for
    /// failures without one `HTTP 502`, `ConnectionRefused`, `Timeout`, `InvalidConfiguration`.
    public var code: String
    public var message: String
    /// The HTTP status, when an answer came back.
    public var statusCode: Int?

    public init(kind: Kind, code: String, message: String, statusCode: Int? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.statusCode = statusCode
    }

    /// True for errors that mean the credentials or the signature were refused.
    public var isAuthenticationFailure: Bool { ErrorCodes.authentication.contains(code) }

    /// The same error with every occurrence of the secret key and session token of
    /// `credentials` replaced: AWS quotes the canonical request, token included, in some
    /// signature errors.
    public func redacting(_ credentials: AWSCredentials) -> KinesisError {
        var copy = self
        copy.message = Redaction.redact(message, secrets: credentials.secrets)
        return copy
    }

    public var description: String {
        var text = isAuthenticationFailure ? "authentication failed: \(code)" : code
        if !message.isEmpty { text += ": \(message)" }
        if let statusCode { text += " (HTTP \(statusCode))" }
        return text
    }
}

/// Removes secrets from text that is about to be logged or returned.
enum Redaction {
    static func redact(_ text: String, secrets: [String]) -> String {
        var out = text
        for secret in secrets where secret.count >= 8 {
            out = out.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return out
    }
}

extension AWSCredentials {
    /// What must never be shown: the secret key and the session token.
    var secrets: [String] { [secretAccessKey] + (sessionToken.map { [$0] } ?? []) }
}

/// The AWS error codes the client knows, by class.
public enum ErrorCodes {
    public static let throttled: Set<String> = [
        "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException", "Throttling",
        "ThrottledException", "RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
        "RequestLimitExceeded", "SlowDown",
    ]
    public static let retryable: Set<String> = [
        "InternalFailure", "InternalFailureException", "InternalError", "InternalServerError",
        "InternalServiceError", "ServiceUnavailable", "ServiceUnavailableException", "KMSThrottlingException",
        "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "IDPCommunicationError",
        "EC2ThrottledException",
    ]
    public static let authentication: Set<String> = [
        "UnrecognizedClientException", "InvalidSignatureException", "SignatureDoesNotMatch", "InvalidClientTokenId",
        "ExpiredToken", "ExpiredTokenException", "IncompleteSignature", "IncompleteSignatureException",
        "MissingAuthenticationToken", "MissingAuthenticationTokenException", "InvalidAccessKeyId", "AuthFailure",
        "RequestExpired",
    ]

    /// The class of an error code; nil for a code this table does not know.
    public static func kind(of code: String) -> KinesisError.Kind? {
        if throttled.contains(code) { return .throttled }
        if retryable.contains(code) { return .retryable }
        if authentication.contains(code) || code.hasPrefix("AccessDenied") { return .fatal }
        switch code {
        case "ResourceNotFoundException", "ValidationException", "InvalidArgumentException", "ResourceInUseException",
            "SerializationException", "UnknownOperationException", "InvalidAction", "InvalidParameterValue",
            "MalformedPolicyDocument", "RegionDisabledException", "OptInRequired", "KMSDisabledException",
            "KMSInvalidStateException", "KMSNotFoundException", "KMSOptInRequired", "KMSAccessDeniedException",
            "InvalidIdentityToken", "PackedPolicyTooLarge":
            return .fatal
        default:
            return nil
        }
    }
}

/// Turns error answers and transport failures into `KinesisError`s. AWS answers errors in
/// the JSON protocol's shape, but a proxy, a load balancer or moto's auth layer may answer
/// XML or HTML instead; each is read for a code and a message.
enum ErrorClassifier {
    /// Classifies an HTTP answer that is not a 2xx.
    /// `secrets` (a secret key, a session token, a web identity token) are removed from the
    /// message before it is cut to length.
    static func classify(status: Int, headers: HTTPHeaders, body: [UInt8], secrets: [String] = []) -> KinesisError {
        var parsed = ErrorBody.parse(headers: headers, body: body)
        if let message = parsed.message {
            parsed.message = Redaction.redact(message, secrets: secrets)
        }
        let code = parsed.code ?? "HTTP \(status)"
        let message =
            parsed.message.map { String($0.prefix(ErrorBody.maxMessageLength)) }
            ?? (parsed.code == nil ? Self.reason(status) : "")
        let kind: KinesisError.Kind
        if let code = parsed.code, let known = ErrorCodes.kind(of: code) {
            kind = known
        } else if status == 429 {
            kind = .throttled
        } else if status >= 500 || status == 408 {
            kind = .retryable
        } else {
            kind = .fatal
        }
        return KinesisError(kind: kind, code: code, message: message, statusCode: status)
    }

    /// Classifies an error thrown while sending or receiving (no HTTP answer).
    static func classify(transport error: any Error, endpoint: String) -> KinesisError {
        if let error = error as? KinesisError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return KinesisError(kind: .retryable, code: "Timeout", message: "connecting to \(endpoint) timed out")
            case .readTimeout, .writeTimeout, .deadlineExceeded:
                return KinesisError(kind: .retryable, code: "Timeout", message: "no answer from \(endpoint) in time")
            case .remoteConnectionClosed:
                return KinesisError(
                    kind: .retryable, code: "ConnectionClosed", message: "\(endpoint) closed the connection before answering")
            case .cancelled:
                return KinesisError(kind: .retryable, code: "Cancelled", message: "the request to \(endpoint) was cancelled")
            default:
                return KinesisError(kind: .retryable, code: "TransportError", message: "\(endpoint): \(error)")
            }
        }
        if let error = error as? NIOConnectionError {
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                return KinesisError(
                    kind: .retryable, code: "HostNotFound", message: "cannot resolve the host of \(endpoint)")
            }
            let refused = error.connectionErrors.contains { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }
            return KinesisError(
                kind: .retryable, code: refused ? "ConnectionRefused" : "ConnectFailed",
                message: refused ? "\(endpoint) refused the connection" : "cannot connect to \(endpoint)")
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED:
                return KinesisError(kind: .retryable, code: "ConnectionRefused", message: "\(endpoint) refused the connection")
            case ECONNRESET, EPIPE:
                return KinesisError(kind: .retryable, code: "ConnectionReset", message: "\(endpoint) reset the connection")
            default:
                return KinesisError(kind: .retryable, code: "TransportError", message: "\(endpoint): \(error)")
            }
        }
        if let error = error as? ChannelError {
            return KinesisError(kind: .retryable, code: "ConnectionClosed", message: "\(endpoint): \(error)")
        }
        if error is CancellationError {
            return KinesisError(kind: .retryable, code: "Cancelled", message: "the request to \(endpoint) was cancelled")
        }
        return KinesisError(kind: .retryable, code: "TransportError", message: "\(endpoint): \(error)")
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 400: "bad request"
        case 403: "forbidden"
        case 404: "not found"
        case 408: "request timeout"
        case 413: "request too large"
        case 429: "too many requests"
        case 500: "internal server error"
        case 502: "bad gateway"
        case 503: "service unavailable"
        case 504: "gateway timeout"
        default: "unexpected HTTP status"
        }
    }
}

/// The code and message of an error answer, whatever its format: the JSON protocol
/// (`__type`, `message`), the query protocol's XML (`<Code>`, `<Message>`), or an HTML page
/// (its `<title>` or text). The message is whole here; `ErrorClassifier` cuts it to
/// `maxMessageLength` once secrets are removed.
struct ErrorBody: Equatable {
    var code: String?
    var message: String?

    static let maxMessageLength = 300

    static func parse(headers: HTTPHeaders, body: [UInt8]) -> ErrorBody {
        var result = ErrorBody()
        if let typeHeader = headers.first(name: "x-amzn-ErrorType"), !typeHeader.isEmpty {
            result.code = normalizeCode(typeHeader)
        }
        let firstByte = body.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        switch firstByte {
        case UInt8(ascii: "{"):
            if let json = try? JSONDecoder().decode(JSONErrorBody.self, from: Data(body)) {
                if result.code == nil, let type = json.type ?? json.code ?? json.Code { result.code = normalizeCode(type) }
                result.message = json.message ?? json.Message
            }
        case UInt8(ascii: "<"):
            let text = String(decoding: body, as: UTF8.self)
            if let code = XMLText.firstElement("Code", in: text), result.code == nil, !code.isEmpty {
                result.code = code
            }
            if let message = XMLText.firstElement("Message", in: text) {
                result.message = message
            } else if result.code == nil {
                result.message = XMLText.firstElement("title", in: text) ?? XMLText.plainText(text)
            }
        case nil:
            break
        default:
            result.message = String(decoding: body, as: UTF8.self)
        }
        if let message = result.message {
            let cleaned = message.trimmingCharacters(in: .whitespacesAndNewlines)
            result.message = cleaned.isEmpty ? nil : cleaned
        }
        return result
    }

    /// `com.amazonaws.kinesis.v20131202#ResourceNotFoundException` and
    /// `ResourceNotFoundException:http://internal.amazon.com/...` both become the bare code.
    static func normalizeCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return code.trimmingCharacters(in: .whitespaces)
    }
}

/// The fields an AWS JSON-protocol error body may have.
private struct JSONErrorBody: Decodable {
    var type: String?
    var code: String?
    var Code: String?
    var message: String?
    var Message: String?

    enum CodingKeys: String, CodingKey {
        case type = "__type"
        case code
        case Code
        case message
        case Message
    }
}
