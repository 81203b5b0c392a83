import JSON
import NIOCore

/// Writes the JSON bodies of PutRecord and PutRecords directly into the request's buffer:
/// the exact length is counted first, then every byte is written once (record data
/// base64-encoded in place), with no intermediate `Data`, `String`, `Encodable` tree or
/// array to copy from, since a 5 MiB request is encoded for every batch the agent sends.
enum PutRecordsBody {
    /// `{"StreamName":...,"Records":[{"Data":...,"PartitionKey":...},...]}`; `stream` may be
    /// a stream name or a stream ARN.
    static func putRecords(stream: String, records: [PutRecordsEntry]) -> ByteBuffer {
        var length = streamFieldLength(stream) + recordsOpen.utf8CodeUnitCount + close.utf8CodeUnitCount
        for record in records { length += recordLength(record, opening: true) + brace.utf8CodeUnitCount }
        length += max(records.count - 1, 0) * comma.utf8CodeUnitCount
        return write(length: length) { writer in
            writer.streamField(stream)
            writer.put(recordsOpen)
            for index in records.indices {
                if index > 0 { writer.put(comma) }
                writer.record(records[index], opening: true)
                writer.put(brace)
            }
            writer.put(close)
        }
    }

    /// `{"StreamName":...,"Data":...,"PartitionKey":...}`.
    static func putRecord(stream: String, record: PutRecordsEntry) -> ByteBuffer {
        let length = streamFieldLength(stream) + 1 + recordLength(record, opening: false) + 1
        return write(length: length) { writer in
            writer.streamField(stream)
            writer.put(comma)
            writer.record(record, opening: false)
            writer.put(brace)
        }
    }

    private static let streamNameKey: StaticString = #"{"StreamName":"#
    private static let streamARNKey: StaticString = #"{"StreamARN":"#
    private static let recordsOpen: StaticString = #","Records":["#
    private static let dataKeyOpening: StaticString = #"{"Data":""#
    private static let dataKey: StaticString = #""Data":""#
    private static let partitionKeyKey: StaticString = #"","PartitionKey":"#
    private static let hashKeyKey: StaticString = #","ExplicitHashKey":"#
    private static let comma: StaticString = ","
    private static let brace: StaticString = "}"
    private static let close: StaticString = "]}"

    private static func streamKey(_ stream: String) -> StaticString {
        stream.hasPrefix("arn:") ? streamARNKey : streamNameKey
    }

    private static func streamFieldLength(_ stream: String) -> Int {
        streamKey(stream).utf8CodeUnitCount + JSONWriter.quotedLength(stream)
    }

    /// The length of `{"Data":"...","PartitionKey":"..."` (without the closing brace).
    private static func recordLength(_ record: PutRecordsEntry, opening: Bool) -> Int {
        (opening ? dataKeyOpening : dataKey).utf8CodeUnitCount + Base64.encodedCount(record.data.count)
            + partitionKeyKey.utf8CodeUnitCount + JSONWriter.quotedLength(record.partitionKey)
            + (record.explicitHashKey.map { hashKeyKey.utf8CodeUnitCount + JSONWriter.quotedLength($0) } ?? 0)
    }

    /// A buffer of exactly `length` bytes, written by `body`.
    private static func write(length: Int, _ body: (inout Writer) -> Void) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            var writer = Writer(out: raw.bindMemory(to: UInt8.self))
            body(&writer)
            precondition(writer.position == length, "PutRecordsBody counted \(length) bytes but wrote \(writer.position)")
            return writer.position
        }
        return buffer
    }

    /// Writes pieces one after the other into room counted beforehand.
    private struct Writer {
        let out: UnsafeMutableBufferPointer<UInt8>
        var position = 0

        mutating func put(_ text: StaticString) {
            guard let target = out.baseAddress else { return }
            (target + position).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
            position += text.utf8CodeUnitCount
        }

        mutating func string(_ text: String) {
            position = JSONWriter.writeString(text, into: out, at: position)
        }

        mutating func streamField(_ stream: String) {
            put(PutRecordsBody.streamKey(stream))
            string(stream)
        }

        /// `{"Data":"...","PartitionKey":"..."` (the closing brace is the caller's).
        mutating func record(_ record: PutRecordsEntry, opening: Bool) {
            put(opening ? PutRecordsBody.dataKeyOpening : PutRecordsBody.dataKey)
            position = Base64.write(record.data, into: out, at: position)
            put(PutRecordsBody.partitionKeyKey)
            string(record.partitionKey)
            if let hashKey = record.explicitHashKey {
                put(PutRecordsBody.hashKeyKey)
                string(hashKey)
            }
        }
    }
}

/// Standard base64 (RFC 4648, with padding), appended to a byte buffer.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// The two characters of every 12-bit value, first character in the low byte: three
    /// input bytes take two lookups and one four-byte store.
    private static let pairs: [UInt16] = (0..<4096).map { UInt16(alphabet[$0 >> 6]) | UInt16(alphabet[$0 & 0x3F]) << 8 }

    /// The length of the base64 text of `count` bytes.
    static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes the text of `input` at `position` of `out`, which has room for
    /// `encodedCount(input.count)` bytes there; returns the position after it.
    static func write(_ input: [UInt8], into out: UnsafeMutableBufferPointer<UInt8>, at position: Int) -> Int {
        let length = encodedCount(input.count)
        guard length > 0 else { return position }
        input.withUnsafeBufferPointer { bytes in
            pairs.withUnsafeBufferPointer { table in
                guard let base = out.baseAddress, let source = bytes.baseAddress, let pair = table.baseAddress else { return }
                var target = UnsafeMutableRawPointer(base + position)
                var index = 0
                let whole = bytes.count / 3 * 3
                // Six bytes a step while eight can be read: one load, four lookups, one store.
                while index + 8 <= bytes.count {
                    let word = UInt64(bigEndian: UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self))
                    let high = Int(truncatingIfNeeded: word >> 40)
                    let low = Int(truncatingIfNeeded: word >> 16) & 0xFF_FFFF
                    let eight =
                        UInt64(pair[high >> 12]) | UInt64(pair[high & 0xFFF]) << 16 | UInt64(pair[low >> 12]) << 32
                        | UInt64(pair[low & 0xFFF]) << 48
                    target.storeBytes(of: eight.littleEndian, as: UInt64.self)
                    target += 8
                    index += 6
                }
                while index < whole {
                    let value = Int(source[index]) << 16 | Int(source[index + 1]) << 8 | Int(source[index + 2])
                    let four = UInt32(pair[value >> 12]) | UInt32(pair[value & 0xFFF]) << 16
                    target.storeBytes(of: four.littleEndian, as: UInt32.self)
                    target += 4
                    index += 3
                }
                let rest = bytes.count - whole
                guard rest > 0 else { return }
                let value = Int(source[index]) << 16 | (rest == 2 ? Int(source[index + 1]) << 8 : 0)
                let first = pair[value >> 12]
                target.storeBytes(of: UInt8(truncatingIfNeeded: first), as: UInt8.self)
                (target + 1).storeBytes(of: UInt8(truncatingIfNeeded: first >> 8), as: UInt8.self)
                let third = rest == 2 ? alphabet[value >> 6 & 0x3F] : UInt8(ascii: "=")
                (target + 2).storeBytes(of: third, as: UInt8.self)
                (target + 3).storeBytes(of: UInt8(ascii: "="), as: UInt8.self)
            }
        }
        return position + length
    }
}
