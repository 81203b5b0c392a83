import Foundation
import Logging
import Testing

@testable import Kinesis

/// The client against moto's Kinesis with signature checking on.
@Suite struct KinesisClientMotoTests {
    @Test func putRecordAndPutRecordsAreAcceptedAndReadBackByteForByte() async throws {
        let moto = try await SharedMoto.shared.moto()
        let stream = try await moto.createStream(shards: 2)
        let client = try moto.client()
        defer { Task { await client.shutdown() } }

        let single = try await client.putRecord(stream: stream, record: PutRecordsEntry(partitionKey: "solo", data: Array("one".utf8)))
        #expect(single.shardId.hasPrefix("shardId-"))
        #expect(!single.sequenceNumber.isEmpty)

        var entries = (0..<500).map { index in
            PutRecordsEntry(partitionKey: "key-\(index % 37)", data: Array("record \(index) ☃".utf8))
        }
        entries[7] = PutRecordsEntry(partitionKey: "bin", data: Array(0...255))
        entries[8] = PutRecordsEntry(partitionKey: String(repeating: "k", count: 256), data: [])
        let batch = try await client.putRecords(stream: stream, records: entries)
        #expect(batch.failedRecordCount == 0)
        #expect(batch.records.count == 500)
        #expect(
            batch.records.allSatisfy {
                if case .success(let shard, let sequence) = $0 { !shard.isEmpty && !sequence.isEmpty } else { false }
            })

        let stored = try await moto.readAll(stream)
        let expected = [("solo", Array("one".utf8))] + entries.map { ($0.partitionKey, $0.data) }
        #expect(stored.count == expected.count)
        #expect(Set(stored.map { "\($0.key)|\($0.data)" }) == Set(expected.map { "\($0.0)|\($0.1)" }))
    }

    @Test func aWrongSecretIsAClearAuthenticationError() async throws {
        let moto = try await SharedMoto.shared.moto()
        let stream = try await moto.createStream()
        let wrong = AWSCredentials(accessKeyId: moto.forwarder.access_key_id, secretAccessKey: "not-the-secret-at-all")
        let client = try moto.client(wrong)
        defer { Task { await client.shutdown() } }
        await #expect {
            try await client.putRecords(stream: stream, records: [PutRecordsEntry(partitionKey: "k", data: [1])])
        } throws: { error in
            guard let error = error as? KinesisError else { return false }
            return error.code == "SignatureDoesNotMatch" && error.kind == .fatal && error.isAuthenticationFailure
                && error.statusCode == 403 && error.description.hasPrefix("authentication failed: SignatureDoesNotMatch")
                && !error.description.contains("not-the-secret-at-all")
        }

        let unknown = try moto.client(AWSCredentials(accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever-secret"))
        defer { Task { await unknown.shutdown() } }
        await #expect {
            try await unknown.putRecord(stream: stream, record: PutRecordsEntry(partitionKey: "k", data: [1]))
        } throws: { error in
            (error as? KinesisError)?.code == "InvalidClientTokenId" && (error as? KinesisError)?.kind == .fatal
        }
    }

    @Test func anUnknownStreamIsFatal() async throws {
        let moto = try await SharedMoto.shared.moto()
        let client = try moto.client()
        defer { Task { await client.shutdown() } }
        await #expect {
            try await client.putRecords(stream: "no-such-stream", records: [PutRecordsEntry(partitionKey: "k", data: [1])])
        } throws: { error in
            (error as? KinesisError)?.code == "ResourceNotFoundException" && (error as? KinesisError)?.kind == .fatal
        }
    }

    @Test func requestsKinesisWouldRefuseAreRefusedBeforeSending() async throws {
        let moto = try await SharedMoto.shared.moto()
        let client = try moto.client()
        defer { Task { await client.shutdown() } }
        for records in [
            [], Array(repeating: PutRecordsEntry(partitionKey: "k", data: [1]), count: 501),
            [PutRecordsEntry(partitionKey: "", data: [1])],
            [PutRecordsEntry(partitionKey: String(repeating: "é", count: 257), data: [1])],
        ] {
            await #expect {
                try await client.putRecords(stream: "any", records: records)
            } throws: { error in
                (error as? KinesisError)?.code == "ValidationException" && (error as? KinesisError)?.kind == .fatal
            }
        }
    }

    @Test func aClosedPortIsARetryableConnectionRefused() async throws {
        let endpoint = try ServiceEndpoint.resolve(
            service: "kinesis", region: "eu-west-1", override: "http://127.0.0.1:\(try unusedPort())")
        let client = KinesisClient(
            endpoint: endpoint, credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "A", secretAccessKey: "B")),
            logger: Logger(label: "test"))
        defer { Task { await client.shutdown() } }
        await #expect {
            try await client.putRecord(stream: "s", record: PutRecordsEntry(partitionKey: "k", data: [1]))
        } throws: { error in
            (error as? KinesisError)?.code == "ConnectionRefused" && (error as? KinesisError)?.kind == .retryable
        }
    }
}

/// A TCP port nothing listens on: bound, then released.
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw PeerError("socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw PeerError("bind: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
