import AsyncHTTPClient
import Foundation
import Logging
import Testing

@testable import Kinesis

/// Each credential provider against a real peer: the metadata server of the harness
/// playing IMDSv2 and the ECS endpoint, and moto's STS; each time the credentials obtained
/// are then used to put a record on moto with signature checking on.
@Suite struct CredentialProviderTests {
    /// Puts one record with the credentials the chain resolves for `environment`; returns
    /// where they came from and what they were.
    func putThroughChain(
        _ moto: Moto, environment: [String: String], roleArn: String? = nil
    ) async throws -> (source: String, credentials: AWSCredentials) {
        let client = try KinesisClient(
            configuration: .init(region: moto.region, endpoint: moto.url, roleArn: roleArn, environment: environment),
            logger: Logger(label: "test"))
        return try await using(client) { client in
            let stream = try await moto.createStream()
            _ = try await client.putRecord(stream: stream, record: PutRecordsEntry(partitionKey: "k", data: Array("x".utf8)))
            #expect(try await moto.readAll(stream).map(\.key) == ["k"])
            return (client.credentialSource, try await client.credentials.credentials())
        }
    }

    /// An environment with no credentials of its own and no shared files.
    func bareEnvironment(_ directory: TemporaryDirectory) -> [String: String] {
        ["HOME": directory.path, "AWS_EC2_METADATA_DISABLED": "true"]
    }

    func fixedCredentials(_ key: Moto.Key) -> String {
        #"{"credentials": {"AccessKeyId": "\#(key.access_key_id)", "SecretAccessKey": "\#(key.secret_access_key)", "Token": null}}"#
    }

    @Test func instanceMetadataWithIMDSv2() async throws {
        let moto = try await SharedMoto.shared.moto()
        let metadata = try await MetadataPeer()
        try await metadata.configure(fixedCredentials(moto.forwarder))
        let directory = try TemporaryDirectory()
        var environment = bareEnvironment(directory)
        environment["AWS_EC2_METADATA_DISABLED"] = nil
        environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = metadata.url
        #expect(try await putThroughChain(moto, environment: environment).source == "instance metadata")
        let stats = try await metadata.stats()
        #expect(stats["token_requests"] == 1)
        #expect(stats["imds_role_requests"] == 1)
        #expect(stats["imds_credentials"] == 1)
        #expect(stats["unauthorized"] == 0)
    }

    @Test func instanceMetadataAnswersAreChecked() async throws {
        let metadata = try await MetadataPeer()
        try await withHTTPClient { http in
            let provider = InstanceMetadataCredentialProvider(endpoint: metadata.url, httpClient: http)
            let credentials = try await provider.credentials()
            #expect(credentials.accessKeyId == "ASIATEST1")
            #expect(credentials.sessionToken == "token-1")
            let expiration = try #require(credentials.expiration)
            #expect(abs(expiration.timeIntervalSinceNow - 3600) < 60)

            try await metadata.configure(#"{"fail": 1}"#)
            await #expect {
                try await provider.credentials()
            } throws: { error in
                (error as? CredentialError)?.isTransient == true && "\(error)".contains("HTTP 500")
            }

            let nowhere = InstanceMetadataCredentialProvider(
                endpoint: "http://127.0.0.1:\(try unusedPort())", httpClient: http, triedBefore: ["environment: AWS_ACCESS_KEY_ID not set"])
            await #expect {
                try await nowhere.credentials()
            } throws: { error in
                "\(error)".contains("no AWS credentials found (environment: AWS_ACCESS_KEY_ID not set); no instance metadata service")
            }
        }
    }

    @Test func containerEndpointWithATokenFile() async throws {
        let moto = try await SharedMoto.shared.moto()
        let metadata = try await MetadataPeer()
        try await metadata.configure(fixedCredentials(moto.forwarder))
        try await metadata.configure(#"{"ecs_token": "Bearer pod-token-1"}"#)
        let directory = try TemporaryDirectory()
        let tokenFile = directory.write("token", "Bearer pod-token-1\n")
        var environment = bareEnvironment(directory)
        environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = metadata.url + "/ecs/credentials"
        environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = tokenFile
        #expect(try await putThroughChain(moto, environment: environment).source == "container endpoint")
        #expect(try await metadata.stats()["ecs_credentials"] == 1)

        // A rotated token file is read again; a wrong token is refused by the endpoint.
        directory.write("token", "Bearer stale")
        try await withHTTPClient { http in
            let provider = ContainerCredentialProvider(url: metadata.url + "/ecs/credentials", token: .file(tokenFile), httpClient: http)
            await #expect {
                try await provider.credentials()
            } throws: { error in
                "\(error)".contains("HTTP 401") && !"\(error)".contains("stale")
            }
        }
        #expect(try await metadata.stats()["unauthorized"] == 1)
    }

    @Test func assumeRoleThroughMotoSTS() async throws {
        let moto = try await SharedMoto.shared.moto()
        let roleArn = try #require(moto.roles["forwarder-role"])
        let directory = try TemporaryDirectory()
        var environment = bareEnvironment(directory)
        environment["AWS_ACCESS_KEY_ID"] = moto.admin.access_key_id
        environment["AWS_SECRET_ACCESS_KEY"] = moto.admin.secret_access_key
        environment["AWS_ENDPOINT_URL_STS"] = moto.url
        let (source, credentials) = try await putThroughChain(moto, environment: environment, roleArn: roleArn)
        #expect(source == "assume role \(roleArn)")
        #expect(credentials.accessKeyId.hasPrefix("ASIA"))
        #expect(credentials.sessionToken != nil)
        #expect(credentials.expiration.map { $0 > Date() } == true)

        // The forwarder user may not call sts:AssumeRole: moto's STS says so, clearly.
        environment["AWS_ACCESS_KEY_ID"] = moto.forwarder.access_key_id
        environment["AWS_SECRET_ACCESS_KEY"] = moto.forwarder.secret_access_key
        let denied = try KinesisClient(
            configuration: .init(region: moto.region, endpoint: moto.url, roleArn: roleArn, environment: environment),
            logger: Logger(label: "test"))
        defer { Task { await denied.shutdown() } }
        await #expect {
            try await denied.putRecord(stream: "any", record: PutRecordsEntry(partitionKey: "k", data: [1]))
        } throws: { error in
            let text = "\(error)"
            return (error as? KinesisError)?.kind == .fatal && text.contains("AccessDenied") && text.contains("sts:AssumeRole")
                && !text.contains(moto.forwarder.secret_access_key)
        }
    }

    @Test func webIdentityThroughMotoSTS() async throws {
        let moto = try await SharedMoto.shared.moto()
        let roleArn = try #require(moto.roles["forwarder-role"])
        let directory = try TemporaryDirectory()
        var environment = bareEnvironment(directory)
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = directory.write("token", "eyJhbGciOiJSUzI1NiJ9.test.token")
        environment["AWS_ROLE_ARN"] = roleArn
        environment["AWS_ROLE_SESSION_NAME"] = "lk-test"
        environment["AWS_ENDPOINT_URL_STS"] = moto.url
        let (source, credentials) = try await putThroughChain(moto, environment: environment)
        #expect(source == "web identity")
        #expect(credentials.accessKeyId.hasPrefix("ASIA"))

        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = directory.path + "/missing-token"
        let broken = try KinesisClient(
            configuration: .init(region: moto.region, endpoint: moto.url, environment: environment), logger: Logger(label: "test"))
        defer { Task { await broken.shutdown() } }
        await #expect {
            try await broken.putRecord(stream: "any", record: PutRecordsEntry(partitionKey: "k", data: [1]))
        } throws: { error in
            "\(error)".contains("cannot read the web identity token file \(directory.path)/missing-token")
        }
    }

    @Test func sharedFilesProfileAgainstMoto() async throws {
        let moto = try await SharedMoto.shared.moto()
        let directory = try TemporaryDirectory()
        directory.write(
            "credentials",
            "[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n\n[forwarder]\naws_access_key_id = \(moto.forwarder.access_key_id)\naws_secret_access_key = \(moto.forwarder.secret_access_key)\n"
        )
        var environment = bareEnvironment(directory)
        environment["AWS_SHARED_CREDENTIALS_FILE"] = directory.path + "/credentials"
        environment["AWS_PROFILE"] = "forwarder"
        #expect(try await putThroughChain(moto, environment: environment).source == "profile forwarder")
    }
}
