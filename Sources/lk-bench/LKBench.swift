import ArgumentParser

/// `lk-bench`: benchmark commands for release builds. Each subcommand prints its figures
/// as one line of text; docs/performance.md records them with the command that made them.
@main
struct LKBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lk-bench",
        abstract: "Benchmarks for lk-forwarder (run from a release build).",
        subcommands: [FileReadBench.self, FileFollow.self, JournalBench.self, RulesBench.self, LoopbackKinesis.self]
    )
}
