import ArgumentParser
import Checkpoints
import Config
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `lk-forwarder state`: what the checkpoints say. Per file input, each file's path,
/// identity, committed offset, current size and bytes behind (the path is looked at now:
/// a file that is gone or that was replaced under its path is said so); per journald input
/// its cursor and the time of that entry. A table by default, JSON with `--json`.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Print the checkpoints: how far each input has been read and how far behind it is.",
        discussion: """
            Reads the checkpoints in the configured state directory; touches nothing. \
            A file's status is ok, gone (no file at its path any more), replaced (another file is \
            at its path now: it was rotated away or recreated) or truncated (smaller than the offset).
            """
    )

    @OptionGroup var options: ConfigOption

    @Flag(name: .long, help: "Print one JSON document instead of a table.")
    var json = false

    func run() async throws {
        try await reportingFailures {
            let configuration: Configuration
            do {
                configuration = try ConfigLoader.load(path: options.path)
            } catch {
                throw Failure.invalid("\(error)")
            }
            let report = try StateReport.read(configuration: configuration)
            let text = json ? try report.json() : report.table()
            print(text, terminator: "")
        }
    }
}

/// The checkpoints of every input, with each file compared to what is at its path now.
struct StateReport: Encodable {
    /// One committed file position.
    struct FileState: Encodable {
        enum Status: String, Encodable {
            case ok, gone, replaced, truncated, unreadable
        }

        var path: String
        var device: UInt64?
        var inode: UInt64?
        var identity: String
        var fingerprint: String?
        var fingerprintLength: Int?
        var offset: UInt64
        /// Current size of the file at `path` when it is the same file.
        var size: UInt64?
        var bytesBehind: UInt64?
        var status: Status
        /// Why the path cannot be looked at (`unreadable`).
        var error: String?
        var committedAt: String?

        enum CodingKeys: String, CodingKey {
            case path, device, inode, identity, fingerprint, offset, size, status, error
            case fingerprintLength = "fingerprint_length"
            case bytesBehind = "bytes_behind"
            case committedAt = "committed_at"
        }
    }

    /// One input's checkpoints.
    struct InputState: Encodable {
        var name: String
        /// `file` or `journald`.
        var type: String
        /// False for checkpoints left behind by an input no longer in the configuration.
        var configured: Bool
        var files: [FileState]?
        var cursor: String?
        var realtimeUsec: UInt64?
        var time: String?
        var committedAt: String?

        enum CodingKeys: String, CodingKey {
            case name, type, configured, files, cursor, time
            case realtimeUsec = "realtime_usec"
            case committedAt = "committed_at"
        }
    }

    var stateDirectory: String
    var inputs: [InputState]

    enum CodingKeys: String, CodingKey {
        case stateDirectory = "state_directory"
        case inputs
    }

    /// Loads every configured input's checkpoints, then those of inputs no longer configured.
    static func read(configuration: Configuration) throws(Failure) -> StateReport {
        let store = CheckpointStore(directory: configuration.stateDirectory)
        try checkReadable(configuration.stateDirectory)
        var inputs: [InputState] = []
        var seen = Set<String>()
        for input in configuration.inputs {
            seen.insert(input.name)
            let checkpoints = try load(store, input.name)
            inputs.append(state(name: input.name, journald: input.isJournald, configured: true, checkpoints))
        }
        for name in store.inputs() where !seen.contains(name) {
            let checkpoints = try load(store, name)
            let journald = checkpoints.values.contains { $0.cursor != nil }
            inputs.append(state(name: name, journald: journald, configured: false, checkpoints))
        }
        return StateReport(stateDirectory: configuration.stateDirectory, inputs: inputs)
    }

    /// A state directory that exists but cannot be read would look empty: say so instead.
    private static func checkReadable(_ directory: String) throws(Failure) {
        var status = stat()
        guard stat(directory, &status) == 0 else {
            if errno == ENOENT { return }
            throw Failure.runtime("state directory \(directory): \(String(cString: strerror(errno)))")
        }
        guard access(directory, R_OK | X_OK) == 0 else {
            throw Failure.runtime(
                "state directory \(directory): \(String(cString: strerror(errno))) (run as root or as the service's user)")
        }
    }

    private static func load(_ store: CheckpointStore, _ input: String) throws(Failure) -> [String: Checkpoint] {
        do {
            return try store.load(input: input)
        } catch {
            throw Failure.runtime(error.description)
        }
    }

    private static func state(name: String, journald: Bool, configured: Bool, _ checkpoints: [String: Checkpoint])
        -> InputState
    {
        if journald {
            let journal = checkpoints.values.first { $0.cursor != nil }
            return InputState(
                name: name, type: "journald", configured: configured, cursor: journal?.cursor,
                realtimeUsec: journal?.realtime, time: journal?.realtime.map(Timestamps.microseconds),
                committedAt: journal?.committedAt.map(Timestamps.date))
        }
        let files = checkpoints.values
            .sorted { ($0.path ?? $0.key, $0.key) < ($1.path ?? $1.key, $1.key) }
            .map(fileState)
        return InputState(name: name, type: "file", configured: configured, files: files)
    }

    /// Compares a file checkpoint with what is at its path now.
    static func fileState(_ checkpoint: Checkpoint) -> FileState {
        let path = checkpoint.path ?? ""
        let offset = checkpoint.offset ?? 0
        let identity =
            if let device = checkpoint.device, let inode = checkpoint.inode { "\(device):\(inode)" } else { checkpoint.key }
        var state = FileState(
            path: path, device: checkpoint.device, inode: checkpoint.inode, identity: identity,
            fingerprint: checkpoint.fingerprint.map { hex($0) }, fingerprintLength: checkpoint.fingerprintLength,
            offset: offset, status: .ok, committedAt: checkpoint.committedAt.map(Timestamps.date))
        var status = stat()
        guard !path.isEmpty, stat(path, &status) == 0 else {
            let code = path.isEmpty ? ENOENT : errno
            state.status = code == ENOENT || code == ENOTDIR ? .gone : .unreadable
            if state.status == .unreadable { state.error = String(cString: strerror(code)) }
            return state
        }
        if let device = checkpoint.device, let inode = checkpoint.inode,
            UInt64(status.st_dev) != device || UInt64(status.st_ino) != inode
        {
            state.status = .replaced
            return state
        }
        let size = UInt64(max(0, status.st_size))
        state.size = size
        if size < offset {
            state.status = .truncated
        } else {
            state.bytesBehind = size - offset
        }
        return state
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    func json() throws(Failure) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
        } catch {
            throw Failure.runtime("cannot encode the state: \(error)")
        }
    }

    /// The person-readable form: one block per input, files as an aligned table.
    func table() -> String {
        var out = "state directory: \(stateDirectory)\n"
        if inputs.isEmpty { out += "\nno inputs are configured\n" }
        for input in inputs {
            out += "\n\(input.name) (\(input.type)\(input.configured ? "" : ", not in the configuration any more"))\n"
            if input.type == "journald" {
                guard let cursor = input.cursor else {
                    out += "  no checkpoint yet\n"
                    continue
                }
                out += "  cursor     \(cursor)\n"
                out += "  time       \(input.time ?? "-")\n"
                if let committed = input.committedAt { out += "  committed  \(committed)\n" }
                continue
            }
            let files = input.files ?? []
            guard !files.isEmpty else {
                out += "  no checkpoint yet\n"
                continue
            }
            var rows = [["PATH", "IDENTITY", "FINGERPRINT", "OFFSET", "SIZE", "BEHIND", "STATUS"]]
            for file in files {
                let fingerprint = file.fingerprint.map { "\($0)/\(file.fingerprintLength ?? 0)" } ?? "-"
                let status = file.error.map { "\(file.status.rawValue): \($0)" } ?? file.status.rawValue
                rows.append([
                    file.path, file.identity, fingerprint, String(file.offset), file.size.map(String.init) ?? "-",
                    file.bytesBehind.map(String.init) ?? "-", status,
                ])
            }
            let total = files.compactMap(\.bytesBehind).reduce(0, +)
            out += Self.aligned(rows, rightAligned: [3, 4, 5])
            out += "  \(files.count) file\(files.count == 1 ? "" : "s"), \(total) bytes behind\n"
        }
        return out
    }

    private static func aligned(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            "  "
                + row.enumerated().map { column, cell in
                    let padding = String(repeating: " ", count: widths[column] - cell.count)
                    return rightAligned.contains(column) ? padding + cell : cell + padding
                }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
                + "\n"
        }.joined()
    }
}

/// UTC timestamps as `state` prints them.
enum Timestamps {
    /// A journald realtime (µs since the epoch): `2025-06-01T10:00:00.123456Z`.
    static func microseconds(_ usec: UInt64) -> String {
        var seconds = time_t(usec / 1_000_000)
        let fraction = String(usec % 1_000_000)
        return dateTime(&seconds) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }

    /// A commit time, to the second: `2025-06-01T10:00:00Z`.
    static func date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        return dateTime(&seconds) + "Z"
    }

    private static func dateTime(_ seconds: inout time_t) -> String {
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
