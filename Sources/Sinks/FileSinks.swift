import Foundation

/// The `file` sink: appends each event as one line to a file, and fsyncs before it
/// answers, so an accepted event is on disk. The file is created (mode 0640) if missing,
/// and its directory is fsync'd once so that the new name survives a crash too.
public final class FileSink: EventSink {
    public let path: String
    let writer: LineWriter

    public init(path: String) throws(SinkError) {
        let existed = FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw SinkError(kind: .fatal, code: SinkError.invalidConfiguration, message: "cannot open the file sink \(path): \(reason)")
        }
        if !existed {
            let directory = (path as NSString).deletingLastPathComponent
            let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dirFD >= 0 {
                _ = fsync(dirFD)
                _ = close(dirFD)
            }
        }
        self.path = path
        self.writer = LineWriter(descriptor: fd, label: "file \(path)", syncToDisk: true, closeOnShutdown: true)
    }

    public func put(_ records: [SinkRecord]) async throws(SinkError) -> [RecordResult] {
        try await writer.write(records)
        return Array(repeating: .accepted, count: records.count)
    }

    public func shutdown() async {
        await writer.close()
    }
}

/// The `stdout` sink: writes each event as one line on standard output. A write that
/// returned is the acknowledgement (standard output may be a pipe, which cannot be fsync'd).
public final class StdoutSink: EventSink {
    let writer: LineWriter

    public init() {
        writer = LineWriter(descriptor: STDOUT_FILENO, label: "stdout", syncToDisk: false, closeOnShutdown: false)
    }

    public func put(_ records: [SinkRecord]) async throws(SinkError) -> [RecordResult] {
        try await writer.write(records)
        return Array(repeating: .accepted, count: records.count)
    }

    public func shutdown() async {
        await writer.close()
    }
}
