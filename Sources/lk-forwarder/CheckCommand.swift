import ArgumentParser
import Config
import Foundation
import Rules

/// `lk-forwarder check`: validates the configuration, every rule pattern and template
/// included, and prints a short summary; exit 1 with the file, line, column and key of the
/// first problem.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration (with every rule pattern and template) and summarise it.",
        discussion: "Exit 0 when valid; 1 with the file, line, column and key of the problem when not."
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await reportingFailures {
            let (configuration, rules) = try ConfigurationLoading.load(path: options.path)
            print(Self.summary(configuration, rules: rules), terminator: "")
        }
    }

    static func summary(_ c: Configuration, rules: RuleSet) -> String {
        var out = "\(c.locations.file): valid\n"
        out += "producer_id: \(c.producerId)\n"
        out += "state_directory: \(c.stateDirectory)\n"
        if let metrics = c.metricsListen { out += "metrics_listen: \(metrics)\n" }
        let s = c.sink
        switch s.type {
        case .kinesis:
            var where_: [String] = []
            if let region = s.region { where_.append("region \(region)") }
            if let endpoint = s.endpoint { where_.append("endpoint \(endpoint)") }
            if let profile = s.profile { where_.append("profile \(profile)") }
            if let role = s.roleArn { where_.append("role \(role)") }
            out += "sink: kinesis stream \(s.stream ?? "")\(where_.isEmpty ? "" : " (\(where_.joined(separator: ", ")))")\n"
            out += "  batches of up to \(s.batch.maxRecords) records / \(s.batch.maxBytes) bytes / \(s.batch.maxDelay)"
            out += ", \(s.maxInFlight) requests in flight, ordering \(s.ordering.rawValue)\n"
        case .file: out += "sink: file \(s.path ?? "")\n"
        case .stdout: out += "sink: stdout\n"
        }
        out += "inputs: \(c.inputs.count)\n"
        for input in c.inputs {
            switch input.kind {
            case .file(let f):
                out += "  \(input.name): file \(f.paths.joined(separator: ", "))"
                if !f.exclude.isEmpty { out += " excluding \(f.exclude.joined(separator: ", "))" }
                out += ", start at \(f.startAt.rawValue)\n"
            case .journald(let j):
                out += "  \(input.name): journald \(j.directory ?? "(system journal)")"
                if !j.matches.isEmpty { out += " where \(j.matches.joined(separator: " or "))" }
                out += ", start at \(j.startAt.rawValue)\(j.parseMessageJSON ? ", MESSAGE parsed as JSON" : "")\n"
            }
        }
        out += "rules: \(c.rules.count)\n"
        for rule in c.rules {
            out += "  \(rule.name)"
            out += rule.inputs.isEmpty ? " (every input)" : " (\(rule.inputs.joined(separator: ", ")))"
            out += rule.match == nil ? ": every line" : ": lines matching its pattern"
            out += " -> \(rule.event.type)"
            if rule.continue { out += ", then later rules too" }
            out += "\n"
        }
        return out
    }
}
