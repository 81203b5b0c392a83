import ArgumentParser

/// Placeholder: replaced by the `test` command.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "test")
}
