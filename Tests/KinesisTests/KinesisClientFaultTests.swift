import Foundation
import Logging
import Testing

@testable import Kinesis

/// The client through the fault proxy in front of moto: partial failures, error answers
/// in JSON, XML and HTML, dropped connections and stalls.
@Suite struct KinesisClientFaultTests {
    struct Setup {
        let moto: Moto
        let proxy: FaultProxyPeer
        let client: KinesisClient
        let stream: String
    }

    func setup(requestTimeout: Duration = .seconds(30)) async throws -> Setup {
        let moto = try await SharedMoto.shared.moto()
        let proxy = try await FaultProxyPeer(moto: moto)
        let client = KinesisClient(
            endpoint: try proxy.endpoint(region: moto.region), credentials: StaticCredentialProvider(moto.forwarder.credentials),
            requestTimeout: requestTimeout, logger: Logger(label: "test"))
        return Setup(moto: moto, proxy: proxy, client: client, stream: try await moto.createStream())
    }

    func records(_ count: Int) -> [PutRecordsEntry] {
        (0..<count).map { PutRecordsEntry(partitionKey: "k\($0)", data: Array("r\($0)".utf8)) }
    }

    @Test func perRecordFailuresComeBackInPlaceAndOnlyTheOthersAreStored() async throws {
        let setup = try await setup()
        defer { Task { await setup.client.shutdown() } }
        try await setup.proxy.control("/faults/records", #"{"share": 0.4, "requests": 1, "seed": 7}"#)
        let sent = records(50)
        let answer = try await setup.client.putRecords(stream: setup.stream, records: sent)
        let failed = answer.records.enumerated().filter { if case .failure = $0.element { true } else { false } }.map(\.offset)
        #expect(answer.failedRecordCount == failed.count)
        #expect(!failed.isEmpty && failed.count < 50)
        for index in failed {
            #expect(
                answer.records[index]
                    == .failure(
                        code: "ProvisionedThroughputExceededException",
                        message: "Rate exceeded for shard shardId-000000000000 in stream \(setup.stream) under account 123456789012."))
        }
        let stored = Set(try await setup.moto.readAll(setup.stream).map(\.key))
        #expect(stored == Set(sent.indices.filter { !failed.contains($0) }.map { "k\($0)" }))

        // The same faults again (same seed, same positions), read as failures only.
        try await setup.proxy.control("/faults/records", #"{"share": 0.4, "requests": 1, "seed": 7}"#)
        let failures = try await setup.client.putRecordsReportingFailures(stream: setup.stream, records: sent)
        #expect(failures.map(\.index) == failed)
        #expect(failures.allSatisfy { failure in answer.records[failure.index] == .failure(code: failure.code, message: failure.message) })

        try await setup.proxy.control("/faults/records", #"{"share": 1.0, "code": "InternalFailure", "requests": 1}"#)
        let allFailed = try await setup.client.putRecords(stream: setup.stream, records: records(3))
        #expect(allFailed.failedRecordCount == 3)
        #expect(allFailed.records.allSatisfy { $0 == .failure(code: "InternalFailure", message: "Internal service failure.") })
        #expect(try await setup.proxy.stats()["records_forwarded"] == 2 * (50 - failed.count))
    }

    @Test func wholeRequestErrorsInEveryFormat() async throws {
        let setup = try await setup()
        defer { Task { await setup.client.shutdown() } }
        let cases: [(String, String, KinesisError.Kind)] = [
            (#"{"status": 503, "code": "ServiceUnavailable", "body": "html"}"#, "HTTP 503", .retryable),
            (#"{"status": 500, "code": "InternalFailure", "body": "json"}"#, "InternalFailure", .retryable),
            (#"{"status": 502, "code": "BadGateway", "body": "empty"}"#, "HTTP 502", .retryable),
            (
                #"{"status": 400, "code": "ProvisionedThroughputExceededException", "body": "json"}"#,
                "ProvisionedThroughputExceededException", .throttled
            ),
            (#"{"status": 400, "code": "LimitExceededException", "body": "xml"}"#, "LimitExceededException", .throttled),
            (#"{"status": 403, "code": "AccessDeniedException", "body": "xml"}"#, "AccessDeniedException", .fatal),
            (#"{"status": 400, "code": "KMSThrottlingException", "body": "json"}"#, "KMSThrottlingException", .retryable),
        ]
        for (fault, code, kind) in cases {
            try await setup.proxy.control("/faults/requests", fault)
            await #expect {
                try await setup.client.putRecords(stream: setup.stream, records: records(2))
            } throws: { error in
                (error as? KinesisError)?.code == code && (error as? KinesisError)?.kind == kind
            }
        }
        #expect(try await setup.moto.readAll(setup.stream).isEmpty)
        _ = try await setup.client.putRecords(stream: setup.stream, records: records(2))
        #expect(try await setup.moto.readAll(setup.stream).count == 2)
    }

    @Test func droppedAndResetConnectionsAreRetryable() async throws {
        let setup = try await setup()
        defer { Task { await setup.client.shutdown() } }
        for body in [#"{"count": 1}"#, #"{"count": 1, "reset": true}"#] {
            try await setup.proxy.control("/faults/drop", body)
            await #expect {
                try await setup.client.putRecords(stream: setup.stream, records: records(1))
            } throws: { error in
                guard let error = error as? KinesisError else { return false }
                return error.kind == .retryable && ["ConnectionClosed", "ConnectionReset"].contains(error.code)
            }
        }
    }

    @Test func aStalledRequestTimesOut() async throws {
        let setup = try await setup(requestTimeout: .milliseconds(500))
        defer { Task { await setup.client.shutdown() } }
        try await setup.proxy.control("/faults/stall", #"{"seconds": 3, "count": 1, "then": "drop"}"#)
        let started = ContinuousClock.now
        await #expect {
            try await setup.client.putRecords(stream: setup.stream, records: records(1))
        } throws: { error in
            (error as? KinesisError)?.code == "Timeout" && (error as? KinesisError)?.kind == .retryable
        }
        #expect(ContinuousClock.now - started < .seconds(2.5))
    }

    @Test func anOutageRefusesConnectionsThenRecovers() async throws {
        let setup = try await setup()
        defer { Task { await setup.client.shutdown() } }
        try await setup.proxy.control("/faults/outage", #"{"seconds": 30, "mode": "refuse"}"#)
        await #expect {
            try await setup.client.putRecords(stream: setup.stream, records: records(1))
        } throws: { error in
            (error as? KinesisError)?.kind == .retryable
        }
        try await setup.proxy.control("/faults/clear")
        let recovered = await eventually {
            (try? await setup.client.putRecords(stream: setup.stream, records: self.records(1))) != nil
        }
        #expect(recovered)
    }
}
