import ArgumentParser

/// Placeholder: replaced by the `state` command.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state")
}
