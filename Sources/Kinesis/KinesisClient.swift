import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One record to put: its partition key, its bytes and, rarely, an explicit hash key.
public struct PutRecordsEntry: Sendable, Equatable {
    public var partitionKey: String
    public var data: [UInt8]
    public var explicitHashKey: String?

    public init(partitionKey: String, data: [UInt8], explicitHashKey: String? = nil) {
        self.partitionKey = partitionKey
        self.data = data
        self.explicitHashKey = explicitHashKey
    }
}

/// What Kinesis answered for one record of a PutRecords request.
public enum PutRecordsResultEntry: Sendable, Equatable {
    case success(shardId: String, sequenceNumber: String)
    /// `ProvisionedThroughputExceededException` or `InternalFailure` (or a KMS code).
    case failure(code: String, message: String)
}

/// A record of a PutRecords request that Kinesis did not take: its position in the
/// request, and why.
public struct PutRecordsFailure: Sendable, Equatable {
    public var index: Int
    public var code: String
    public var message: String

    public init(index: Int, code: String, message: String) {
        self.index = index
        self.code = code
        self.message = message
    }
}

/// The answer to a PutRecords request: one entry per record, in the request's order.
public struct PutRecordsResult: Sendable, Equatable {
    public var failedRecordCount: Int
    public var records: [PutRecordsResultEntry]
}

/// The answer to a PutRecord request.
public struct PutRecordResult: Sendable, Equatable {
    public var shardId: String
    public var sequenceNumber: String
}

/// A client of the Kinesis Data Streams API for putting records: PutRecord and PutRecords
/// over HTTPS (JSON protocol 1.1), signed with SigV4, on its own async-http-client
/// `HTTPClient`. Safe to call from many tasks at once; call `shutdown()` when done.
public final class KinesisClient: Sendable {
    /// How to reach Kinesis and with which credentials.
    public struct Configuration: Sendable {
        /// nil: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region`.
        public var region: String?
        /// An endpoint override: `http://127.0.0.1:5055`, a VPC endpoint URL. nil:
        /// `AWS_ENDPOINT_URL_KINESIS`, else `AWS_ENDPOINT_URL`, else the region's endpoint.
        public var endpoint: String?
        /// A profile of the shared files to take credentials from, instead of the default chain.
        public var profile: String?
        /// A role to assume with STS on top of the credentials.
        public var roleArn: String?
        /// How long one request may take, connection included.
        public var requestTimeout: Duration
        public var connectTimeout: Duration
        /// Connections kept to the endpoint; at least the number of requests in flight.
        public var maxConnections: Int
        /// The environment credentials and region are read from.
        public var environment: [String: String]

        public init(
            region: String? = nil, endpoint: String? = nil, profile: String? = nil, roleArn: String? = nil,
            requestTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(5), maxConnections: Int = 8,
            environment: [String: String] = ProcessInfo.processInfo.environment
        ) {
            self.region = region
            self.endpoint = endpoint
            self.profile = profile
            self.roleArn = roleArn
            self.requestTimeout = requestTimeout
            self.connectTimeout = connectTimeout
            self.maxConnections = maxConnections
            self.environment = environment
        }
    }

    public static let maxRecordsPerRequest = 500
    public static let maxPartitionKeyLength = 256

    public let endpoint: ServiceEndpoint
    /// Where the credentials come from, e.g. `environment`, `profile prod`, `web identity`.
    public var credentialSource: String { credentials.name }
    let httpClient: HTTPClient
    let credentials: any CredentialProvider
    let signer: SigV4Signer
    let requestTimeout: Duration
    let clock: @Sendable () -> Date
    let logger: Logger

    /// Resolves the region, the endpoint and the credentials, and opens an HTTP client.
    /// Throws a `fatal` error with code `InvalidConfiguration` for an unknown region, a bad
    /// endpoint or a credentials setup that cannot work.
    public convenience init(configuration: Configuration, logger: Logger) throws(KinesisError) {
        let region = try Self.resolveRegion(configuration)
        let override =
            configuration.endpoint.nonEmpty ?? configuration.environment["AWS_ENDPOINT_URL_KINESIS"].nonEmpty
            ?? configuration.environment["AWS_ENDPOINT_URL"].nonEmpty
        let endpoint: ServiceEndpoint
        do {
            endpoint = try ServiceEndpoint.resolve(service: "kinesis", region: region, override: override)
        } catch {
            throw KinesisError(kind: .fatal, code: "InvalidConfiguration", message: error.message)
        }
        let httpClient = Self.makeHTTPClient(configuration)
        let credentials: any CredentialProvider
        do {
            credentials = try CredentialChain(
                environment: configuration.environment, region: region, httpClient: httpClient, logger: logger
            ).resolve(profile: configuration.profile, roleArn: configuration.roleArn)
        } catch {
            try? httpClient.syncShutdown()
            throw KinesisError(kind: .fatal, code: "InvalidConfiguration", message: error.description)
        }
        self.init(
            endpoint: endpoint, credentials: credentials, httpClient: httpClient,
            requestTimeout: configuration.requestTimeout, logger: logger)
    }

    /// A client for `endpoint` with the given credentials, on `httpClient` (owned from now
    /// on: `shutdown()` shuts it down) or on a new one.
    public init(
        endpoint: ServiceEndpoint, credentials: any CredentialProvider, httpClient: HTTPClient? = nil,
        requestTimeout: Duration = .seconds(30), clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.endpoint = endpoint
        self.credentials = credentials
        self.httpClient = httpClient ?? Self.makeHTTPClient(Configuration())
        self.signer = SigV4Signer(service: "kinesis", region: endpoint.signingRegion)
        self.requestTimeout = requestTimeout
        self.clock = clock
        self.logger = logger
    }

    /// The region to sign for: the configuration's, else `AWS_REGION`, else
    /// `AWS_DEFAULT_REGION`, else the `region` of the profile in the shared config file.
    public static func resolveRegion(_ configuration: Configuration) throws(KinesisError) -> String {
        let environment = configuration.environment
        if let region = configuration.region.nonEmpty ?? environment["AWS_REGION"].nonEmpty
            ?? environment["AWS_DEFAULT_REGION"].nonEmpty
        {
            return region
        }
        let profile = configuration.profile.nonEmpty ?? environment["AWS_PROFILE"].nonEmpty ?? "default"
        do {
            if let region = try SharedConfigFiles.load(environment: environment).profiles[profile]?["region"] {
                return region
            }
        } catch {
            throw KinesisError(kind: .fatal, code: "InvalidConfiguration", message: error.description)
        }
        throw KinesisError(
            kind: .fatal, code: "InvalidConfiguration",
            message: "no AWS region: set sink.region, AWS_REGION, or region in the profile \(profile)")
    }

    static func makeHTTPClient(_ configuration: Configuration) -> HTTPClient {
        var pool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(50), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.maxConnections))
        pool.retryConnectionEstablishment = false
        let httpConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: configuration.connectTimeout.timeAmount),
            connectionPool: pool,
            decompression: .disabled)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
    }

    /// Shuts the HTTP client down. Calls made afterwards fail.
    public func shutdown() async {
        do {
            try await httpClient.shutdown()
        } catch {
            logger.debug("HTTP client shutdown", metadata: ["error": "\(error)"])
        }
    }

    /// Puts one record.
    public func putRecord(stream: String, record: PutRecordsEntry) async throws(KinesisError) -> PutRecordResult {
        try Self.validate(record)
        let answer = try await send(target: "PutRecord", body: PutRecordsBody.putRecord(stream: stream, record: record))
        guard let decoded = try? JSONDecoder().decode(PutRecordOutput.self, from: Data(answer)) else {
            throw KinesisError(kind: .retryable, code: "InvalidResponse", message: "PutRecord answer is not the expected JSON")
        }
        return PutRecordResult(shardId: decoded.ShardId, sequenceNumber: decoded.SequenceNumber)
    }

    /// Puts 1 to 500 records in one request. A thrown error concerns the whole request;
    /// per-record failures come back as `.failure` entries, in the request's order.
    public func putRecords(stream: String, records: [PutRecordsEntry]) async throws(KinesisError) -> PutRecordsResult {
        let answer = try await sendPutRecords(stream: stream, records: records)
        guard let entries = PutRecordsAnswer.entries(answer) else { throw Self.unexpectedAnswer }
        try Self.check(answered: entries.count, sent: records.count)
        var failed = 0
        for entry in entries {
            if case .failure = entry { failed += 1 }
        }
        return PutRecordsResult(failedRecordCount: failed, records: entries)
    }

    /// Puts records as `putRecords(stream:records:)` does, but answers only the records
    /// Kinesis did not take, by position: for a caller with no use for the accepted
    /// records' shard ids and sequence numbers (the agent's sink), which are then not made
    /// into two strings per record of every answer.
    public func putRecordsReportingFailures(
        stream: String, records: [PutRecordsEntry]
    ) async throws(KinesisError) -> [PutRecordsFailure] {
        let answer = try await sendPutRecords(stream: stream, records: records)
        guard let (count, failed) = PutRecordsAnswer.failures(answer) else { throw Self.unexpectedAnswer }
        try Self.check(answered: count, sent: records.count)
        return failed
    }

    private func sendPutRecords(stream: String, records: [PutRecordsEntry]) async throws(KinesisError) -> [UInt8] {
        guard (1...Self.maxRecordsPerRequest).contains(records.count) else {
            throw KinesisError(
                kind: .fatal, code: "ValidationException",
                message: "a PutRecords request holds 1 to \(Self.maxRecordsPerRequest) records, not \(records.count)")
        }
        for index in records.indices { try Self.validate(records[index]) }
        return try await send(target: "PutRecords", body: PutRecordsBody.putRecords(stream: stream, records: records))
    }

    private static let unexpectedAnswer = KinesisError(
        kind: .retryable, code: "InvalidResponse", message: "PutRecords answer is not the expected JSON")

    private static func check(answered: Int, sent: Int) throws(KinesisError) {
        guard answered != sent else { return }
        throw KinesisError(
            kind: .retryable, code: "InvalidResponse", message: "PutRecords answered \(answered) results for \(sent) records")
    }

    /// Whether Kinesis takes `key` as a partition key: 1 to 256 Unicode scalars. A key of
    /// at most 256 UTF-8 bytes has at most 256 scalars, so the scalars (a walk over the
    /// string) are counted only for longer keys.
    public static func acceptsPartitionKey(_ key: String) -> Bool {
        let bytes = key.utf8.count
        return bytes > 0 && (bytes <= maxPartitionKeyLength || key.unicodeScalars.count <= maxPartitionKeyLength)
    }

    static func validate(_ record: PutRecordsEntry) throws(KinesisError) {
        guard !acceptsPartitionKey(record.partitionKey) else { return }
        throw KinesisError(
            kind: .fatal, code: "ValidationException",
            message: "a partition key has 1 to \(maxPartitionKeyLength) characters, not \(record.partitionKey.unicodeScalars.count)")
    }

    /// Signs and posts one JSON-protocol request; returns the body of a 2xx answer.
    func send(target: String, body: ByteBuffer) async throws(KinesisError) -> [UInt8] {
        let credentials: AWSCredentials
        do {
            credentials = try await self.credentials.credentials()
        } catch {
            throw KinesisError(kind: error.isTransient ? .retryable : .fatal, code: "CredentialsUnavailable", message: error.description)
        }
        let headers: [(name: String, value: String)] = [
            ("Host", endpoint.hostHeader),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "Kinesis_20131202.\(target)"),
        ]
        let payloadSHA256 = body.withUnsafeReadableBytes { SigV4Signer.sha256Hex($0) }
        let signed = signer.sign(
            method: "POST", path: endpoint.path, headers: headers, payloadSHA256: payloadSHA256, credentials: credentials,
            date: clock())
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        for (name, value) in headers + signed.headersToAdd { request.headers.add(name: name, value: value) }
        request.headers.add(name: "User-Agent", value: "lk-forwarder")
        request.body = .bytes(body)

        let status: Int
        let responseHeaders: HTTPHeaders
        var responseBody: ByteBuffer
        do {
            let response = try await httpClient.execute(request, timeout: requestTimeout.timeAmount, logger: logger)
            status = Int(response.status.code)
            responseHeaders = response.headers
            responseBody = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw ErrorClassifier.classify(transport: error, endpoint: endpoint.url).redacting(credentials)
        }
        let bytes = responseBody.readBytes(length: responseBody.readableBytes) ?? []
        guard (200..<300).contains(status) else {
            let failure = ErrorClassifier.classify(status: status, headers: responseHeaders, body: bytes, secrets: credentials.secrets)
            logger.debug(
                "Kinesis request failed",
                metadata: ["target": "\(target)", "status": "\(status)", "code": "\(failure.code)", "kind": "\(failure.kind)"])
            throw failure
        }
        return bytes
    }
}

/// The JSON of a PutRecord answer.
private struct PutRecordOutput: Decodable {
    var ShardId: String
    var SequenceNumber: String
}
