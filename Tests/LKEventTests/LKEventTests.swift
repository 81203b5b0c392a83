import Foundation
import JSON
import LKEvent
import Testing

@Suite struct LKEventTests {
    @Test func encodesTheContractFieldsInLKDispatchOrder() throws {
        let event = try LKEvent(
            id: "f47ac10b-58cc-4372-a567-0e02b2c3d479", type: "order-created",
            data: RawJSON(validating: Array(#"{"orderId":42,"total":"19.90"}"#.utf8)),
            timestamp: Date(timeIntervalSince1970: 1_451_606_400), userId: "user-7", producerId: "billing@host-12",
            partitionKey: "order-42")
        #expect(
            String(decoding: event.encoded(), as: UTF8.self)
                == #"{"id":"f47ac10b-58cc-4372-a567-0e02b2c3d479","type":"order-created","data":{"orderId":42,"total":"19.90"},"timestamp":"2016-01-01T00:00:00.000Z","source":{"userId":"user-7","producerId":"billing@host-12","kinesisPartitionKey":"order-42"}}"#
        )
    }

    @Test func unknownUserIsNullNotAbsent() throws {
        let event = try LKEvent(type: "t", data: .emptyObject, userId: nil, producerId: "p", partitionKey: "k")
        let text = String(decoding: event.encoded(), as: UTF8.self)
        #expect(text.contains(#""source":{"userId":null,"producerId":"p","kinesisPartitionKey":"k"}"#))
    }

    @Test func missingPartitionKeyIsAFreshUUIDv4OtherThanTheId() throws {
        let event = try LKEvent(type: "t", data: .emptyObject, userId: nil, producerId: "p", partitionKey: nil)
        #expect(UUIDv4.isValid(event.partitionKey))
        #expect(UUIDv4.isValid(event.id))
        #expect(event.partitionKey != event.id)
    }

    @Test func partitionKeysOutsideOneTo256CharactersAreRefused() throws {
        #expect(throws: LKEventError.emptyPartitionKey) {
            try LKEvent(type: "t", data: .emptyObject, userId: nil, producerId: "p", partitionKey: "")
        }
        #expect(throws: LKEventError.partitionKeyTooLong(characters: 257)) {
            try LKEvent(type: "t", data: .emptyObject, userId: nil, producerId: "p", partitionKey: String(repeating: "k", count: 257))
        }
        // 256 characters of 4 UTF-8 bytes each: counted as characters, accepted.
        let wide = String(repeating: "😀", count: 256)
        let event = try LKEvent(type: "t", data: .emptyObject, userId: nil, producerId: "p", partitionKey: wide)
        #expect(event.partitionKey == wide)
        #expect(throws: LKEventError.partitionKeyTooLong(characters: 257)) {
            try LKEvent(type: "t", data: .emptyObject, userId: nil, producerId: "p", partitionKey: wide + "😀")
        }
    }

    @Test func emptyTypeIsRefused() {
        #expect(throws: LKEventError.emptyType) {
            try LKEvent(type: "", data: .emptyObject, userId: nil, producerId: "p", partitionKey: "k")
        }
    }

    @Test func dataIsCarriedVerbatim() throws {
        let raw = #"{"big":12345678901234567890123,"f":1.50,"u":"é\u00e9😀","n":[{"a":null}],"e":{}}"#
        let event = try LKEvent(
            type: "t", data: RawJSON(validating: Array(raw.utf8)), userId: nil, producerId: "p", partitionKey: "k")
        let text = String(decoding: event.encoded(), as: UTF8.self)
        #expect(text.contains(#""data":"# + raw + #","timestamp""#))
        let back = try LKEvent(decoding: event.encoded())
        #expect(back == event.truncatedToMilliseconds())
    }

    @Test func stringsAreEscapedAsJSONStringify() throws {
        let event = try LKEvent(
            id: "f47ac10b-58cc-4372-a567-0e02b2c3d479", type: "a\"b\\c\n\u{1}\u{1f}é",
            data: .emptyObject, timestamp: Date(timeIntervalSince1970: 0), userId: "\t", producerId: "p/q", partitionKey: "k")
        let text = String(decoding: event.encoded(), as: UTF8.self)
        #expect(text.contains(#""type":"a\"b\\c\n\u0001\u001fé""#))
        #expect(text.contains(#""userId":"\t""#))
        #expect(text.contains(#""producerId":"p/q""#))
    }

    @Test func decodingChecksTheContract() throws {
        let good = #"{"id":"f47ac10b-58cc-4372-a567-0e02b2c3d479","type":"t","data":{},"timestamp":"2016-01-01T00:00:00.000Z","source":{"userId":null,"producerId":"p","kinesisPartitionKey":"k"}}"#
        _ = try LKEvent(decoding: Array(good.utf8))
        let badId = good.replacingOccurrences(of: "4372", with: "5372")
        #expect(throws: LKEventError.self) { try LKEvent(decoding: Array(badId.utf8)) }
        let absentUser = good.replacingOccurrences(of: #""userId":null,"#, with: "")
        #expect(throws: LKEventError.self) { try LKEvent(decoding: Array(absentUser.utf8)) }
        let secondsOnly = good.replacingOccurrences(of: "00.000Z", with: "00Z")
        #expect(throws: LKEventError.self) { try LKEvent(decoding: Array(secondsOnly.utf8)) }
    }
}

@Suite struct UUIDv4Tests {
    @Test func formatAndVersionBits() {
        var seen = Set<String>()
        for _ in 0..<2000 {
            let id = UUIDv4.make()
            #expect(UUIDv4.isValid(id), "\(id)")
            seen.insert(id)
        }
        #expect(seen.count == 2000)
    }

    @Test func rejectsOtherForms() {
        #expect(!UUIDv4.isValid("F47AC10B-58CC-4372-A567-0E02B2C3D479"))
        #expect(!UUIDv4.isValid("f47ac10b-58cc-1372-a567-0e02b2c3d479"))
        #expect(!UUIDv4.isValid("f47ac10b-58cc-4372-c567-0e02b2c3d479"))
        #expect(!UUIDv4.isValid("f47ac10b58cc4372a5670e02b2c3d479"))
    }
}

@Suite struct LKTimestampTests {
    @Test func formatsLikeToISOString() {
        #expect(LKTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(LKTimestamp.format(Date(timeIntervalSince1970: 1_451_606_400.1239)) == "2016-01-01T00:00:00.123Z")
        #expect(LKTimestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(LKTimestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(LKTimestamp.format(Date(timeIntervalSince1970: 253_402_300_799.999)) == "9999-12-31T23:59:59.999Z")
        #expect(LKTimestamp.format(Date(timeIntervalSince1970: 253_402_300_800)) == "+010000-01-01T00:00:00.000Z")
    }

    @Test func parsesRFC3339Forms() {
        let expected = Date(timeIntervalSince1970: 1_451_606_400.5)
        #expect(LKTimestamp.parse("2016-01-01T00:00:00.500Z") == expected)
        #expect(LKTimestamp.parse("2016-01-01T01:00:00.5+01:00") == expected)
        #expect(LKTimestamp.parse("2015-12-31T23:00:00.500999-0100") == expected)
        #expect(LKTimestamp.parse("2016-01-01 00:00:00.500z") == expected)
        #expect(LKTimestamp.parse("2016-01-01T00:00Z") == Date(timeIntervalSince1970: 1_451_606_400))
    }

    @Test func refusesWhatIsNotADateTime() {
        for bad in ["", "2016-01-01", "2016-01-01T00:00:00", "2016-13-01T00:00:00Z", "2015-02-29T00:00:00Z",
            "2016-01-01T24:00:00Z", "2016-01-01T00:00:00.Z", "2016-01-01T00:00:00Zjunk", "16-01-01T00:00:00Z"] {
            #expect(LKTimestamp.parse(bad) == nil, "\(bad)")
        }
        #expect(LKTimestamp.parseCanonical("2016-01-01T00:00:00Z") == nil)
        #expect(LKTimestamp.parseCanonical("2016-01-01T00:00:00.000Z") != nil)
    }

    @Test func roundTripsRandomInstants() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let millis = Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            let text = LKTimestamp.format(date)
            #expect(LKTimestamp.parseCanonical(text).map { LKTimestamp.format($0) } == text, "\(text)")
        }
    }
}

extension LKEvent {
    /// The event as a consumer reads it back: the timestamp keeps whole milliseconds.
    func truncatedToMilliseconds() -> LKEvent {
        var copy = self
        copy.timestamp = Date(timeIntervalSince1970: (timestamp.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        return copy
    }
}
