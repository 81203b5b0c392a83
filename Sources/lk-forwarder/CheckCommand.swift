import ArgumentParser

/// Placeholder: replaced by the `check` command.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check")
}
