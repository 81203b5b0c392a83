import Foundation
import LKEvent

/// Reads an event time from what a `timestamp` template gives: an ISO-8601 / RFC 3339 date
/// with a zone (`2016-01-01T00:00:00.000Z`, `2016-01-01 01:00:00+01:00`), or a number of
/// seconds, milliseconds, microseconds or nanoseconds since 1970, told apart by size: below
/// 10^11 seconds (fractions allowed), below 10^14 milliseconds, below 10^17 microseconds
/// (journald's `__REALTIME_TIMESTAMP`), else nanoseconds.
enum EventTime {
    static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// Reads an event time from the UTF-8 bytes of a text, as `parse(_:)`.
    static func parse(utf8 text: UnsafeBufferPointer<UInt8>) -> Date? {
        if let epoch = epochNumber(text) { return fromEpoch(epoch) }
        return LKTimestamp.parse(utf8: text)
    }

    /// The value of a plain decimal number (`1700000000`, `1700000000.25`, `-5`).
    private static func epochNumber(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var digits = 0
        var points = 0
        for (i, c) in text.enumerated() {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."): points += 1
            case UInt8(ascii: "-") where i == 0: continue
            default: return nil
            }
        }
        guard digits > 0, points <= 1 else { return nil }
        return Double(String(decoding: text, as: UTF8.self))
    }

    static func fromEpoch(_ value: Double) -> Date? {
        guard value.isFinite else { return nil }
        let magnitude = abs(value)
        let seconds: Double
        switch magnitude {
        case ..<1e11: seconds = value
        case ..<1e14: seconds = value / 1e3
        case ..<1e17: seconds = value / 1e6
        default: seconds = value / 1e9
        }
        // Beyond what an lk timestamp can write (years 0 to 9999 and a margin) is not a time.
        guard seconds > -62_200_000_000, seconds < 253_500_000_000 else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }
}
