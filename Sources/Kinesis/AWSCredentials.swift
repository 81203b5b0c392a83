import Foundation

/// A set of AWS credentials: an access key, its secret and, for temporary credentials, a
/// session token and an expiry. Printing, interpolating or dumping a value never shows the
/// secret or the token.
public struct AWSCredentials: Sendable, Equatable {
    public let accessKeyId: String
    public let secretAccessKey: String
    public let sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public let expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }
}

extension AWSCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        var text = "AWSCredentials(accessKeyId: \(accessKeyId), secretAccessKey: <redacted>"
        if sessionToken != nil { text += ", sessionToken: <redacted>" }
        if let expiration { text += ", expiration: \(expiration)" }
        return text + ")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyId": accessKeyId,
                "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "none" : "<redacted>",
                "expiration": expiration as Any,
            ]
        )
    }
}

/// Why credentials could not be had. The message names the provider and what it tried
/// (a file, a variable, an endpoint), never a secret.
public struct CredentialError: Error, Sendable, CustomStringConvertible {
    /// The provider that failed: `environment`, `web identity`, `profile default`, ...
    public var provider: String
    public var message: String
    /// True when the source may answer later (an endpoint that timed out, a 5xx).
    public var isTransient: Bool

    public init(provider: String, message: String, isTransient: Bool = false) {
        self.provider = provider
        self.message = message
        self.isTransient = isTransient
    }

    public var description: String { "credentials (\(provider)): \(message)" }
}

/// Something that produces AWS credentials when asked: the environment, a profile, an
/// endpoint, STS. Implementations that fetch temporary credentials are wrapped in a
/// `RefreshingCredentialProvider` so that they are asked only when needed.
public protocol CredentialProvider: Sendable {
    /// A short name for messages: `environment`, `profile prod`, `instance metadata`, ...
    var name: String { get }
    func credentials() async throws(CredentialError) -> AWSCredentials
}

/// Fixed credentials, given in code or read once from the environment or a profile.
public struct StaticCredentialProvider: CredentialProvider {
    public let name: String
    let value: AWSCredentials

    public init(_ credentials: AWSCredentials, name: String = "static") {
        self.value = credentials
        self.name = name
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials { value }
}
