import Checkpoints
import Config
import Foundation
import Logging
import Rules
import Sinks
import Synchronization

/// The rules currently in force, swapped whole on a reload.
final class RuleHolder: Sendable {
    private let rules: Mutex<RuleSet>

    init(_ rules: RuleSet) {
        self.rules = Mutex(rules)
    }

    var current: RuleSet { rules.withLock { $0 } }

    func replace(_ new: RuleSet) {
        rules.withLock { $0 = new }
    }
}

/// Takes one input's lines through the rules and on to the sender: maps each line,
/// waits for room in the flow budget, registers the lines with the input's tracker, and
/// submits their events. Lines that make no event (unmatched, invalid, mapping errors,
/// records too large) are done at once, counted and logged with input and position.
final class InputPump: Sendable {
    let name: String
    let tracker = AckTracker()
    private let rules: RuleHolder
    private let sender: Sender
    private let flow: FlowControl
    private let orderPerKey: Bool
    private let maxRecordBytes: Int
    private let metrics: PipelineMetrics
    private let counters: PipelineMetrics.InputCounters
    private let logger: Logger
    private let warnings = RateLimitedLog(interval: .seconds(10))

    init(
        name: String, rules: RuleHolder, sender: Sender, flow: FlowControl, sink: SinkConfig, metrics: PipelineMetrics,
        logger: Logger
    ) {
        self.name = name
        self.rules = rules
        self.sender = sender
        self.flow = flow
        self.orderPerKey = sink.ordering == .perKey
        self.maxRecordBytes = sink.maxRecordBytes
        self.metrics = metrics
        self.counters = PipelineMetrics.InputCounters(input: name)
        self.logger = logger
    }

    /// Handles one batch of lines from the input; returns once they are handed on (it
    /// waits while the flow budget is full: that is what stops the input reading).
    func deliver(_ lines: [InputLine]) async {
        guard !lines.isEmpty else { return }
        let ruleSet = rules.current
        let readTime = Date()
        let readAt = ContinuousClock.now
        var outbound: [Outbound] = []
        var bytes = 0
        var lastCheckpoints: [String: Checkpoint] = [:]
        // Lines of one source come in runs: the dictionary is written once per run, not per line.
        var runCheckpoint: Checkpoint?
        var eventsPerRule: [(rule: String, count: Int)] = []
        var lineBytes = 0
        for line in lines {
            if let previous = runCheckpoint, previous.key != line.checkpoint.key {
                lastCheckpoints[previous.key] = previous
            }
            runCheckpoint = line.checkpoint
            lineBytes += line.bytes.count
            switch ruleSet.map(line: line.bytes, input: name, readTime: readTime) {
            case .events(let events):
                for mapped in events {
                    Self.count(mapped.rule, in: &eventsPerRule)
                    let data = mapped.event.encoded()
                    let size = data.count + mapped.event.partitionKey.utf8.count
                    guard size <= maxRecordBytes else {
                        metrics.recordsRejected(reason: "too_large").increment()
                        warnings.log(logger, level: .error, key: "too_large",
                            "event too large for the sink; dropped and counted",
                            ["input": "\(name)", "origin": "\(line.origin)", "offset": "\(line.offset)",
                                "rule": "\(mapped.rule)", "bytes": "\(size)", "max_record_bytes": "\(maxRecordBytes)"])
                        continue
                    }
                    bytes += size
                    outbound.append(
                        Outbound(
                            record: SinkRecord(partitionKey: mapped.event.partitionKey, data: data),
                            orderKey: orderPerKey && mapped.explicitKey ? mapped.event.partitionKey : nil,
                            tracker: tracker, ticket: 0, size: size, readySince: readAt, readAt: readAt))
                }
            case .unmatched:
                counters.unmatched.increment()
            case .invalid(let reason):
                counters.invalid.increment()
                warnings.log(logger, level: .warning, key: "invalid", "line skipped",
                    ["input": "\(name)", "origin": "\(line.origin)", "offset": "\(line.offset)", "reason": "\(reason)"])
            case .mappingError(let rule, let message):
                counters.mappingErrors.increment()
                warnings.log(logger, level: .warning, key: "mapping:\(rule)", "line matched but could not be mapped; skipped",
                    ["input": "\(name)", "origin": "\(line.origin)", "offset": "\(line.offset)", "rule": "\(rule)",
                        "reason": "\(message)"])
            }
        }
        if let last = runCheckpoint { lastCheckpoints[last.key] = last }
        for (rule, count) in eventsPerRule { metrics.events(rule: rule).increment(by: count) }
        counters.lines.increment(by: lines.count)
        counters.bytes.increment(by: lineBytes)
        // Cancelled while waiting: the input is stopping; these lines are not registered,
        // so nothing at or after them is committed and they are read again next time.
        guard await flow.acquire(events: outbound.count, bytes: bytes) else { return }
        let ticket = tracker.register(events: outbound.count, bytes: bytes, checkpoints: lastCheckpoints)
        guard !outbound.isEmpty else { return }
        for index in outbound.indices { outbound[index].ticket = ticket }
        sender.submit(outbound)
    }

    /// Counts one event of `rule` (a rule set has a few dozen rules at most, and a rule's
    /// name is the same string each time, so the comparison is cheap).
    private static func count(_ rule: String, in counts: inout [(rule: String, count: Int)]) {
        if let index = counts.firstIndex(where: { $0.rule == rule }) {
            counts[index].count += 1
        } else {
            counts.append((rule, 1))
        }
    }

    /// Hands what became committable to the input's committer, writes it, and then
    /// releases the flow budget of the lines it covers. A failed write is logged and the
    /// budget released all the same (the agent keeps going; a crash before the next good
    /// write would send those events again).
    func commit(_ committer: CheckpointCommitter) async {
        let advanced = tracker.takeAdvanced()
        if !advanced.checkpoints.isEmpty { await committer.advance(advanced.checkpoints) }
        do {
            let before = await committer.commits
            try await committer.flush()
            if await committer.commits > before { counters.commits.increment() }
        } catch {
            warnings.log(logger, level: .error, key: "commit", "checkpoint commit failed",
                ["input": "\(name)", "error": "\(error)"])
        }
        flow.release(events: advanced.budget.events, bytes: advanced.budget.bytes)
    }
}
