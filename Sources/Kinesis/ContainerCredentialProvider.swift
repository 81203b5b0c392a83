import AsyncHTTPClient
import Foundation

/// Credentials from the ECS (or EKS Pod Identity) container endpoint:
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (under `http://169.254.170.2`) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the token of
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at each fetch, since it rotates) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` in the `Authorization` header.
public struct ContainerCredentialProvider: CredentialProvider {
    public var name: String { "container endpoint" }

    /// Where the token comes from.
    public enum Token: Sendable, Equatable {
        case none
        case value(String)
        case file(String)
    }

    public let url: String
    let token: Token
    let http: HTTPExchange
    let timeout: Duration

    /// The link-local address of the ECS agent, prefixed to a relative URI.
    public static let ecsHost = "http://169.254.170.2"
    /// Hosts an `http://` full URI may name: loopback, and the ECS and EKS agents.
    static let allowedPlainHosts: Set<String> = ["127.0.0.1", "localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"]

    public init(url: String, token: Token, httpClient: HTTPClient, timeout: Duration = .seconds(5)) {
        self.url = url
        self.token = token
        self.http = HTTPExchange(client: httpClient)
        self.timeout = timeout
    }

    /// The provider the environment configures, nil when neither URI variable is set.
    public static func fromEnvironment(
        _ environment: [String: String], httpClient: HTTPClient
    ) throws(CredentialError) -> ContainerCredentialProvider? {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"].nonEmpty {
            url = ecsHost + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"].nonEmpty {
            try validateFullURI(full)
            url = full
        } else {
            return nil
        }
        let token: Token
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"].nonEmpty {
            token = .file(file)
        } else if let value = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"].nonEmpty {
            token = .value(value)
        } else {
            token = .none
        }
        return ContainerCredentialProvider(url: url, token: token, httpClient: httpClient)
    }

    /// A full URI must be https, or http to a loopback address or an ECS/EKS agent.
    static func validateFullURI(_ text: String) throws(CredentialError) {
        let endpoint: ServiceEndpoint
        do {
            endpoint = try ServiceEndpoint.parse(text, signingRegion: "")
        } catch {
            throw CredentialError(provider: "container endpoint", message: "AWS_CONTAINER_CREDENTIALS_FULL_URI: \(error)")
        }
        let host = endpoint.host.lowercased()
        if endpoint.scheme == "http", !(allowedPlainHosts.contains(host) || host.hasPrefix("127.")) {
            throw CredentialError(
                provider: "container endpoint",
                message:
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https, or http to a loopback address or 169.254.170.2/169.254.170.23 (got host \(endpoint.host))"
            )
        }
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        var headers: [(String, String)] = [("Accept", "application/json")]
        switch token {
        case .none:
            break
        case .value(let value):
            headers.append(("Authorization", try Self.checkedToken(value, source: "AWS_CONTAINER_AUTHORIZATION_TOKEN")))
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CredentialError(provider: name, message: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path)")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            headers.append(("Authorization", try Self.checkedToken(value, source: path)))
        }
        let answer: HTTPExchange.Answer
        do {
            answer = try await http.send(.GET, url: url, headers: headers, timeout: timeout)
        } catch {
            let failure = ErrorClassifier.classify(transport: error, endpoint: url)
            throw CredentialError(provider: name, message: failure.message, isTransient: true)
        }
        guard answer.status == 200 else {
            let failure = ErrorClassifier.classify(status: answer.status, headers: answer.headers, body: answer.body)
            throw CredentialError(
                provider: name, message: "\(url) answered \(failure.description)", isTransient: failure.kind != .fatal)
        }
        return try MetadataCredentials.decode(answer.body, provider: name, source: url)
    }

    static func checkedToken(_ token: String, source: String) throws(CredentialError) -> String {
        guard !token.isEmpty, !token.contains("\r"), !token.contains("\n") else {
            throw CredentialError(
                provider: "container endpoint", message: "the authorization token from \(source) is empty or has a line break")
        }
        return token
    }
}

/// The JSON document the container endpoint and instance metadata answer with.
enum MetadataCredentials {
    private struct Document: Decodable {
        var Code: String?
        var Message: String?
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var Token: String?
        var Expiration: String?
    }

    static func decode(_ body: [UInt8], provider: String, source: String) throws(CredentialError) -> AWSCredentials {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(body))
        } catch {
            throw CredentialError(provider: provider, message: "\(source) answered something that is not a credentials document")
        }
        if let code = document.Code, code != "Success" {
            throw CredentialError(
                provider: provider, message: "\(source) answered Code \(code)\(document.Message.map { ": \($0)" } ?? "")",
                isTransient: true)
        }
        guard let accessKeyId = document.AccessKeyId, !accessKeyId.isEmpty,
            let secret = document.SecretAccessKey, !secret.isEmpty
        else {
            throw CredentialError(provider: provider, message: "\(source) answered without AccessKeyId or SecretAccessKey")
        }
        var expiration: Date?
        if let text = document.Expiration {
            guard let parsed = ISO8601.parse(text) else {
                throw CredentialError(provider: provider, message: "\(source) answered an Expiration that is not ISO-8601: \(text)")
            }
            expiration = parsed
        }
        return AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secret, sessionToken: document.Token, expiration: expiration)
    }
}
