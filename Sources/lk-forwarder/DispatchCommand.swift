import ArgumentParser

/// Placeholder: replaced by the `dispatch` command.
struct DispatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dispatch")
}
