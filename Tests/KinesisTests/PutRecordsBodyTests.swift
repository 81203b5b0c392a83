import Foundation
import NIOCore
import Testing

@testable import Kinesis

/// The hand-written request bodies: base64 and JSON escaping checked against Foundation.
@Suite struct PutRecordsBodyTests {
    @Test func base64MatchesFoundationForEveryLengthAndByte() {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...64) + [255, 256, 257, 1000, 65_537] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(String(decoding: Self.base64(bytes), as: UTF8.self) == Data(bytes).base64EncodedString(), "length \(length)")
        }
        #expect(Data(base64Encoded: Data(Self.base64(Array(0...255)))) == Data(Array(0...255)))
    }

    /// `Base64.write` into a buffer of exactly the encoded length, written whole.
    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Base64.encodedCount(bytes.count)) { buffer, count in
            count = Base64.write(bytes, into: buffer, at: 0)
        }
    }

    @Test func putRecordsBodyIsTheJSONKinesisExpects() throws {
        let records = [
            PutRecordsEntry(partitionKey: "order-42", data: Array(#"{"a":1}"#.utf8)),
            PutRecordsEntry(partitionKey: "quote\" back\\slash\nnew ☃ \u{01}", data: []),
            PutRecordsEntry(partitionKey: "k", data: [0, 255, 10], explicitHashKey: "123"),
        ]
        let body = PutRecordsBody.putRecords(stream: "entry\"point", records: records)
        let object = try #require(JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
        #expect(object["StreamName"] as? String == "entry\"point")
        let decoded = try #require(object["Records"] as? [[String: String]])
        #expect(decoded.count == 3)
        for (entry, record) in zip(decoded, records) {
            #expect(entry["PartitionKey"] == record.partitionKey)
            #expect(Data(base64Encoded: entry["Data"] ?? "x") == Data(record.data))
            #expect(entry["ExplicitHashKey"] == record.explicitHashKey)
        }
    }

    @Test func aStreamARNIsSentAsStreamARN() throws {
        let arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/entrypoint"
        let body = PutRecordsBody.putRecord(stream: arn, record: PutRecordsEntry(partitionKey: "k", data: Array("x".utf8)))
        let object = try #require(JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: String])
        #expect(object == ["StreamARN": arn, "Data": "eA==", "PartitionKey": "k"])
    }
}

/// Reading PutRecords answers: every entry, or only the failed ones by position, from the
/// same shapes; anything else is refused.
@Suite struct PutRecordsAnswerTests {
    static let mixed = Array(
        #"""
        {"FailedRecordCount":2,"Records":[
          {"SequenceNumber":"49590338271490256608559692538361571095921575989136588898","ShardId":"shardId-000000000000"},
          {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard"},
          {"SequenceNumber":"49590338271490256608559692538361571095921575989136588899","ShardId":"shardId-000000000001","ErrorCode":null},
          {"ErrorCode":"InternalFailure"}],"EncryptionType":"NONE"}
        """#.utf8)

    @Test func entriesAndFailuresReadTheSameAnswer() throws {
        let entries = try #require(PutRecordsAnswer.entries(Self.mixed))
        #expect(entries == [
            .success(shardId: "shardId-000000000000", sequenceNumber: "49590338271490256608559692538361571095921575989136588898"),
            .failure(code: "ProvisionedThroughputExceededException", message: "Rate exceeded for shard"),
            .success(shardId: "shardId-000000000001", sequenceNumber: "49590338271490256608559692538361571095921575989136588899"),
            .failure(code: "InternalFailure", message: ""),
        ])
        let (count, failed) = try #require(PutRecordsAnswer.failures(Self.mixed))
        #expect(count == 4)
        #expect(failed == [
            PutRecordsFailure(index: 1, code: "ProvisionedThroughputExceededException", message: "Rate exceeded for shard"),
            PutRecordsFailure(index: 3, code: "InternalFailure", message: ""),
        ])
        let none = try #require(PutRecordsAnswer.failures(Array(#"{"Records":[{"ShardId":"s"},{}]}"#.utf8)))
        #expect(none.count == 2 && none.failed.isEmpty)
    }

    @Test func otherShapesAreRefused() {
        for text in [
            "", "[]", #"{"Records":{}}"#, #"{"Records":[1]}"#, #"{"Records":[{"ErrorCode":5}]}"#,
            #"{"Records":[{"ErrorCode":"X","ErrorMessage":[]}]}"#, #"{"Records":[{"ShardId":"s"}"#,
        ] {
            #expect(PutRecordsAnswer.failures(Array(text.utf8)) == nil, "\(text)")
            #expect(PutRecordsAnswer.entries(Array(text.utf8)) == nil, "\(text)")
        }
        // A success whose sequence number is not a string is refused where it is read.
        #expect(PutRecordsAnswer.entries(Array(#"{"Records":[{"SequenceNumber":1}]}"#.utf8)) == nil)
        #expect(PutRecordsAnswer.failures(Array(#"{"Records":[]}"#.utf8))?.count == 0)
    }
}
