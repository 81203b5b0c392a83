import ArgumentParser
import Foundation

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
