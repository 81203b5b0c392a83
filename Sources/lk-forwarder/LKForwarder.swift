import ArgumentParser

/// The `lk-forwarder` command: the agent and its tools.
@main
struct LKForwarder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lk-forwarder",
        abstract: "Forwards NDJSON log lines and journald entries to AWS Kinesis as lk events.",
        discussion: """
            Exit codes: 0 ok, 1 invalid input or configuration, 2 runtime failure.
            The configuration is read from --config, else $LK_FORWARDER_CONFIG, else \(ConfigOption.defaultPath).
            """,
        version: LKForwarderVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, TestCommand.self, DispatchCommand.self, StateCommand.self]
    )
}
