import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// Credentials of the EC2 instance profile, from the instance metadata service with
/// IMDSv2: a session token is asked for first (`PUT /latest/api/token`), then the role name
/// and its credentials are read with it. The endpoint is `http://169.254.169.254` unless
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` says otherwise.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    public var name: String { "instance metadata" }

    public static let defaultEndpoint = "http://169.254.169.254"
    /// How long the IMDSv2 session token is asked to live.
    static let tokenTTLSeconds = 21_600

    public let endpoint: String
    let http: HTTPExchange
    let timeout: Duration
    /// What the chain tried before falling back to this provider, for the message when
    /// there is no instance metadata either.
    let triedBefore: [String]

    public init(endpoint: String = defaultEndpoint, httpClient: HTTPClient, timeout: Duration = .seconds(1), triedBefore: [String] = []) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.http = HTTPExchange(client: httpClient)
        self.timeout = timeout
        self.triedBefore = triedBefore
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        let token = try await text(
            .PUT, "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", String(Self.tokenTTLSeconds))])
        let tokenHeader = [("X-aws-ec2-metadata-token", token)]
        let roles = try await text(.GET, "/latest/meta-data/iam/security-credentials/", headers: tokenHeader)
        guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw failure("the instance has no IAM role attached", transient: false)
        }
        let path = "/latest/meta-data/iam/security-credentials/" + SigV4Signer.uriEncode(role)
        let body = try await bytes(.GET, path, headers: tokenHeader)
        return try MetadataCredentials.decode(body, provider: name, source: endpoint + path)
    }

    private func text(_ method: HTTPMethod, _ path: String, headers: [(String, String)]) async throws(CredentialError) -> String {
        String(decoding: try await bytes(method, path, headers: headers), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func bytes(_ method: HTTPMethod, _ path: String, headers: [(String, String)]) async throws(CredentialError) -> [UInt8] {
        let url = endpoint + path
        let answer: HTTPExchange.Answer
        do {
            answer = try await http.send(method, url: url, headers: headers, timeout: timeout)
        } catch {
            let transport = ErrorClassifier.classify(transport: error, endpoint: endpoint)
            throw failure("no instance metadata service: \(transport.message)", transient: true)
        }
        guard answer.status == 200 else {
            throw failure("\(method) \(path) answered HTTP \(answer.status)", transient: answer.status >= 500 || answer.status == 429)
        }
        return answer.body
    }

    private func failure(_ message: String, transient: Bool) -> CredentialError {
        let tried = triedBefore.isEmpty ? "" : "no AWS credentials found (\(triedBefore.joined(separator: "; "))); "
        return CredentialError(provider: name, message: tried + message, isTransient: transient)
    }
}
