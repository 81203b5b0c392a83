import Foundation
import Testing

@testable import Kinesis

/// The hand-written request bodies: base64 and JSON escaping checked against Foundation.
@Suite struct PutRecordsBodyTests {
    @Test func base64MatchesFoundationForEveryLengthAndByte() {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...64) + [255, 256, 257, 1000, 65_537] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var out: [UInt8] = []
            Base64.append(bytes, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == Data(bytes).base64EncodedString(), "length \(length)")
        }
        var all: [UInt8] = []
        Base64.append(Array(0...255), to: &all)
        #expect(Data(base64Encoded: Data(all)) == Data(Array(0...255)))
    }

    @Test func putRecordsBodyIsTheJSONKinesisExpects() throws {
        let records = [
            PutRecordsEntry(partitionKey: "order-42", data: Array(#"{"a":1}"#.utf8)),
            PutRecordsEntry(partitionKey: "quote\" back\\slash\nnew ☃ \u{01}", data: []),
            PutRecordsEntry(partitionKey: "k", data: [0, 255, 10], explicitHashKey: "123"),
        ]
        let body = PutRecordsBody.putRecords(stream: "entry\"point", records: records)
        let object = try #require(JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
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
        let object = try #require(JSONSerialization.jsonObject(with: Data(body)) as? [String: String])
        #expect(object == ["StreamARN": arn, "Data": "eA==", "PartitionKey": "k"])
    }
}
