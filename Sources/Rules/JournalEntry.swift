import Foundation
import JSON

/// A journald entry as `journalctl -o json` prints it (field names as keys, values as
/// strings): its time, and with `parse_message: json` a view in which a MESSAGE holding a
/// JSON object is also present, parsed, as `message`.
struct JournalEntry {
    let document: JSONDocument

    init(_ document: JSONDocument) {
        self.document = document
    }

    private static let realtimeKey = Array("__REALTIME_TIMESTAMP".utf8)
    private static let messageKey = Array("MESSAGE".utf8)

    /// `__REALTIME_TIMESTAMP` (microseconds since 1970, written as a string or a number).
    var realtime: Date? {
        guard let node = document.member(of: JSONDocument.rootIndex, key: Self.realtimeKey) else { return nil }
        let text: String
        switch document.kind(at: node) {
        case .string: text = document.string(at: node) ?? ""
        case .number: text = String(decoding: document.bytes[document.rawRange(at: node)], as: UTF8.self)
        default: return nil
        }
        guard let micros = UInt64(text) else { return nil }
        return Date(timeIntervalSince1970: Double(micros / 1_000_000) + Double(micros % 1_000_000) / 1e6)
    }

    /// The entry with `"message": <MESSAGE parsed>` added in front, when MESSAGE is a string
    /// holding a JSON object; nil otherwise (then templates see no `message`).
    func withParsedMessage() -> JSONDocument? {
        guard let node = document.member(of: JSONDocument.rootIndex, key: Self.messageKey),
            let text = document.withView({ $0.withStringBytes(at: node) { Array($0) } })
        else { return nil }
        let first = text.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        guard first == UInt8(ascii: "{"), let message = try? JSONDocument(parsing: text),
            message.kind(at: JSONDocument.rootIndex) == .object
        else { return nil }
        let rootRange = document.rawRange(at: JSONDocument.rootIndex)
        var combined: [UInt8] = Array(#"{"message":"#.utf8)
        combined.reserveCapacity(text.count + rootRange.count + 12)
        combined.append(contentsOf: message.bytes[message.rawRange(at: JSONDocument.rootIndex)])
        if document.count(at: JSONDocument.rootIndex) > 0 {
            combined.append(UInt8(ascii: ","))
            combined.append(contentsOf: document.bytes[(rootRange.lowerBound + 1)..<rootRange.upperBound])
        } else {
            combined.append(UInt8(ascii: "}"))
        }
        return try? JSONDocument(parsing: combined)
    }
}
