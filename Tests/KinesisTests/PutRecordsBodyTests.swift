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
