import Foundation
import Logging
import Testing
@testable import Service

@Suite("StderrLogHandler")
struct StderrLogHandlerTests {
    /// A pipe whose write end the handler writes to; `lines()` reads what arrived.
    final class Pipe: Sendable {
        let readEnd: Int32
        let writeEnd: Int32

        init() throws {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
            readEnd = fds[0]
            writeEnd = fds[1]
            _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        }

        deinit {
            close(readEnd)
            close(writeEnd)
        }

        /// Reads on a thread of its own until `count` lines have arrived, so that writers
        /// never block on a full pipe.
        func collect(lines count: Int) async -> [String] {
            let fd = readEnd
            let data: [UInt8] = await withCheckedContinuation { continuation in
                Thread {
                    var data = [UInt8]()
                    var chunk = [UInt8](repeating: 0, count: 65536)
                    var pollDescriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    while data.count(where: { $0 == UInt8(ascii: "\n") }) < count {
                        guard poll(&pollDescriptor, 1, 10_000) > 0 else { break }
                        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                        if n > 0 { data.append(contentsOf: chunk[0..<n]) }
                    }
                    continuation.resume(returning: data)
                }.start()
            }
            return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        }

        func lines() -> [String] {
            var data = [UInt8]()
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                guard n > 0 else { break }
                data.append(contentsOf: chunk[0..<n])
            }
            let text = String(decoding: data, as: UTF8.self)
            #expect(text.isEmpty || text.hasSuffix("\n"))
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
    }

    func logger(_ pipe: Pipe, journal: Bool, level: LogLevelControl) -> Logger {
        let output = LogOutput(descriptor: pipe.writeEnd, journalPriorities: journal)
        return Logger(label: "lk-forwarder.files") { label in
            StderrLogHandler(label: label, levels: level, output: output)
        }
    }

    @Test("one line per event: timestamp, level, label, message, sorted key=value metadata")
    func lineFormat() throws {
        let pipe = try Pipe()
        var log = logger(pipe, journal: false, level: LogLevelControl(.info))
        log[metadataKey: "input"] = "orders"
        log.warning(
            "cannot open\nfile", metadata: ["path": "/var/log/a b.ndjson", "error": "Permission \"denied\"", "count": "3"])
        let lines = pipe.lines()
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        let pattern = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (.*)$/#
        let match = try #require(line.wholeMatch(of: pattern))
        #expect(
            String(match.1)
                == #"warning lk-forwarder.files: cannot open\nfile count=3 error="Permission \"denied\"" input=orders path="/var/log/a b.ndjson""#
        )
        #expect(!line.contains("\u{1B}"))
    }

    @Test("nested metadata becomes dotted keys; lists are bracketed; an empty value is quoted")
    func nestedMetadata() throws {
        let pipe = try Pipe()
        let log = logger(pipe, journal: true, level: LogLevelControl(.info))
        log.error("put failed", metadata: ["request": ["id": "7", "codes": ["Throttled", "Internal"]], "note": ""])
        #expect(
            pipe.lines() == [#"<3>error lk-forwarder.files: put failed note="" request.codes=[Throttled,Internal] request.id=7"#])
    }

    @Test("under journald each line carries its syslog priority instead of a timestamp")
    func journalPriorities() throws {
        let pipe = try Pipe()
        let log = logger(pipe, journal: true, level: LogLevelControl(.trace))
        for level in Logger.Level.allCases { log.log(level: level, "x") }
        #expect(
            pipe.lines() == [
                "<7>trace lk-forwarder.files: x", "<7>debug lk-forwarder.files: x", "<6>info lk-forwarder.files: x",
                "<5>notice lk-forwarder.files: x", "<4>warning lk-forwarder.files: x", "<3>error lk-forwarder.files: x",
                "<2>critical lk-forwarder.files: x",
            ])
    }

    @Test("the shared level filters, and changes at run time")
    func levels() throws {
        let pipe = try Pipe()
        let control = LogLevelControl(.warning)
        let log = logger(pipe, journal: true, level: control)
        log.info("hidden")
        log.warning("shown")
        control.level = .debug
        log.debug("now shown")
        #expect(pipe.lines() == ["<4>warning lk-forwarder.files: shown", "<7>debug lk-forwarder.files: now shown"])
    }

    @Test("level names: the seven swift-log levels and nothing else")
    func levelNames() {
        #expect(LoggingBootstrap.levelNames == ["trace", "debug", "info", "notice", "warning", "error", "critical"])
        for name in LoggingBootstrap.levelNames { #expect(LoggingBootstrap.level(named: name)?.rawValue == name) }
        #expect(LoggingBootstrap.level(named: "warn") == nil)
        #expect(LoggingBootstrap.level(named: "INFO") == nil)
    }

    @Test("JOURNAL_STREAM counts only when it names the descriptor's own device and inode")
    func journalStreamDetection() throws {
        let pipe = try Pipe()
        var status = stat()
        #expect(fstat(pipe.writeEnd, &status) == 0)
        let own = "\(status.st_dev):\(status.st_ino)"
        #expect(LogOutput.isJournalStream(pipe.writeEnd, environment: ["JOURNAL_STREAM": own]))
        #expect(!LogOutput.isJournalStream(pipe.writeEnd, environment: ["JOURNAL_STREAM": "\(status.st_dev):1"]))
        #expect(!LogOutput.isJournalStream(pipe.writeEnd, environment: ["JOURNAL_STREAM": "garbage"]))
        #expect(!LogOutput.isJournalStream(pipe.writeEnd, environment: [:]))
    }

    @Test("lines from many threads never interleave")
    func concurrentLines() async throws {
        let pipe = try Pipe()
        let log = logger(pipe, journal: true, level: LogLevelControl(.info))
        // Longer than PIPE_BUF, so one line is not atomic by itself.
        let payload = String(repeating: "y", count: 20_000)
        async let collected = pipe.collect(lines: 40)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for index in 0..<10 { log.info("\(task)-\(index) \(payload)") }
                }
            }
        }
        let lines = await collected
        #expect(lines.count == 40)
        #expect(lines.allSatisfy { $0.hasPrefix("<6>info lk-forwarder.files: ") && $0.hasSuffix(payload) })
    }
}
