import ArgumentParser
import Config
import Foundation
import Rules

/// The `--config PATH` option every command shares.
struct ConfigOption: ParsableArguments {
    static let defaultPath = "/etc/lk-forwarder/config.yaml"

    @Option(name: .long, help: "The configuration file (default: $LK_FORWARDER_CONFIG, else \(ConfigOption.defaultPath)).")
    var config: String?

    /// The path to read: `--config`, else `$LK_FORWARDER_CONFIG`, else the default.
    var path: String {
        if let config { return config }
        if let fromEnvironment = ProcessInfo.processInfo.environment["LK_FORWARDER_CONFIG"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultPath
    }
}


/// Loading the configuration and compiling its rules for a command, with any problem
/// turned into a `Failure` (exit 1) that quotes the offending line of the file.
enum ConfigurationLoading {
    /// The configuration at `path`; an error is one line (`file:line:column: key: what`).
    static func configuration(path: String) throws(Failure) -> Configuration {
        do throws(ConfigError) {
            return try ConfigLoader.load(path: path)
        } catch {
            throw .invalid(error.description)
        }
    }

    /// The configuration at `path` with its rules compiled (patterns and templates checked).
    /// `quotingTheLine` adds the offending line and a caret under the column to an error,
    /// for the commands a person runs at a terminal; otherwise an error is one line.
    static func load(path: String, quotingTheLine: Bool = true) throws(Failure) -> (Configuration, RuleSet) {
        do throws(ConfigError) {
            let configuration = try ConfigLoader.load(path: path)
            return (configuration, try RuleSet(configuration: configuration))
        } catch {
            throw quotingTheLine ? failure(error) : .invalid(error.description)
        }
    }

    /// The error, followed by the line it points at and a caret under the column.
    static func failure(_ error: ConfigError) -> Failure {
        var message = error.description
        if let text = try? String(contentsOfFile: error.location.file, encoding: .utf8) {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let index = error.location.line - 1
            if index >= 0, index < lines.count {
                let line = String(lines[index].prefix { $0 != "\r" })
                let number = String(error.location.line)
                let gutter = String(repeating: " ", count: number.count)
                let caretOffset = line.unicodeScalars.prefix(max(0, error.location.column - 1)).reduce(into: "") {
                    $0.append($1 == "\t" ? "\t" : " ")
                }
                message += "\n \(number) | \(line)\n \(gutter) | \(caretOffset)^"
            }
        }
        return .invalid(message)
    }
}
