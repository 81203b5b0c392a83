import Foundation

/// The AWS shared files, `~/.aws/credentials` and `~/.aws/config` (or
/// `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`), read into one map of profiles.
/// In the config file a profile is `[profile NAME]` (or `[default]`); in the credentials
/// file it is `[NAME]`. When both files set a key, the credentials file wins, as in the SDKs.
public struct SharedConfigFiles: Sendable, Equatable {
    /// Profile name to its settings (keys lower-cased).
    public var profiles: [String: [String: String]]
    /// The files that were read (those that exist), for messages.
    public var sources: [String]

    public init(profiles: [String: [String: String]] = [:], sources: [String] = []) {
        self.profiles = profiles
        self.sources = sources
    }

    /// The paths of the two files for `environment`.
    public static func paths(environment: [String: String]) -> (credentials: String, config: String) {
        let home = environment["HOME"].nonEmpty ?? NSHomeDirectory()
        func expand(_ path: String) -> String {
            if path == "~" { return home }
            if path.hasPrefix("~/") { return home + path.dropFirst() }
            return path
        }
        return (
            expand(environment["AWS_SHARED_CREDENTIALS_FILE"].nonEmpty ?? "~/.aws/credentials"),
            expand(environment["AWS_CONFIG_FILE"].nonEmpty ?? "~/.aws/config")
        )
    }

    /// Reads both files; a missing file is no error, a malformed one is.
    public static func load(environment: [String: String]) throws(CredentialError) -> SharedConfigFiles {
        let (credentialsPath, configPath) = paths(environment: environment)
        var result = SharedConfigFiles()
        if let text = try read(configPath) {
            result.sources.append(configPath)
            for (section, values) in try parse(text, file: configPath) {
                let name: String
                if section == "default" {
                    name = "default"
                } else if section.hasPrefix("profile ") {
                    name = section.dropFirst("profile ".count).trimmingCharacters(in: .whitespaces)
                } else {
                    continue
                }
                result.profiles[name, default: [:]].merge(values) { _, new in new }
            }
        }
        if let text = try read(credentialsPath) {
            result.sources.append(credentialsPath)
            for (section, values) in try parse(text, file: credentialsPath) {
                result.profiles[section, default: [:]].merge(values) { _, new in new }
            }
        }
        return result
    }

    private static func read(_ path: String) throws(CredentialError) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialError(provider: "shared files", message: "cannot read \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CredentialError(provider: "shared files", message: "\(path) is not UTF-8")
        }
        return text
    }

    /// Parses the INI dialect of the AWS files: `[section]`, `key = value`, full-line
    /// comments with `#` or `;`, and indented sub-settings under a key with no value (such
    /// as `s3 =` followed by `  max_concurrent_requests = 20`), which are skipped.
    /// Sections come back in file order; a repeated section adds to the earlier one.
    static func parse(_ text: String, file: String) throws(CredentialError) -> [(String, [String: String])] {
        var sections: [(String, [String: String])] = []
        var current: Int?
        var inSubsection = false
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            let indented = line.first == " " || line.first == "\t"
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
                    throw CredentialError(
                        provider: "shared files", message: "\(file):\(lineNumber): a section header must be [name]")
                }
                let name = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if let existing = sections.firstIndex(where: { $0.0 == name }) {
                    current = existing
                } else {
                    sections.append((name, [:]))
                    current = sections.count - 1
                }
                inSubsection = false
                continue
            }
            if indented && inSubsection { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw CredentialError(
                    provider: "shared files", message: "\(file):\(lineNumber): expected 'key = value' or '[section]'")
            }
            guard let index = current else {
                throw CredentialError(
                    provider: "shared files", message: "\(file):\(lineNumber): a setting before any [section]")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                throw CredentialError(provider: "shared files", message: "\(file):\(lineNumber): a setting with no key")
            }
            if value.isEmpty {
                inSubsection = true
                continue
            }
            inSubsection = false
            sections[index].1[key] = value
        }
        return sections
    }
}
