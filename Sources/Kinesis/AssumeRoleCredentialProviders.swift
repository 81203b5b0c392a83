import Foundation

/// Credentials of a role assumed with STS `AssumeRole`, signed with the credentials of
/// another provider (the default chain, or a profile's `source_profile`). This is how a
/// sink's `role_arn` and a profile's `role_arn` are honoured.
public struct AssumeRoleCredentialProvider: CredentialProvider {
    public var name: String { "assume role \(roleArn)" }

    public let roleArn: String
    let sessionName: String
    let externalId: String?
    let durationSeconds: Int?
    let base: any CredentialProvider
    let sts: STSClient

    public init(
        roleArn: String, sessionName: String? = nil, externalId: String? = nil, durationSeconds: Int? = nil,
        base: any CredentialProvider, sts: STSClient
    ) {
        self.roleArn = roleArn
        self.sessionName = sessionName ?? RoleSessionName.make()
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.base = base
        self.sts = sts
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        let baseCredentials = try await base.credentials()
        return try await sts.assumeRole(
            roleArn: roleArn, sessionName: sessionName, externalId: externalId, durationSeconds: durationSeconds,
            credentials: baseCredentials)
    }
}

/// Credentials for a role assumed with an OIDC token (EKS IRSA and the like): STS
/// `AssumeRoleWithWebIdentity` with the token read from `AWS_WEB_IDENTITY_TOKEN_FILE` at
/// each fetch, since the token file is rotated.
public struct WebIdentityCredentialProvider: CredentialProvider {
    public var name: String { "web identity" }

    public let roleArn: String
    public let tokenFile: String
    let sessionName: String
    let sts: STSClient

    public init(roleArn: String, tokenFile: String, sessionName: String? = nil, sts: STSClient) {
        self.roleArn = roleArn
        self.tokenFile = tokenFile
        self.sessionName = sessionName ?? RoleSessionName.make()
        self.sts = sts
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw CredentialError(provider: name, message: "cannot read the web identity token file \(tokenFile)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CredentialError(provider: name, message: "the web identity token file \(tokenFile) is empty")
        }
        return try await sts.assumeRoleWithWebIdentity(roleArn: roleArn, sessionName: sessionName, webIdentityToken: token)
    }
}

/// Role session names: `lk-forwarder-<unix time>`, within STS's 2...64 characters.
enum RoleSessionName {
    static func make() -> String {
        "lk-forwarder-\(Int(Date().timeIntervalSince1970))"
    }
}
