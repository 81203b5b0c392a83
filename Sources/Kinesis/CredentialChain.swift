import AsyncHTTPClient
import Foundation
import Logging

/// Picks where credentials come from, in the AWS SDKs' default order: the environment,
/// web identity, the shared files' profile, the container endpoint, instance metadata.
/// The first source that is configured is used; one that is configured but broken (an
/// unreadable token file, a profile with half a key) is an error, not skipped. A named
/// profile (`sink.profile`) uses that profile only. A `role_arn` is assumed on top.
public struct CredentialChain: Sendable {
    public var environment: [String: String]
    /// The region STS is called in (for web identity and assumed roles).
    public var region: String
    let httpClient: HTTPClient
    let logger: Logger
    let clock: @Sendable () -> Date

    public init(
        environment: [String: String], region: String, httpClient: HTTPClient, logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.environment = environment
        self.region = region
        self.httpClient = httpClient
        self.logger = logger
        self.clock = clock
    }

    /// The provider for `profile` (nil: the default chain), with `roleArn` assumed on top.
    public func resolve(profile: String? = nil, roleArn: String? = nil) throws(CredentialError) -> any CredentialProvider {
        let base: any CredentialProvider
        if let profile, !profile.isEmpty {
            let files = try SharedConfigFiles.load(environment: environment)
            guard let settings = files.profiles[profile] else {
                throw CredentialError(provider: "profile \(profile)", message: "no such profile in \(describe(files))")
            }
            guard let provider = try profileProvider(profile, settings: settings, files: files, depth: 0) else {
                throw CredentialError(
                    provider: "profile \(profile)",
                    message: "the profile has neither aws_access_key_id/aws_secret_access_key nor role_arn")
            }
            base = provider
        } else {
            base = try defaultChain()
        }
        guard let roleArn, !roleArn.isEmpty else { return base }
        return RefreshingCredentialProvider(
            AssumeRoleCredentialProvider(roleArn: roleArn, base: base, sts: try sts()), clock: clock, logger: logger)
    }

    /// The first configured source, in the SDKs' order.
    func defaultChain() throws(CredentialError) -> any CredentialProvider {
        var tried: [String] = []

        if let provider = try environmentProvider() { return provider }
        tried.append("environment: AWS_ACCESS_KEY_ID not set")

        if let provider = try webIdentityProvider() { return refreshing(provider) }
        tried.append("web identity: AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN not set")

        let profile = environment["AWS_PROFILE"].nonEmpty ?? environment["AWS_DEFAULT_PROFILE"].nonEmpty ?? "default"
        let files = try SharedConfigFiles.load(environment: environment)
        if let settings = files.profiles[profile] {
            if let provider = try profileProvider(profile, settings: settings, files: files, depth: 0) {
                return provider
            }
            tried.append("profile \(profile): no credentials in it")
        } else if profile != "default" {
            throw CredentialError(provider: "profile \(profile)", message: "AWS_PROFILE names a profile that is not in \(describe(files))")
        } else {
            tried.append("profile default: not in \(describe(files))")
        }

        if let provider = try ContainerCredentialProvider.fromEnvironment(environment, httpClient: httpClient) {
            return refreshing(provider)
        }
        tried.append("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set")

        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            tried.append("instance metadata: disabled by AWS_EC2_METADATA_DISABLED")
            throw CredentialError(provider: "default chain", message: "no AWS credentials found (\(tried.joined(separator: "; ")))")
        }
        let endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].nonEmpty ?? InstanceMetadataCredentialProvider.defaultEndpoint
        return refreshing(InstanceMetadataCredentialProvider(endpoint: endpoint, httpClient: httpClient, triedBefore: tried))
    }

    func environmentProvider() throws(CredentialError) -> (any CredentialProvider)? {
        let keyId = environment["AWS_ACCESS_KEY_ID"].nonEmpty
        let secret = environment["AWS_SECRET_ACCESS_KEY"].nonEmpty
        switch (keyId, secret) {
        case (nil, nil):
            return nil
        case (let keyId?, let secret?):
            let credentials = AWSCredentials(
                accessKeyId: keyId, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"].nonEmpty)
            return StaticCredentialProvider(credentials, name: "environment")
        case (_?, nil):
            throw CredentialError(provider: "environment", message: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (nil, _?):
            throw CredentialError(provider: "environment", message: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        }
    }

    func webIdentityProvider() throws(CredentialError) -> WebIdentityCredentialProvider? {
        let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"].nonEmpty
        let roleArn = environment["AWS_ROLE_ARN"].nonEmpty
        guard let tokenFile else { return nil }
        guard let roleArn else {
            throw CredentialError(provider: "web identity", message: "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        }
        return WebIdentityCredentialProvider(
            roleArn: roleArn, tokenFile: tokenFile, sessionName: environment["AWS_ROLE_SESSION_NAME"].nonEmpty, sts: try sts())
    }

    /// The provider a profile describes: static keys, or a role assumed from a
    /// `source_profile`, a `credential_source` or a `web_identity_token_file`.
    func profileProvider(
        _ name: String, settings: [String: String], files: SharedConfigFiles, depth: Int
    ) throws(CredentialError) -> (any CredentialProvider)? {
        let label = "profile \(name)"
        guard depth < 8 else {
            throw CredentialError(provider: label, message: "source_profile chain is too long or loops")
        }
        if let roleArn = settings["role_arn"] {
            let sessionName = settings["role_session_name"]
            if let tokenFile = settings["web_identity_token_file"] {
                return refreshing(
                    WebIdentityCredentialProvider(roleArn: roleArn, tokenFile: tokenFile, sessionName: sessionName, sts: try sts()))
            }
            let base: any CredentialProvider
            if let sourceName = settings["source_profile"] {
                guard let sourceSettings = files.profiles[sourceName] else {
                    throw CredentialError(provider: label, message: "source_profile \(sourceName) is not in \(describe(files))")
                }
                if sourceName == name {
                    guard let keys = try staticKeys(label, settings: settings) else {
                        throw CredentialError(provider: label, message: "source_profile names itself but the profile has no keys")
                    }
                    base = keys
                } else {
                    guard let provider = try profileProvider(sourceName, settings: sourceSettings, files: files, depth: depth + 1) else {
                        throw CredentialError(provider: label, message: "source_profile \(sourceName) has no credentials")
                    }
                    base = provider
                }
            } else if let source = settings["credential_source"] {
                switch source {
                case "Environment":
                    guard let provider = try environmentProvider() else {
                        throw CredentialError(provider: label, message: "credential_source Environment but AWS_ACCESS_KEY_ID is not set")
                    }
                    base = provider
                case "EcsContainer":
                    guard let provider = try ContainerCredentialProvider.fromEnvironment(environment, httpClient: httpClient) else {
                        throw CredentialError(
                            provider: label, message: "credential_source EcsContainer but no container credentials URI is set")
                    }
                    base = refreshing(provider)
                case "Ec2InstanceMetadata":
                    let endpoint =
                        environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].nonEmpty ?? InstanceMetadataCredentialProvider.defaultEndpoint
                    base = refreshing(InstanceMetadataCredentialProvider(endpoint: endpoint, httpClient: httpClient))
                default:
                    throw CredentialError(
                        provider: label, message: "credential_source \(source) is not one of Environment, EcsContainer, Ec2InstanceMetadata"
                    )
                }
            } else {
                throw CredentialError(
                    provider: label, message: "role_arn needs source_profile, credential_source or web_identity_token_file")
            }
            let duration = settings["duration_seconds"].flatMap { Int($0) }
            return refreshing(
                AssumeRoleCredentialProvider(
                    roleArn: roleArn, sessionName: sessionName, externalId: settings["external_id"], durationSeconds: duration,
                    base: base, sts: try sts()))
        }
        return try staticKeys(label, settings: settings)
    }

    func staticKeys(_ label: String, settings: [String: String]) throws(CredentialError) -> (any CredentialProvider)? {
        let keyId = settings["aws_access_key_id"]
        let secret = settings["aws_secret_access_key"]
        switch (keyId, secret) {
        case (nil, nil):
            return nil
        case (let keyId?, let secret?):
            return StaticCredentialProvider(
                AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: settings["aws_session_token"]), name: label)
        default:
            throw CredentialError(provider: label, message: "the profile has only one of aws_access_key_id and aws_secret_access_key")
        }
    }

    func sts() throws(CredentialError) -> STSClient {
        do {
            return STSClient(
                httpClient: httpClient, endpoint: try STSClient.endpoint(region: region, environment: environment), clock: clock)
        } catch {
            throw CredentialError(provider: "STS", message: error.message)
        }
    }

    func refreshing(_ provider: any CredentialProvider) -> RefreshingCredentialProvider {
        RefreshingCredentialProvider(provider, clock: clock, logger: logger)
    }

    func describe(_ files: SharedConfigFiles) -> String {
        let (credentials, config) = SharedConfigFiles.paths(environment: environment)
        return files.sources.isEmpty ? "\(credentials) or \(config) (neither exists)" : files.sources.joined(separator: " or ")
    }
}
