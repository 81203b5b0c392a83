import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Testing

@testable import Kinesis

/// A helper of `tests/harness` run as a child process: a real peer (moto, the fault
/// proxy, the metadata server). Its first line on stdout is a JSON description; it stops
/// when its stdin is closed, which also happens when the test process ends.
final class PythonPeer: Sendable {
    let process: Process
    let input: FileHandle
    /// The JSON line the peer printed.
    let announcement: Data

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    private init(process: Process, input: FileHandle, announcement: Data) {
        self.process = process
        self.input = input
        self.announcement = announcement
    }

    /// Starts `tests/harness/<script>` and waits (off Swift's cooperative threads) for its
    /// announcement line.
    static func start(script: String, arguments: [String] = []) async throws -> PythonPeer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot + "/tests/harness/" + script, "--until-stdin-closes"] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        let reader = stdout.fileHandleForReading
        let line: Data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var line = Data()
                while let byte = try? reader.read(upToCount: 1), !byte.isEmpty, byte != Data([0x0A]) {
                    line.append(byte)
                }
                continuation.resume(returning: line)
            }
        }
        guard !line.isEmpty else {
            throw PeerError("\(script) exited before announcing itself")
        }
        return PythonPeer(process: process, input: stdin.fileHandleForWriting, announcement: line)
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: announcement)
    }

    /// Closes the peer's stdin: it stops on its own.
    func stop() {
        try? input.close()
    }
}

struct PeerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// moto with signature checking on, shared by every test of the process.
struct Moto: Decodable, Sendable {
    struct Key: Decodable, Sendable {
        let access_key_id: String
        let secret_access_key: String
        var credentials: AWSCredentials { AWSCredentials(accessKeyId: access_key_id, secretAccessKey: secret_access_key) }
    }

    let url: String
    let region: String
    let admin: Key
    let forwarder: Key
    let roles: [String: String]

    var endpoint: ServiceEndpoint {
        get throws { try ServiceEndpoint.resolve(service: "kinesis", region: region, override: url) }
    }

    /// A client signed with `credentials` (the forwarder key by default).
    func client(_ credentials: AWSCredentials? = nil, requestTimeout: Duration = .seconds(30)) throws -> KinesisClient {
        KinesisClient(
            endpoint: try endpoint, credentials: StaticCredentialProvider(credentials ?? forwarder.credentials),
            requestTimeout: requestTimeout, logger: Logger(label: "test"))
    }

    /// Creates a stream with `shards` shards and returns its name.
    func createStream(shards: Int = 1) async throws -> String {
        let name = "s-" + UUID().uuidString.lowercased().prefix(12)
        let client = try client(admin.credentials)
        defer { Task { await client.shutdown() } }
        _ = try await client.send(target: "CreateStream", body: ByteBuffer(string: #"{"StreamName":"\#(name)","ShardCount":\#(shards)}"#))
        return name
    }

    /// Every record of the stream, shard by shard, in sequence order: (key, data).
    func readAll(_ stream: String) async throws -> [(key: String, data: [UInt8])] {
        let client = try client(admin.credentials)
        defer { Task { await client.shutdown() } }
        struct Shards: Decodable {
            struct Description: Decodable {
                struct Shard: Decodable { let ShardId: String }
                let Shards: [Shard]
            }
            let StreamDescription: Description
        }
        struct Iterator: Decodable { let ShardIterator: String }
        struct Records: Decodable {
            struct Record: Decodable {
                let PartitionKey: String
                let Data: String
            }
            let Records: [Record]
            let NextShardIterator: String?
        }
        let description = try JSONDecoder().decode(
            Shards.self,
            from: Data(try await client.send(target: "DescribeStream", body: ByteBuffer(string: #"{"StreamName":"\#(stream)"}"#))))
        var all: [(key: String, data: [UInt8])] = []
        for shard in description.StreamDescription.Shards {
            var iterator = try JSONDecoder().decode(
                Iterator.self,
                from: Data(
                    try await client.send(
                        target: "GetShardIterator",
                        body: ByteBuffer(
                            string: #"{"StreamName":"\#(stream)","ShardId":"\#(shard.ShardId)","ShardIteratorType":"TRIM_HORIZON"}"#))
                )
            ).ShardIterator
            while true {
                // moto's iterators end in a newline: the body must be JSON-escaped.
                let body = try JSONSerialization.data(withJSONObject: ["ShardIterator": iterator, "Limit": 10000])
                let page = try JSONDecoder().decode(
                    Records.self, from: Data(try await client.send(target: "GetRecords", body: ByteBuffer(bytes: body))))
                for record in page.Records {
                    all.append((record.PartitionKey, Array(Data(base64Encoded: record.Data) ?? Data())))
                }
                guard !page.Records.isEmpty, let next = page.NextShardIterator else { break }
                iterator = next
            }
        }
        return all
    }
}

/// Starts the shared moto once per test process.
actor SharedMoto {
    static let shared = SharedMoto()
    private var starting: Task<(PythonPeer, Moto), Error>?

    func moto() async throws -> Moto {
        if starting == nil {
            starting = Task {
                let peer = try await PythonPeer.start(script: "moto_server.py", arguments: ["--role", "forwarder-role"])
                return (peer, try peer.decode(Moto.self))
            }
        }
        guard let starting else { throw PeerError("moto did not start") }
        return try await starting.value.1
    }
}

/// The fault proxy as a process, with its control API.
final class FaultProxyPeer: Sendable {
    struct Announcement: Decodable {
        let url: String
        let control_url: String
    }
    let peer: PythonPeer
    let url: String
    let controlURL: String

    init(moto: Moto) async throws {
        peer = try await PythonPeer.start(
            script: "fault_proxy.py",
            arguments: [
                "--upstream", moto.url, "--access-key-id", moto.forwarder.access_key_id, "--secret-access-key",
                moto.forwarder.secret_access_key,
            ])
        let announcement = try peer.decode(Announcement.self)
        url = announcement.url
        controlURL = announcement.control_url
    }

    func endpoint(region: String) throws -> ServiceEndpoint {
        try ServiceEndpoint.resolve(service: "kinesis", region: region, override: url)
    }

    /// POSTs `body` to the control API at `path`.
    func control(_ path: String, _ body: String = "{}") async throws {
        try await HTTPPeerCall.post(controlURL + path, body)
    }

    func stats() async throws -> [String: Int] {
        let data = try await HTTPPeerCall.get(controlURL + "/stats")
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return object.compactMapValues { $0 as? Int }
    }

    deinit { peer.stop() }
}

/// The metadata server (IMDSv2 and ECS) as a process.
final class MetadataPeer: Sendable {
    struct Announcement: Decodable { let url: String }
    let peer: PythonPeer
    let url: String

    init() async throws {
        peer = try await PythonPeer.start(script: "metadata_server.py")
        url = try peer.decode(Announcement.self).url
    }

    func configure(_ json: String) async throws {
        try await HTTPPeerCall.post(url + "/control", json)
    }

    func stats() async throws -> [String: Int] {
        let data = try await HTTPPeerCall.get(url + "/control/stats")
        return (try JSONSerialization.jsonObject(with: data) as? [String: Int]) ?? [:]
    }

    deinit { peer.stop() }
}

/// Plain HTTP calls to the peers' control APIs.
enum HTTPPeerCall {
    static func post(_ url: String, _ body: String) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw PeerError("\(url) answered \(response.status)") }
    }

    static func get(_ url: String) async throws -> Data {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        return Data(buffer.readableBytesView)
    }
}
