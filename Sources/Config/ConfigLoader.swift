import Foundation
import Yams

/// Loads and validates lk-forwarder's YAML configuration (`spec.md`) into a `Configuration`:
/// every default applied, unknown keys refused, every error naming the file, line, column
/// and key path. Rule patterns and templates are compiled (and checked) by the Rules module
/// from the result, with the same locations.
public enum ConfigLoader {
    /// Reads and loads the configuration file at `path`.
    public static func load(path: String) throws(ConfigError) -> Configuration {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            throw ConfigError(location: SourceLocation(file: path, line: 1, column: 1), keyPath: "", message: error.message)
        }
        guard let yaml = String(validating: bytes, as: UTF8.self) else {
            let offset = firstInvalidUTF8(bytes)
            throw ConfigError(
                location: location(ofByte: offset, in: bytes, file: path), keyPath: "",
                message: "the file is not valid UTF-8 (byte \(offset))")
        }
        return try load(yaml: yaml, file: path)
    }

    /// Loads a configuration from YAML text; `file` names it in errors.
    public static func load(yaml: String, file: String) throws(ConfigError) -> Configuration {
        try load(yaml: yaml, file: file, environment: ProcessInfo.processInfo.environment)
    }

    /// Loads a configuration with the given environment (for `STATE_DIRECTORY`).
    public static func load(yaml: String, file: String, environment: [String: String]) throws(ConfigError) -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw convert(error, yaml: yaml, file: file)
        } catch {
            throw ConfigError(location: SourceLocation(file: file, line: 1, column: 1), keyPath: "", message: "\(error)")
        }
        guard let root, !YAMLReader.isNull(root) else {
            throw ConfigError(
                location: SourceLocation(file: file, line: 1, column: 1), keyPath: "",
                message: "the configuration is empty; it needs at least a `sink:`")
        }
        let reader = YAMLReader(file: file)
        return try ConfigurationBuilder(reader: reader, environment: environment).build(root)
    }

    // MARK: Errors from Yams

    private static func convert(_ error: YamlError, yaml: String, file: String) -> ConfigError {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "YAML syntax: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            return ConfigError(location: at(mark), keyPath: "", message: message)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            let first = at(context.mark)
            let repeated = duplicates.count == 1 ? repetition(of: duplicates[0], after: first, in: yaml) : nil
            return ConfigError(
                location: repeated ?? first, keyPath: "",
                message: "the key \(keys) appears twice in the same mapping (first at line \(first.line)); each key may be given once")
        case .reader(let problem, let offset, _, _):
            let bytes = Array(yaml.utf8)
            return ConfigError(
                location: location(ofByte: offset ?? 0, in: bytes, file: file), keyPath: "", message: "YAML: \(problem)")
        default:
            return ConfigError(location: SourceLocation(file: file, line: 1, column: 1), keyPath: "", message: "YAML: \(error)")
        }
    }

    /// Where a block-style key written at `first` is written again at the same indentation
    /// (Yams reports only the first of two equal keys).
    private static func repetition(of key: String, after first: SourceLocation, in yaml: String) -> SourceLocation? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = first.column - 1
        guard first.line < lines.count else { return nil }
        for number in (first.line + 1)...lines.count {
            let line = lines[number - 1]
            let lead = line.prefix(indent)
            guard lead.count == indent, lead.allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            let rest = line.dropFirst(indent)
            if rest.hasPrefix("\(key):") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") {
                return SourceLocation(file: first.file, line: number, column: first.column)
            }
        }
        return nil
    }

    // MARK: Files

    private struct ReadError: Error {
        let message: String
    }

    private static func readFile(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(message: "cannot open the configuration: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(message: "cannot read the configuration: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > 16 << 20 { throw ReadError(message: "the configuration is larger than 16 MiB") }
        }
    }

    /// The offset of the first byte that does not start or continue valid UTF-8.
    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput, .error: return offset
            }
        }
    }

    static func location(ofByte offset: Int, in bytes: [UInt8], file: String) -> SourceLocation {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        let column = String(decoding: bytes[lineStart..<min(offset, bytes.count)], as: UTF8.self).unicodeScalars.count + 1
        return SourceLocation(file: file, line: line, column: column)
    }
}
