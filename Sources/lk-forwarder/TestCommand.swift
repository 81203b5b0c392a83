import ArgumentParser
import Config
import Foundation
import Rules

#if canImport(Glibc)
import Glibc
#endif

/// `lk-forwarder test`: a dry run of the rules over a file (or stdin) as if its lines came
/// from one input. Prints each event that would be sent as one JSON line on stdout and one
/// diagnostic per skipped line on stderr; touches no network and no checkpoint.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Show the events the rules make from a file's lines, without sending anything.",
        discussion: """
            Reads FILE (or stdin) as if its lines came from input NAME: NDJSON for a file input, \
            `journalctl -o json` lines for a journald input. Each event goes to stdout as one JSON \
            line, exactly as it would be sent (ids and read-time timestamps aside); each skipped line \
            gets one diagnostic on stderr, like `line 7: no rule matched`. A summary ends stderr.
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(name: .long, help: "The input the lines are taken to come from.")
    var input: String

    @Argument(help: "The file to read (default: stdin).")
    var file: String?

    func run() async throws {
        try await reportingFailures {
            let (configuration, rules) = try ConfigurationLoading.load(path: options.path)
            guard let inputConfig = configuration.inputs.first(where: { $0.name == input }) else {
                let known = configuration.inputs.map(\.name)
                throw Failure.invalid(
                    "no input named '\(input)' in \(configuration.locations.file)"
                        + (known.isEmpty ? " (it has no inputs)" : " (inputs: \(known.joined(separator: ", ")))"))
            }
            var maxLineBytes = Int.max
            if case .file(let fileInput) = inputConfig.kind { maxLineBytes = fileInput.maxLineBytes }
            let reader = try LineReader(path: file)
            var dryRun = DryRun(rules: rules, input: input, maxLineBytes: maxLineBytes)
            try reader.forEachLine { line in dryRun.handle(line) }
            dryRun.finish()
        }
    }
}

/// Runs lines through the rules and writes events and diagnostics, counting what happened.
struct DryRun {
    let rules: RuleSet
    let input: String
    let maxLineBytes: Int
    private var lineNumber = 0
    private var events = 0
    private var unmatched = 0
    private var invalid = 0
    private var mappingErrors = 0
    private var out = BufferedOutput(fd: STDOUT_FILENO)
    private var err = BufferedOutput(fd: STDERR_FILENO)

    init(rules: RuleSet, input: String, maxLineBytes: Int) {
        self.rules = rules
        self.input = input
        self.maxLineBytes = maxLineBytes
    }

    mutating func handle(_ line: ArraySlice<UInt8>) {
        lineNumber += 1
        if line.count > maxLineBytes {
            invalid += 1
            diagnose("longer than max_line_bytes (\(line.count) > \(maxLineBytes) bytes)")
            return
        }
        switch rules.map(line: line, input: input, readTime: Date()) {
        case .events(let mapped):
            for m in mapped {
                events += 1
                out.write(m.event.encoded())
                out.write([0x0A])
            }
        case .unmatched:
            unmatched += 1
            diagnose("no rule matched")
        case .invalid(let why):
            invalid += 1
            diagnose(why)
        case .mappingError(let rule, let message):
            mappingErrors += 1
            diagnose("rule \(rule): \(message)")
        }
    }

    /// One diagnostic on stderr, after the events before it (so both streams stay in
    /// order when they share a terminal).
    private mutating func diagnose(_ text: String) {
        out.flush()
        err.write("line \(lineNumber): \(text)\n")
        err.flush()
    }

    mutating func finish() {
        out.flush()
        func count(_ n: Int, _ what: String) -> String { "\(n) \(what)\(n == 1 ? "" : "s")" }
        err.write(
            "\(count(lineNumber, "line")): \(count(events, "event")), \(unmatched) unmatched, \(invalid) invalid, "
                + "\(count(mappingErrors, "mapping error"))\n")
        err.flush()
    }
}

/// Reads a file (or stdin) and hands out its lines without the newline. A last line
/// without a newline is a line too (the live agent waits for its newline instead).
struct LineReader {
    let fd: Int32
    let name: String

    init(path: String?) throws(Failure) {
        guard let path else {
            fd = STDIN_FILENO
            name = "stdin"
            return
        }
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else { throw Failure.invalid("cannot open \(path): \(String(cString: strerror(errno)))") }
        fd = opened
        name = path
    }

    func forEachLine(_ body: (ArraySlice<UInt8>) -> Void) throws(Failure) {
        defer { if fd != STDIN_FILENO { close(fd) } }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure.invalid("cannot read \(name): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
            var start = 0
            while let newline = buffer[start...].firstIndex(of: 0x0A) {
                body(buffer[start..<newline])
                start = newline + 1
            }
            buffer.removeFirst(start)
        }
        if !buffer.isEmpty { body(buffer[...]) }
    }
}

/// Bytes written to a file descriptor in large writes.
struct BufferedOutput {
    let fd: Int32
    private var pending: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        pending.reserveCapacity(1 << 16)
    }

    mutating func write(_ text: String) { write(Array(text.utf8)) }

    mutating func write(_ bytes: [UInt8]) {
        pending.append(contentsOf: bytes)
        if pending.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        var offset = 0
        while offset < pending.count {
            let n = pending[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            offset += n
        }
        pending.removeAll(keepingCapacity: true)
    }
}
