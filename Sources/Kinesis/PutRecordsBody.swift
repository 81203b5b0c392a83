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
        appendJSONString(stream, to: &out)
    }

    /// `{"Data":"...","PartitionKey":"..."` (the closing brace is the caller's).
    private static func appendRecord(_ record: PutRecordsEntry, to out: inout [UInt8], opening: Bool = true) {
        out.append(contentsOf: (opening ? #"{"Data":""# : #""Data":""#).utf8)
        Base64.append(record.data, to: &out)
        out.append(contentsOf: #"","PartitionKey":"#.utf8)
        appendJSONString(record.partitionKey, to: &out)
        if let hashKey = record.explicitHashKey {
            out.append(contentsOf: #","ExplicitHashKey":"#.utf8)
            appendJSONString(hashKey, to: &out)
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, other
    /// characters as UTF-8 (copied whole when nothing needs escaping, as for most keys).
    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        let utf8 = text.utf8
        if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Standard base64 (RFC 4648, with padding), appended to a byte buffer.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The length of the base64 text of `count` bytes.
    static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Grows `out` by the encoded length once and writes the text in place (appending byte
    /// by byte checked the array's uniqueness and capacity for every output byte: a tenth
    /// of the agent's CPU time).
    static func append(_ input: [UInt8], to out: inout [UInt8]) {
        let start = out.count
        let length = encodedCount(input.count)
        guard length > 0 else { return }
        out.append(contentsOf: repeatElement(0, count: length))
        input.withUnsafeBufferPointer { bytes in
            alphabet.withUnsafeBufferPointer { table in
                out.withUnsafeMutableBufferPointer { buffer in
                    guard let base = buffer.baseAddress, let source = bytes.baseAddress, let digits = table.baseAddress
                    else { return }
                    var target = base + start
                    var index = 0
                    let whole = bytes.count / 3 * 3
                    while index < whole {
                        let value = UInt32(source[index]) << 16 | UInt32(source[index + 1]) << 8 | UInt32(source[index + 2])
                        target[0] = digits[Int(value >> 18 & 0x3F)]
                        target[1] = digits[Int(value >> 12 & 0x3F)]
                        target[2] = digits[Int(value >> 6 & 0x3F)]
                        target[3] = digits[Int(value & 0x3F)]
                        target += 4
                        index += 3
                    }
                    let rest = bytes.count - whole
                    if rest == 1 {
                        let value = UInt32(source[index]) << 16
                        target[0] = digits[Int(value >> 18 & 0x3F)]
                        target[1] = digits[Int(value >> 12 & 0x3F)]
                        target[2] = UInt8(ascii: "=")
                        target[3] = UInt8(ascii: "=")
                    } else if rest == 2 {
                        let value = UInt32(source[index]) << 16 | UInt32(source[index + 1]) << 8
                        target[0] = digits[Int(value >> 18 & 0x3F)]
                        target[1] = digits[Int(value >> 12 & 0x3F)]
                        target[2] = digits[Int(value >> 6 & 0x3F)]
                        target[3] = UInt8(ascii: "=")
                    }
                }
            }
        }
    }
}
