import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// The two AWS STS calls the credential providers need: `AssumeRole` (signed with the
/// caller's credentials) and `AssumeRoleWithWebIdentity` (unsigned, with an OIDC token).
/// STS speaks the query protocol: a form-encoded POST answered with XML.
public struct STSClient: Sendable {
    let http: HTTPExchange
    public let endpoint: ServiceEndpoint
    let timeout: Duration
    let clock: @Sendable () -> Date

    public init(
        httpClient: HTTPClient, endpoint: ServiceEndpoint, timeout: Duration = .seconds(10),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.http = HTTPExchange(client: httpClient)
        self.endpoint = endpoint
        self.timeout = timeout
        self.clock = clock
    }

    /// The STS endpoint for `region`: `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else
    /// the regional endpoint (`https://sts.<region>.amazonaws.com`, `.com.cn` in China).
    public static func endpoint(region: String, environment: [String: String]) throws(EndpointError) -> ServiceEndpoint {
        let override = environment["AWS_ENDPOINT_URL_STS"].nonEmpty ?? environment["AWS_ENDPOINT_URL"].nonEmpty
        return try ServiceEndpoint.resolve(service: "sts", region: region, override: override)
    }

    public func assumeRole(
        roleArn: String, sessionName: String, externalId: String? = nil, durationSeconds: Int? = nil,
        credentials: AWSCredentials
    ) async throws(CredentialError) -> AWSCredentials {
        var parameters = [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleArn), ("RoleSessionName", sessionName)]
        if let externalId { parameters.append(("ExternalId", externalId)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        return try await call(
            "AssumeRole", roleArn: roleArn, parameters: parameters, signWith: credentials, secrets: credentials.secrets)
    }

    public func assumeRoleWithWebIdentity(
        roleArn: String, sessionName: String, webIdentityToken: String, durationSeconds: Int? = nil
    ) async throws(CredentialError) -> AWSCredentials {
        var parameters = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleArn),
            ("RoleSessionName", sessionName), ("WebIdentityToken", webIdentityToken),
        ]
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        return try await call(
            "AssumeRoleWithWebIdentity", roleArn: roleArn, parameters: parameters, signWith: nil, secrets: [webIdentityToken])
    }

    private func call(
        _ action: String, roleArn: String, parameters: [(String, String)], signWith credentials: AWSCredentials?,
        secrets: [String]
    ) async throws(CredentialError) -> AWSCredentials {
        let provider = "STS \(action) \(roleArn)"
        let body = Array(
            parameters.map { "\(SigV4Signer.uriEncode($0.0))=\(SigV4Signer.uriEncode($0.1))" }.joined(separator: "&").utf8)
        var headers: [(String, String)] = [
            ("Host", endpoint.hostHeader), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]
        if let credentials {
            let signed = SigV4Signer(service: "sts", region: endpoint.signingRegion).sign(
                method: "POST", path: endpoint.path, headers: headers.map { (name: $0.0, value: $0.1) },
                payloadSHA256: SigV4Signer.sha256Hex(body), credentials: credentials, date: clock())
            headers += signed.headersToAdd.map { ($0.name, $0.value) }
        }
        let answer: HTTPExchange.Answer
        do {
            answer = try await http.send(.POST, url: endpoint.url, headers: headers, body: body, timeout: timeout)
        } catch {
            let failure = ErrorClassifier.classify(transport: error, endpoint: endpoint.url)
            throw CredentialError(provider: provider, message: failure.description, isTransient: true)
        }
        guard (200..<300).contains(answer.status) else {
            let failure = ErrorClassifier.classify(
                status: answer.status, headers: answer.headers, body: answer.body, secrets: secrets)
            throw CredentialError(provider: provider, message: failure.description, isTransient: failure.kind != .fatal)
        }
        let document = String(decoding: answer.body, as: UTF8.self)
        guard let credentialsXML = XMLText.firstElement("Credentials", in: document),
            let accessKeyId = XMLText.firstElement("AccessKeyId", in: credentialsXML), !accessKeyId.isEmpty,
            let secret = XMLText.firstElement("SecretAccessKey", in: credentialsXML), !secret.isEmpty
        else {
            throw CredentialError(provider: provider, message: "the answer holds no credentials")
        }
        let expirationText = XMLText.firstElement("Expiration", in: credentialsXML)
        let expiration = expirationText.flatMap(ISO8601.parse)
        if expirationText != nil, expiration == nil {
            throw CredentialError(provider: provider, message: "the credentials' Expiration is not an ISO-8601 time")
        }
        return AWSCredentials(
            accessKeyId: accessKeyId, secretAccessKey: secret,
            sessionToken: XMLText.firstElement("SessionToken", in: credentialsXML), expiration: expiration)
    }
}
