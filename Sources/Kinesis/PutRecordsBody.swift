import JSON

/// Writes the JSON bodies of PutRecord and PutRecords directly into bytes: record data is
/// base64-encoded in place, with no intermediate `Data`, `String` or `Encodable` tree, since
/// a 5 MiB request is encoded for every batch the agent sends.
enum PutRecordsBody {
    /// `{"StreamName":...,"Records":[{"Data":...,"PartitionKey":...},...]}`; `stream` may be
    /// a stream name or a stream ARN.
    static func putRecords(stream: String, records: [PutRecordsEntry]) -> [UInt8] {
        var capacity = 64 + stream.utf8.count
        for record in records {
            capacity += 40 + (record.data.count + 2) / 3 * 4 + record.partitionKey.utf8.count
            capacity += record.explicitHashKey.map { $0.utf8.count + 24 } ?? 0
        }
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        appendStreamField(stream, to: &out)
        out.append(contentsOf: #","Records":["#.utf8)
        for (index, record) in records.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendRecord(record, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    /// `{"StreamName":...,"Data":...,"PartitionKey":...}`.
    static func putRecord(stream: String, record: PutRecordsEntry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + stream.utf8.count + (record.data.count + 2) / 3 * 4 + record.partitionKey.utf8.count)
        appendStreamField(stream, to: &out)
        out.append(UInt8(ascii: ","))
        appendRecord(record, to: &out, opening: false)
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func appendStreamField(_ stream: String, to out: inout [UInt8]) {
        out.append(contentsOf: (stream.hasPrefix("arn:") ? #"{"StreamARN":"# : #"{"StreamName":"#).utf8)
        JSONWriter.appendString(stream, to: &out)
    }

    /// `{"Data":"...","PartitionKey":"..."` (the closing brace is the caller's).
    private static func appendRecord(_ record: PutRecordsEntry, to out: inout [UInt8], opening: Bool = true) {
        out.append(contentsOf: (opening ? #"{"Data":""# : #""Data":""#).utf8)
        Base64.append(record.data, to: &out)
        out.append(contentsOf: #"","PartitionKey":"#.utf8)
        JSONWriter.appendString(record.partitionKey, to: &out)
        if let hashKey = record.explicitHashKey {
            out.append(contentsOf: #","ExplicitHashKey":"#.utf8)
            JSONWriter.appendString(hashKey, to: &out)
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

    /// Grows `out` by the encoded length once and writes the text in place.
    static func append(_ input: [UInt8], to out: inout [UInt8]) {
        let start = out.count
        let length = encodedCount(input.count)
        guard length > 0 else { return }
        out.append(contentsOf: repeatElement(0, count: length))
        input.withUnsafeBufferPointer { bytes in
            pairs.withUnsafeBufferPointer { table in
                out.withUnsafeMutableBufferPointer { buffer in
                    guard let base = buffer.baseAddress, let source = bytes.baseAddress, let pair = table.baseAddress
                    else { return }
                    var target = UnsafeMutableRawPointer(base + start)
                    var index = 0
                    let whole = bytes.count / 3 * 3
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
        }
    }
}
