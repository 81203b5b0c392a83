import Config
import Foundation
import JSON
import LKEvent
import Logging
import Testing

@testable import Kinesis
@testable import Sinks

/// The sinks and the Dispatcher against real files and moto (through the fault proxy when
/// failures are needed).
@Suite struct SinkTests {
    @Test func theFileSinkAppendsOneLinePerRecordAndSurvivesConcurrentBatches() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/events.ndjson"
        directory.write("events.ndjson", "{\"earlier\":true}\n")
        let sink = try FileSink(path: path)
        try await withThrowingTaskGroup(of: [RecordResult].self) { group in
            for batch in 0..<20 {
                group.addTask {
                    try await sink.put((0..<50).map { SinkRecord(partitionKey: "k", data: Array(#"{"batch":\#(batch),"n":\#($0)}"#.utf8)) })
                }
            }
            for try await results in group { #expect(results == Array(repeating: .accepted, count: 50)) }
        }
        await sink.shutdown()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "{\"earlier\":true}")
        #expect(lines.last == "")
        let events = lines.dropFirst().dropLast()
        #expect(events.count == 1000)
        #expect(Set(events).count == 1000)
        // Each batch's lines stay together: one write per batch.
        var position: [Int: [Int]] = [:]
        for (index, line) in events.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int])
            position[object["batch"] ?? -1, default: []].append(index)
        }
        for indices in position.values { #expect(indices == Array((indices.first ?? 0)..<((indices.first ?? 0) + 50))) }

        await #expect {
            try await sink.put([SinkRecord(partitionKey: "k", data: [1])])
        } throws: { error in
            (error as? SinkError)?.code == "SinkClosed"
        }
    }

    @Test func aFileSinkThatCannotBeOpenedIsAConfigurationError() {
        #expect {
            try makeSink(SinkConfig(type: .file, path: "/nonexistent-directory/events.ndjson"), logger: Logger(label: "test"))
        } throws: { error in
            (error as? SinkError)?.code == SinkError.invalidConfiguration && "\(error)".contains("/nonexistent-directory/events.ndjson")
        }
        #expect(throws: SinkError.self) { try makeSink(SinkConfig(type: .file), logger: Logger(label: "test")) }
    }

    @Test func kinesisSinkConfigurationErrors() {
        let environment = ["HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"]
        let cases: [(SinkConfig, String)] = [
            (SinkConfig(type: .kinesis, region: "eu-west-1"), "sink.stream is required"),
            (SinkConfig(type: .kinesis, stream: "s", region: "eu-wst-1"), "unknown AWS region 'eu-wst-1'"),
            (SinkConfig(type: .kinesis, stream: "s"), "no AWS region"),
            (SinkConfig(type: .kinesis, stream: "s", region: "eu-west-1", endpoint: "localhost:4566"), "is not an http:// or https:// URL"),
            (SinkConfig(type: .kinesis, stream: "s", region: "eu-west-1", profile: "nope"), "no such profile"),
        ]
        for (config, message) in cases {
            #expect {
                try makeSink(config, logger: Logger(label: "test"), environment: environment)
            } throws: { error in
                (error as? SinkError)?.code == SinkError.invalidConfiguration && (error as? SinkError)?.kind == .fatal
                    && "\(error)".contains(message)
            }
        }
    }

    @Test func theKinesisSinkAnswersBadRecordsItselfAndSendsTheRest() async throws {
        let moto = try await SharedMoto.shared.moto()
        let stream = try await moto.createStream()
        let sink = KinesisSink(client: try moto.client(), stream: stream, maxRecordBytes: 100, ownsClient: true)
        defer { Task { await sink.shutdown() } }
        let results = try await sink.put([
            SinkRecord(partitionKey: "ok-1", data: Array(repeating: 65, count: 96)),
            SinkRecord(partitionKey: "", data: [1]),
            SinkRecord(partitionKey: "too-big", data: Array(repeating: 65, count: 94)),
            SinkRecord(partitionKey: String(repeating: "x", count: 257), data: [1]),
            SinkRecord(partitionKey: "ok-2", data: []),
        ])
        #expect(results[0] == .accepted)
        #expect(results[4] == .accepted)
        for index in [1, 2, 3] {
            guard case .failed(let code, let message) = results[index] else {
                Issue.record("record \(index) was accepted")
                continue
            }
            #expect(code == "ValidationException")
            #expect(!message.isEmpty)
            #expect(results[index].failureKind == .fatal)
        }
        #expect(Set(try await moto.readAll(stream).map(\.key)) == ["ok-1", "ok-2"])
    }

    @Test func recordFailureCodes() {
        #expect(RecordFailure.kind(of: "ProvisionedThroughputExceededException") == .throttled)
        #expect(RecordFailure.kind(of: "InternalFailure") == .retryable)
        #expect(RecordFailure.kind(of: "KMSThrottlingException") == .retryable)
        #expect(RecordFailure.kind(of: "KMSDisabledException") == .fatal)
        #expect(RecordFailure.kind(of: "SomethingUnheardOf") == .fatal)
        #expect(RecordResult.accepted.failureKind == nil)
    }

    @Test func dispatchReturnsTheEventAsPublished() async throws {
        let moto = try await SharedMoto.shared.moto()
        let stream = try await moto.createStream()
        let client = try moto.client()
        defer { Task { await client.shutdown() } }
        let dispatcher = Dispatcher(client: client, stream: stream, producerId: "billing@host-12")
        let data = try RawJSON(validating: Array(#"{"orderId":42,"total":"19.90","note":"ünïcödé ☃"}"#.utf8))
        let stamp = Date(timeIntervalSince1970: 1_451_606_400)
        let event = try await dispatcher.dispatch(
            "order-created", data: data, sourceUserId: "user-7", partitionKey: "order-42", timestamp: stamp)
        #expect(event.type == "order-created")
        #expect(event.partitionKey == "order-42")
        #expect(event.producerId == "billing@host-12")
        #expect(event.timestamp == stamp)
        let random = try await dispatcher.dispatch("ping")
        #expect(UUIDv4.isValid(random.partitionKey))
        #expect(random.partitionKey != random.id)
        #expect(random.data == .emptyObject)
        #expect(random.userId == nil)

        let stored = try await moto.readAll(stream)
        #expect(stored.map(\.key) == ["order-42", random.partitionKey])
        #expect(stored.map(\.data) == [event.encoded(), random.encoded()])
        #expect(try LKEvent(decoding: stored[0].data) == event)

        await #expect(throws: LKEventError.self) { try await dispatcher.dispatch("t", partitionKey: "") }
        await #expect(throws: LKEventError.self) { try await dispatcher.dispatch("t", partitionKey: String(repeating: "k", count: 257)) }
        await #expect(throws: LKEventError.self) { try await dispatcher.dispatch("") }
        #expect(try await moto.readAll(stream).count == 2)
    }

    /// An event whose record is a few hundred bytes under the 1 MiB limit goes through
    /// byte for byte; one byte of data over the limit is refused before sending.
    @Test func dataCloseToOneMiBRoundTrips() async throws {
        let moto = try await SharedMoto.shared.moto()
        let stream = try await moto.createStream()
        let client = try moto.client()
        defer { Task { await client.shutdown() } }
        let dispatcher = Dispatcher(client: client, stream: stream, producerId: "p")
        let unicode = "ünïcödé ☃ 🚀 "
        func data(_ filler: Int) throws -> RawJSON {
            try RawJSON(validating: Array(#"{"text":"\#(unicode)","blob":"\#(String(repeating: "x", count: filler))"}"#.utf8))
        }
        let probe = try LKEvent(type: "big", data: try data(0), userId: nil, producerId: "p", partitionKey: "k")
        let room = 1_048_576 - probe.encoded().count - 1
        let event = try await dispatcher.dispatch("big", data: try data(room), partitionKey: "k")
        #expect(event.encoded().count + 1 == 1_048_576)
        let stored = try await moto.readAll(stream)
        #expect(stored.count == 1)
        #expect(stored.first?.data == event.encoded())

        await #expect {
            try await dispatcher.dispatch("big", data: try data(room + 1), partitionKey: "k")
        } throws: { error in
            (error as? SinkError)?.code == "ValidationException" && (error as? SinkError)?.kind == .fatal
        }
        #expect(try await moto.readAll(stream).count == 1)
    }

    @Test func dispatchRetriesThrottlingAndSendsOnlyTheFailedRecordAgain() async throws {
        let moto = try await SharedMoto.shared.moto()
        let proxy = try await FaultProxyPeer(moto: moto)
        let stream = try await moto.createStream()
        let client = KinesisClient(
            endpoint: try proxy.endpoint(region: moto.region), credentials: StaticCredentialProvider(moto.forwarder.credentials),
            logger: Logger(label: "test"))
        defer { Task { await client.shutdown() } }
        let dispatcher = Dispatcher(
            sink: KinesisSink(client: client, stream: stream), producerId: "p",
            retry: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10)))
        try await proxy.control("/faults/records", #"{"share": 1.0, "requests": 2}"#)
        try await proxy.control("/faults/requests", #"{"status": 503, "code": "ServiceUnavailable", "body": "html", "count": 1}"#)
        let event = try await dispatcher.dispatch("order-created", partitionKey: "k1")
        let stats = try await proxy.stats()
        #expect(stats["requests"] == 4)
        #expect(stats["records_failed_injected"] == 2)
        #expect(stats["records_accepted"] == 1)
        #expect(try await moto.readAll(stream).map(\.data) == [event.encoded()])

        try await proxy.control("/faults/requests", #"{"status": 403, "code": "AccessDeniedException", "body": "json", "count": 1}"#)
        await #expect {
            try await dispatcher.dispatch("denied")
        } throws: { error in
            (error as? SinkError)?.code == "AccessDeniedException" && (error as? SinkError)?.kind == .fatal
        }
        #expect(try await proxy.stats()["requests"] == 5)

        try await proxy.control("/faults/requests", #"{"status": 500, "code": "InternalFailure", "count": 10}"#)
        await #expect {
            try await dispatcher.dispatch("never")
        } throws: { error in
            (error as? SinkError)?.code == "InternalFailure" && (error as? SinkError)?.kind == .retryable
        }
        #expect(try await proxy.stats()["requests"] == 10)
    }

    @Test func retryDelaysGrowAndStayUnderTheCap() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 1...10 {
            let ceiling = min(Duration.seconds(1), .milliseconds(100) * (1 << (attempt - 1)))
            for _ in 0..<50 {
                let delay = policy.delay(afterAttempt: attempt)
                #expect(delay >= .zero && delay <= ceiling)
            }
        }
    }
}
