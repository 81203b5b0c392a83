import JSON

/// Turns one journal entry into the JSON object `journalctl -o json` prints for it, so that
/// what the live input yields and what `lk-forwarder test` reads from journalctl's output
/// are the same objects:
/// - `__CURSOR`, `__REALTIME_TIMESTAMP`, `__MONOTONIC_TIMESTAMP` and `_BOOT_ID` (from the
///   entry header; a `_BOOT_ID` field of the entry itself is dropped), all as strings;
/// - every field as a string when its value is printable UTF-8 (systemd's rules: valid,
///   no control characters but tab and newline, no U+007F to U+009F, no non-characters);
///   otherwise as an array of its byte values;
/// - `null` for a field whose `NAME=value` is 4096 bytes or longer (journalctl's default
///   without `--all`);
/// - a field that occurs more than once as an array of its values, at its first place.
///
/// One encoder is reused for every entry, so its buffers are allocated once.
struct JournalEntryEncoder {
    /// journalctl's `JSON_THRESHOLD`: a `NAME=value` of this many bytes or more becomes null.
    static let threshold = 4096

    private struct Field {
        var nameStart: Int
        var nameEnd: Int
        var valueEnd: Int
        var hash: UInt32
        /// The next field with the same name, or -1.
        var nextSame: Int
        /// Whether an earlier field has the same name (it is written there).
        var repeated: Bool
    }

    private var storage: [UInt8] = []
    private var fields: [Field] = []

    /// Starts a new entry.
    mutating func reset() {
        storage.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
    }

    /// Adds one `NAME=value` field as sd-journal returns it. Data without `=` is ignored, as
    /// journalctl does.
    mutating func add(field payload: UnsafeRawBufferPointer) {
        let bytes = payload.bindMemory(to: UInt8.self)
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")), equals > 0 else { return }
        if equals == 8 && bytes.starts(with: "_BOOT_ID".utf8) { return }
        let start = storage.count
        storage.append(contentsOf: bytes)
        var hash: UInt32 = 2_166_136_261
        for byte in bytes[..<equals] { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let field = Field(
            nameStart: start, nameEnd: start + equals, valueEnd: start + bytes.count, hash: hash, nextSame: -1,
            repeated: false)
        for i in fields.indices.reversed() where fields[i].hash == hash && sameName(fields[i], field) {
            fields[i].nextSame = fields.count
            fields.append(Field(
                nameStart: field.nameStart, nameEnd: field.nameEnd, valueEnd: field.valueEnd, hash: hash, nextSame: -1,
                repeated: true))
            return
        }
        fields.append(field)
    }

    private func sameName(_ a: Field, _ b: Field) -> Bool {
        a.nameEnd - a.nameStart == b.nameEnd - b.nameStart
            && storage[a.nameStart..<a.nameEnd].elementsEqual(storage[b.nameStart..<b.nameEnd])
    }

    /// The JSON object of the entry built from the fields added since `reset()`.
    func encode(cursor: String, realtime: UInt64, monotonic: UInt64, bootID: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(storage.count + fields.count * 6 + cursor.utf8.count + 128)
        output.append(contentsOf: #"{"__CURSOR":"#.utf8)
        JSONWriter.appendString(cursor, to: &output)
        output.append(contentsOf: #","__REALTIME_TIMESTAMP":""#.utf8)
        Self.appendDecimal(realtime, to: &output)
        output.append(contentsOf: #"","__MONOTONIC_TIMESTAMP":""#.utf8)
        Self.appendDecimal(monotonic, to: &output)
        output.append(contentsOf: #"","_BOOT_ID":"#.utf8)
        JSONWriter.appendString(bootID, to: &output)
        for field in fields where !field.repeated {
            output.append(UInt8(ascii: ","))
            JSONWriter.appendString(String(decoding: storage[field.nameStart..<field.nameEnd], as: UTF8.self), to: &output)
            output.append(UInt8(ascii: ":"))
            if field.nextSame < 0 {
                appendValue(field, to: &output)
            } else {
                output.append(UInt8(ascii: "["))
                var current = field
                while true {
                    appendValue(current, to: &output)
                    guard current.nextSame >= 0 else { break }
                    current = fields[current.nextSame]
                    output.append(UInt8(ascii: ","))
                }
                output.append(UInt8(ascii: "]"))
            }
        }
        output.append(UInt8(ascii: "}"))
        return output
    }

    private func appendValue(_ field: Field, to output: inout [UInt8]) {
        if field.valueEnd - field.nameStart >= Self.threshold {
            output.append(contentsOf: "null".utf8)
            return
        }
        let value = storage[(field.nameEnd + 1)..<field.valueEnd]
        if Self.isPrintable(value) {
            JSONWriter.appendString(String(decoding: value, as: UTF8.self), to: &output)
        } else {
            output.append(UInt8(ascii: "["))
            for (i, byte) in value.enumerated() {
                if i > 0 { output.append(UInt8(ascii: ",")) }
                Self.appendDecimal(UInt64(byte), to: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
    }

    private static func appendDecimal(_ number: UInt64, to output: inout [UInt8]) {
        if number < 10 {
            output.append(UInt8(ascii: "0") + UInt8(number))
        } else {
            output.append(contentsOf: String(number).utf8)
        }
    }

    /// systemd's `utf8_is_printable`: valid UTF-8 (shortest form, no surrogates, nothing
    /// above U+10FFFF, no U+FDD0...U+FDEF, no U+xFFFE/U+xFFFF) without control characters
    /// other than tab and newline (C0, U+007F and the C1 range are control characters).
    static func isPrintable(_ bytes: ArraySlice<UInt8>) -> Bool {
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let lead = bytes[i]
            if lead < 0x80 {
                guard lead >= 0x20 && lead != 0x7F || lead == 0x09 || lead == 0x0A else { return false }
                i += 1
                continue
            }
            let length: Int
            var scalar: UInt32
            switch lead {
            case 0xC0...0xDF: (length, scalar) = (2, UInt32(lead & 0x1F))
            case 0xE0...0xEF: (length, scalar) = (3, UInt32(lead & 0x0F))
            case 0xF0...0xF7: (length, scalar) = (4, UInt32(lead & 0x07))
            default: return false
            }
            guard end - i >= length else { return false }
            for k in 1..<length {
                let continuation = bytes[i + k]
                guard continuation & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(continuation & 0x3F)
            }
            let shortest = scalar < 0x80 ? 1 : scalar < 0x800 ? 2 : scalar < 0x10000 ? 3 : 4
            guard shortest == length,
                scalar < 0x110000,
                scalar & 0xFFFF_F800 != 0xD800,
                !(0xFDD0...0xFDEF).contains(scalar),
                scalar & 0xFFFE != 0xFFFE,
                !(0x80...0x9F).contains(scalar)
            else { return false }
            i += length
        }
        return true
    }
}
