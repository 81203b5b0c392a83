import ArgumentParser

/// Placeholder: replaced by the `run` command.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run")
}
