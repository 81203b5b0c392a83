import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler that writes one event per line on stderr:
/// `2025-06-01T10:00:00.123Z warning lk-forwarder.files: cannot open path=/var/log/a.ndjson error="Permission denied"`.
/// The message and metadata values are escaped so that an event never spans lines; metadata
/// is `key=value`, sorted by key, values quoted when they hold spaces, quotes or `=`. There
/// are no colours. When stderr is the journal stream systemd set up (`JOURNAL_STREAM`), each
/// line starts with its syslog priority (`<4>`) instead of a timestamp, so journald keeps
/// the level and stamps the time itself.
public struct StderrLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: LogOutput
    private let levels: LogLevelControl
    private var levelOverride: Logger.Level?

    /// - Parameters:
    ///   - levels: the shared level; setting `logLevel` on one logger overrides it for that logger.
    ///   - output: where lines go (stderr by default).
    public init(
        label: String, levels: LogLevelControl, output: LogOutput = .standardError,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.levels = levels
        self.output = output
        self.metadataProvider = metadataProvider
    }

    public var logLevel: Logger.Level {
        get { levelOverride ?? levels.level }
        set { levelOverride = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        output.write(
            LogLineFormat.line(
                level: event.level, label: label, message: event.message.description, metadata: merged,
                prefix: output.journalPriorities ? .syslogPriority : .timestamp(Date())))
    }
}

/// Writes whole lines to a file descriptor; a lock keeps lines from interleaving.
public final class LogOutput: Sendable {
    /// Whether lines start with a syslog priority for journald rather than a timestamp.
    public let journalPriorities: Bool
    private let descriptor: Mutex<Int32>

    public init(descriptor: Int32, journalPriorities: Bool) {
        self.descriptor = Mutex(descriptor)
        self.journalPriorities = journalPriorities
    }

    /// Stderr, with priorities when it is systemd's journal stream.
    public static let standardError = LogOutput(
        descriptor: STDERR_FILENO, journalPriorities: isJournalStream(STDERR_FILENO))

    /// Whether `fd` is the stream `JOURNAL_STREAM` (`device:inode`) names.
    public static func isJournalStream(
        _ fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    func write(_ line: String) {
        let bytes = Array(line.utf8)
        descriptor.withLock { fd in
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { raw in
                    Glibc.write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    // Nowhere left to report a failing stderr: the line is lost.
                    return
                }
                written += n
            }
        }
    }
}

/// The shared log level, changeable at run time (a reloaded configuration).
public final class LogLevelControl: Sendable {
    private let raw: Atomic<Int>

    public init(_ level: Logger.Level) {
        raw = Atomic(Self.levels.firstIndex(of: level) ?? 2)
    }

    public var level: Logger.Level {
        get { Self.levels[raw.load(ordering: .relaxed)] }
        set { raw.store(Self.levels.firstIndex(of: newValue) ?? 2, ordering: .relaxed) }
    }

    private static let levels = Logger.Level.allCases
}

/// How one log event becomes one line.
enum LogLineFormat {
    enum Prefix {
        case timestamp(Date)
        case syslogPriority
    }

    static func line(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, prefix: Prefix)
        -> String
    {
        var line: String
        switch prefix {
        case .timestamp(let date): line = timestamp(date) + " "
        case .syslogPriority: line = "<\(syslogPriority(level))>"
        }
        line += "\(level) \(label): \(escaped(message))"
        var fields: [(String, String)] = []
        for (key, value) in metadata { flatten(key: key, value: value, into: &fields) }
        for (key, value) in fields.sorted(by: { $0.0 < $1.0 }) {
            line += " \(escapedKey(key))=\(quoted(value))"
        }
        return line + "\n"
    }

    /// The syslog priority journald files the level under (sd-daemon(3) prefixes).
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// UTC, milliseconds: `2025-06-01T10:00:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        let milliseconds = Int((interval - Double(seconds)) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }

    /// Nested metadata becomes dotted keys (`request.id=7`); a list becomes `[a,b]`.
    private static func flatten(key: String, value: Logger.Metadata.Value, into fields: inout [(String, String)]) {
        switch value {
        case .string(let text): fields.append((key, text))
        case .stringConvertible(let convertible): fields.append((key, convertible.description))
        case .dictionary(let dictionary):
            for (inner, innerValue) in dictionary { flatten(key: "\(key).\(inner)", value: innerValue, into: &fields) }
        case .array(let values): fields.append((key, "[" + values.map(\.description).joined(separator: ",") + "]"))
        }
    }

    /// Control characters and backslashes escaped, so the text stays on one line.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.properties.generalCategory == .lineSeparator
                || scalar.properties.generalCategory == .paragraphSeparator:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func escapedKey(_ key: String) -> String {
        String(escaped(key).map { $0 == " " || $0 == "=" || $0 == "\"" ? "_" : $0 })
    }

    /// A value as written after `=`: bare when it is one plain word, else in double quotes.
    static func quoted(_ value: String) -> String {
        let text = escaped(value)
        let plain = !text.isEmpty && !text.contains { $0 == " " || $0 == "\"" || $0 == "=" }
        return plain ? text : "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// Bootstraps swift-log with `StderrLogHandler` and parses configured level names.
public enum LoggingBootstrap {
    /// The level a configuration names: trace, debug, info, notice, warning, error or
    /// critical; nil for anything else (the config loader reports it as an error).
    public static func level(named name: String) -> Logger.Level? {
        Logger.Level(rawValue: name)
    }

    /// The names `level(named:)` accepts, for error messages.
    public static let levelNames = Logger.Level.allCases.map(\.rawValue)

    /// Installs the stderr handler for the process at `level` and returns the control that
    /// changes the level later (on reload). Call once per process (swift-log allows a single bootstrap).
    @discardableResult
    public static func bootstrap(level: Logger.Level) -> LogLevelControl {
        let control = LogLevelControl(level)
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, levels: control) }
        return control
    }
}
