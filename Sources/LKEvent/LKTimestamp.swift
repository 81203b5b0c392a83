import Foundation

/// lk event timestamps: ISO-8601 in UTC with milliseconds and `Z`, exactly as JavaScript's
/// `Date.prototype.toISOString` writes them (`2016-01-01T00:00:00.000Z`).
public enum LKTimestamp {
    /// The canonical text of `date` (truncated to the millisecond, as JavaScript dates are).
    public static func format(_ date: Date) -> String {
        var out: [UInt8] = []
        append(date, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical text of `date` (without quotes).
    public static func append(_ date: Date, to out: inout [UInt8]) {
        let parts = Parts(date)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: parts.length))
        out.withUnsafeMutableBufferPointer { _ = write(parts, into: $0, at: start) }
    }

    /// How many bytes the canonical text of `date` has: 24, or 27 beyond the years 0-9999.
    public static func length(of date: Date) -> Int {
        let millis = Parts.millis(date)
        return millis < Parts.firstMillisOfYear0 || millis >= Parts.firstMillisOfYear10000 ? 27 : 24
    }

    /// Writes the canonical text of `date` (without quotes) at `position` of `out`, which
    /// has room for `length(of: date)` bytes; returns the position after it.
    public static func write(_ date: Date, into out: UnsafeMutableBufferPointer<UInt8>, at position: Int) -> Int {
        write(Parts(date), into: out, at: position)
    }

    /// A date's calendar fields in UTC.
    private struct Parts {
        var year: Int64
        var month: Int
        var day: Int
        var msOfDay: Int

        static let firstMillisOfYear0: Int64 = -62_167_219_200_000
        static let firstMillisOfYear10000: Int64 = 253_402_300_800_000

        /// Milliseconds since 1970, rounded down. The time is rounded to the microsecond
        /// first so that a Double that is a hair below a whole millisecond
        /// (1451606400.123 stored as ...122.9999) is not written one ms early.
        static func millis(_ date: Date) -> Int64 {
            let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
            return micros >= 0 ? micros / 1000 : (micros - 999) / 1000
        }

        init(_ date: Date) {
            let millis = Self.millis(date)
            var days = millis / 86_400_000
            var msOfDay = millis % 86_400_000
            if msOfDay < 0 {
                msOfDay += 86_400_000
                days -= 1
            }
            let (year, month, day) = civil(fromDays: days)
            self.year = year
            self.month = Int(month)
            self.day = Int(day)
            self.msOfDay = Int(msOfDay)
        }

        /// Years beyond 0-9999 are written with a sign and six digits, as JavaScript does.
        var extendedYear: Bool { year < 0 || year > 9999 }
        var length: Int { extendedYear ? 27 : 24 }
    }

    private static func write(_ parts: Parts, into out: UnsafeMutableBufferPointer<UInt8>, at position: Int) -> Int {
        var p = position
        // Every division here is by a constant, which compiles to a multiplication.
        func two(_ value: Int) {
            out[p] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10)
            out[p + 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
            p += 2
        }
        func byte(_ c: UInt8) {
            out[p] = c
            p += 1
        }
        if parts.extendedYear {
            byte(parts.year < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            let year = Int(abs(parts.year))
            two(year / 10_000)
            two(year / 100 % 100)
            two(year % 100)
        } else {
            two(Int(parts.year) / 100)
            two(Int(parts.year) % 100)
        }
        let seconds = parts.msOfDay / 1000
        byte(UInt8(ascii: "-"))
        two(parts.month)
        byte(UInt8(ascii: "-"))
        two(parts.day)
        byte(UInt8(ascii: "T"))
        two(seconds / 3600)
        byte(UInt8(ascii: ":"))
        two(seconds / 60 % 60)
        byte(UInt8(ascii: ":"))
        two(seconds % 60)
        byte(UInt8(ascii: "."))
        byte(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: parts.msOfDay % 1000 / 100))
        two(parts.msOfDay % 100)
        byte(UInt8(ascii: "Z"))
        return p
    }

    /// Reads the canonical form only (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
    public static func parseCanonical(_ text: String) -> Date? {
        guard text.utf8.count == 24, text.hasSuffix("Z"), Array(text.utf8)[19] == UInt8(ascii: ".") else { return nil }
        return parse(text)
    }

    /// Reads an ISO-8601 / RFC 3339 date-time: `YYYY-MM-DD[T ]HH:MM[:SS[.fraction]]` followed
    /// by `Z`, `±HH:MM`, `±HHMM` or `±HH`. A time without a zone is refused (it would be
    /// ambiguous). Fractions beyond milliseconds are truncated.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// Reads an ISO-8601 / RFC 3339 date-time from its UTF-8 bytes, as `parse(_:)`.
    public static func parse(utf8: UnsafeBufferPointer<UInt8>) -> Date? {
        var scanner = Scanner(utf8)
        guard let year = scanner.number(4), scanner.take(UInt8(ascii: "-")),
            let month = scanner.number(2), scanner.take(UInt8(ascii: "-")),
            let day = scanner.number(2), scanner.take(UInt8(ascii: "T")) || scanner.take(UInt8(ascii: "t"))
                || scanner.take(UInt8(ascii: " ")),
            let hour = scanner.number(2), scanner.take(UInt8(ascii: ":")), let minute = scanner.number(2)
        else { return nil }
        var second: Int64 = 0
        var millis: Int64 = 0
        if scanner.take(UInt8(ascii: ":")) {
            guard let s = scanner.number(2) else { return nil }
            second = s
            if scanner.take(UInt8(ascii: ".")) || scanner.take(UInt8(ascii: ",")) {
                var scale: Int64 = 100
                var any = false
                while let d = scanner.digit() {
                    any = true
                    millis += d * scale
                    scale /= 10
                }
                guard any else { return nil }
            }
        }
        var offsetMinutes: Int64 = 0
        if scanner.take(UInt8(ascii: "Z")) || scanner.take(UInt8(ascii: "z")) {
            offsetMinutes = 0
        } else if let sign = scanner.sign() {
            guard let h = scanner.number(2) else { return nil }
            var m: Int64 = 0
            if scanner.take(UInt8(ascii: ":")) {
                guard let mm = scanner.number(2) else { return nil }
                m = mm
            } else if let mm = scanner.number(2) {
                m = mm
            }
            guard h <= 23, m <= 59 else { return nil }
            offsetMinutes = sign * (h * 60 + m)
        } else {
            return nil
        }
        guard scanner.atEnd, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetMinutes * 60
        return Date(timeIntervalSince1970: Double(seconds * 1000 + millis) / 1000)
    }

    /// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysFromCivil(year y0: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// A cursor over the bytes of a date-time text.
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var atEnd: Bool { position == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func digit() -> Int64? {
            guard position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9")
            else { return nil }
            defer { position += 1 }
            return Int64(bytes[position] - UInt8(ascii: "0"))
        }

        mutating func number(_ count: Int) -> Int64? {
            let start = position
            var value: Int64 = 0
            for _ in 0..<count {
                guard let d = digit() else {
                    position = start
                    return nil
                }
                value = value * 10 + d
            }
            return value
        }

        mutating func sign() -> Int64? {
            if take(UInt8(ascii: "+")) { return 1 }
            if take(UInt8(ascii: "-")) { return -1 }
            return nil
        }
    }
}
