import AsyncHTTPClient
import Logging
import Testing

@testable import Kinesis

/// The shared credentials and config files, read from real files, and which provider the
/// default chain picks for an environment.
@Suite struct SharedConfigFilesTests {
    static let credentialsText = """
        # a comment
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = default-secret

        [prod]
        aws_access_key_id=AKIDPROD
        aws_secret_access_key=prod/secret+with=equals
        aws_session_token = prod-token
        ; another comment
        [shared]
        aws_access_key_id = AKIDFROMCREDENTIALS
        """
    static let configText = """
        [default]
        region = eu-west-1
        s3 =
          max_concurrent_requests = 20
          addressing_style = path
        output = json

        [profile shared]
        aws_access_key_id = AKIDFROMCONFIG
        aws_secret_access_key = shared-secret
        region = us-west-2

        [profile assumer]
        role_arn = arn:aws:iam::123456789012:role/forwarder
        source_profile = prod
        external_id = ext-1
        region = eu-central-1

        [profile web]
        role_arn = arn:aws:iam::123456789012:role/web
        web_identity_token_file = /var/run/secrets/token

        [profile loop-a]
        role_arn = arn:aws:iam::123456789012:role/a
        source_profile = loop-b

        [profile loop-b]
        role_arn = arn:aws:iam::123456789012:role/b
        source_profile = loop-a

        [sso-session ignored]
        sso_region = us-east-1
        """

    let directory: TemporaryDirectory
    let environment: [String: String]

    init() throws {
        directory = try TemporaryDirectory()
        let credentials = directory.write("credentials", Self.credentialsText)
        let config = directory.write("config", Self.configText)
        environment = ["HOME": directory.path, "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config]
    }

    @Test func profilesFromBothFiles() throws {
        let files = try SharedConfigFiles.load(environment: environment)
        #expect(files.sources.count == 2)
        #expect(files.profiles["default"]?["aws_access_key_id"] == "AKIDDEFAULT")
        #expect(files.profiles["default"]?["region"] == "eu-west-1")
        #expect(files.profiles["default"]?["output"] == "json")
        #expect(files.profiles["default"]?["max_concurrent_requests"] == nil)
        #expect(files.profiles["prod"]?["aws_secret_access_key"] == "prod/secret+with=equals")
        #expect(files.profiles["prod"]?["aws_session_token"] == "prod-token")
        // The credentials file wins over the config file for the same key.
        #expect(files.profiles["shared"]?["aws_access_key_id"] == "AKIDFROMCREDENTIALS")
        #expect(files.profiles["shared"]?["aws_secret_access_key"] == "shared-secret")
        #expect(files.profiles["assumer"]?["source_profile"] == "prod")
        #expect(files.profiles["ignored"] == nil)
    }

    @Test func theDefaultPathsAreUnderHome() {
        let paths = SharedConfigFiles.paths(environment: ["HOME": "/home/u"])
        #expect(paths.credentials == "/home/u/.aws/credentials")
        #expect(paths.config == "/home/u/.aws/config")
        #expect(SharedConfigFiles.paths(environment: ["HOME": "/h", "AWS_CONFIG_FILE": "~/cfg"]).config == "/h/cfg")
    }

    @Test func missingFilesAreNoError() throws {
        let files = try SharedConfigFiles.load(environment: ["HOME": directory.path + "/absent"])
        #expect(files.profiles.isEmpty)
        #expect(files.sources.isEmpty)
    }

    @Test func malformedFilesNameTheFileAndLine() {
        let bad = directory.write("bad", "[default]\naws_access_key_id = A\nthis line has no equals sign\n")
        #expect {
            try SharedConfigFiles.load(environment: [
                "HOME": directory.path, "AWS_SHARED_CREDENTIALS_FILE": bad, "AWS_CONFIG_FILE": bad + ".none",
            ])
        } throws: { error in
            "\(error)".contains("\(bad):3: expected 'key = value'")
        }
        let early = directory.write("early", "key = value\n[default]\n")
        #expect {
            try SharedConfigFiles.load(environment: [
                "HOME": directory.path, "AWS_SHARED_CREDENTIALS_FILE": early, "AWS_CONFIG_FILE": early + ".none",
            ])
        } throws: { error in
            "\(error)".contains("\(early):1: a setting before any [section]")
        }
    }

    // The chain's choice.

    func resolve(_ extra: [String: String], profile: String? = nil, roleArn: String? = nil) async throws -> any CredentialProvider {
        try await withHTTPClient { client in
            let chain = CredentialChain(
                environment: environment.merging(extra) { _, new in new }, region: "eu-west-1", httpClient: client,
                logger: Logger(label: "test"))
            return try chain.resolve(profile: profile, roleArn: roleArn)
        }
    }

    @Test func environmentComesFirst() async throws {
        let provider = try await resolve([
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
        ])
        #expect(provider.name == "environment")
        let credentials = try await provider.credentials()
        #expect(credentials == AWSCredentials(accessKeyId: "AKIDENV", secretAccessKey: "env-secret", sessionToken: "env-token"))
    }

    @Test func halfAnEnvironmentKeyIsAnError() async {
        await #expect {
            try await resolve(["AWS_ACCESS_KEY_ID": "AKIDENV"])
        } throws: { error in
            "\(error)".contains("AWS_SECRET_ACCESS_KEY is not")
        }
    }

    @Test func webIdentityBeforeProfiles() async throws {
        let provider = try await resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": "/tmp/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"])
        #expect(provider.name == "web identity")
        await #expect {
            try await resolve(["AWS_WEB_IDENTITY_TOKEN_FILE": "/tmp/token"])
        } throws: { error in
            "\(error)".contains("AWS_ROLE_ARN is not")
        }
    }

    @Test func thenTheProfileOfAWSProfile() async throws {
        let fallback = try await resolve([:])
        #expect(fallback.name == "profile default")
        #expect(try await fallback.credentials().accessKeyId == "AKIDDEFAULT")
        let prod = try await resolve(["AWS_PROFILE": "prod"])
        #expect(
            try await prod.credentials()
                == AWSCredentials(accessKeyId: "AKIDPROD", secretAccessKey: "prod/secret+with=equals", sessionToken: "prod-token"))
        await #expect {
            try await resolve(["AWS_PROFILE": "nope"])
        } throws: { error in
            "\(error)".contains("AWS_PROFILE names a profile that is not in")
        }
    }

    @Test func aNamedProfileIgnoresTheEnvironment() async throws {
        let provider = try await resolve(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"], profile: "shared")
        #expect(try await provider.credentials().accessKeyId == "AKIDFROMCREDENTIALS")
        await #expect {
            try await resolve([:], profile: "absent")
        } throws: { error in
            "\(error)".contains("profile absent") && "\(error)".contains("no such profile")
        }
    }

    @Test func profilesWithRoles() async throws {
        #expect(try await resolve([:], profile: "assumer").name == "assume role arn:aws:iam::123456789012:role/forwarder")
        #expect(try await resolve([:], profile: "web").name == "web identity")
        await #expect {
            try await resolve([:], profile: "loop-a")
        } throws: { error in
            "\(error)".contains("loops")
        }
    }

    @Test func thenContainerThenInstanceMetadata() async throws {
        let empty = ["HOME": directory.path + "/absent", "AWS_SHARED_CREDENTIALS_FILE": "", "AWS_CONFIG_FILE": ""]
        let container = try await resolve(empty.merging(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"]) { _, n in n })
        #expect(container.name == "container endpoint")
        #expect(try await resolve(empty).name == "instance metadata")
        await #expect {
            try await resolve(empty.merging(["AWS_EC2_METADATA_DISABLED": "true"]) { _, n in n })
        } throws: { error in
            let text = "\(error)"
            return text.contains("no AWS credentials found") && text.contains("environment: AWS_ACCESS_KEY_ID not set")
                && text.contains("instance metadata: disabled")
        }
    }

    @Test func aRoleIsAssumedOnTopOfTheChain() async throws {
        let provider = try await resolve(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"], roleArn: "arn:aws:iam::1:role/x")
        #expect(provider.name == "assume role arn:aws:iam::1:role/x")
    }

    @Test func containerFullURIMustBeLocalOrHTTPS() throws {
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        defer { try? client.syncShutdown() }
        let relative = try ContainerCredentialProvider.fromEnvironment(
            ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok"],
            httpClient: client)
        #expect(relative?.url == "http://169.254.170.2/v2/credentials/abc")
        for allowed in [
            "http://127.0.0.1:8080/c", "http://169.254.170.23/v1/credentials", "https://creds.example.com/x", "http://[::1]:9/x",
        ] {
            #expect(
                try ContainerCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": allowed], httpClient: client)?.url
                    == allowed)
        }
        #expect(throws: CredentialError.self) {
            try ContainerCredentialProvider.fromEnvironment(
                ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://evil.example.com/creds"], httpClient: client)
        }
    }
}
