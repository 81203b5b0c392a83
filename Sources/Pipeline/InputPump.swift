import Checkpoints
import Config
import Foundation
import Logging
import Rules
import Sinks
import Synchronization

/// The rules currently in force, swapped whole on a reload: the configuration's rules
/// compiled once per part a batch is mapped in (one per core), so that the parts mapped
/// at once each read a rule set of their own (see `RuleSet` on why that matters).
final class RuleHolder: Sendable {
    private let rules: Mutex<[RuleSet]>

    /// Compiles the rules of `configuration`, `InputPump.maximumParts` times.
    static func compile(_ configuration: Configuration) throws(ConfigError) -> [RuleSet] {
        var sets: [RuleSet] = []
        for _ in 0..<InputPump.maximumParts { sets.append(try RuleSet(configuration: configuration)) }
        return sets
    }

    init(_ rules: [RuleSet]) {
        self.rules = Mutex(rules)
    }

    /// The rule sets in force, one per part (never empty).
    var current: [RuleSet] { rules.withLock { $0 } }

    func replace(_ new: [RuleSet]) {
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
    /// The tracker's number with the sender.
    private let source: Int
    private let rules: RuleHolder
    private let sender: Sender
    private let flow: FlowControl
    private let orderPerKey: Bool
    private let maxRecordBytes: Int
    private let metrics: PipelineMetrics
    private let counters: PipelineMetrics.InputCounters
    private let logger: Logger
    private let warnings = RateLimitedLog(interval: .seconds(10))
    /// Since when `deliver` waits for budget, or nil; the commit loop counts a long wait
    /// as it goes, so that the metric shows a stalled sink while it lasts.
    private let waitingSince = Mutex<ContinuousClock.Instant?>(nil)

    init(
        name: String, rules: RuleHolder, sender: Sender, flow: FlowControl, sink: SinkConfig, metrics: PipelineMetrics,
        logger: Logger
    ) {
        self.name = name
        self.rules = rules
        self.sender = sender
        self.source = sender.register(tracker)
        self.flow = flow
        self.orderPerKey = sink.ordering == .perKey
        self.maxRecordBytes = sink.maxRecordBytes
        self.metrics = metrics
        self.counters = PipelineMetrics.InputCounters(input: name)
        self.logger = logger
    }

    /// Handles one batch of lines from the input; returns once they are handed on (it
    /// waits while the flow budget is full: that is what stops the input reading).
    ///
    /// A large batch is mapped in contiguous parts on several cores at once (mapping is
    /// most of an input's work), and the parts are joined back in reading order.
    func deliver(_ lines: [InputLine]) async {
        guard !lines.isEmpty else { return }
        let ruleSets = rules.current
        let readTime = Date()
        let readAt = ContinuousClock.now
        let parts = Self.split(lines.count)
        var mapped: [MappedPart]
        if parts.count == 1 {
            mapped = [map(lines[...], ruleSets[0], readTime: readTime, readAt: readAt)]
        } else {
            mapped = await withTaskGroup(of: (Int, MappedPart).self) { group -> [MappedPart] in
                for (index, range) in parts.enumerated().dropFirst() {
                    let ruleSet = ruleSets[index % ruleSets.count]
                    group.addTask { (index, self.map(lines[range], ruleSet, readTime: readTime, readAt: readAt)) }
                }
                var results = [MappedPart](repeating: MappedPart(), count: parts.count)
                results[0] = map(lines[parts[0]], ruleSets[0], readTime: readTime, readAt: readAt)
                for await (index, part) in group { results[index] = part }
                return results
            }
        }
        var total = MappedPart.Tally()
        var events = 0
        for index in mapped.indices {
            total.add(mapped[index].tally)
            events += mapped[index].outbound.count
        }
        for (rule, count) in total.eventsPerRule { metrics.events(rule: rule).increment(by: count) }
        counters.lines.increment(by: lines.count)
        counters.bytes.increment(by: total.lineBytes)
        if total.unmatched > 0 { counters.unmatched.increment(by: total.unmatched) }
        if total.invalid > 0 { counters.invalid.increment(by: total.invalid) }
        if total.mappingErrors > 0 { counters.mappingErrors.increment(by: total.mappingErrors) }
        // Cancelled while waiting: the input is stopping; these lines are not registered,
        // so nothing at or after them is committed and they are read again next time.
        waitingSince.withLock { $0 = .now }
        let admitted = await flow.acquire(events: events, bytes: total.bytes)
        countBlocked(stillWaiting: false)
        guard admitted else { return }
        let ticket = tracker.register(events: events, bytes: total.bytes, checkpoints: Self.lastCheckpoints(of: lines))
        guard events > 0 else { return }
        // Each part's records go to the sender as they are, in order: joining them would copy each.
        var outbound: [[Outbound]] = []
        outbound.reserveCapacity(mapped.count)
        for index in mapped.indices where !mapped[index].outbound.isEmpty {
            var records: [Outbound] = []
            swap(&records, &mapped[index].outbound)
            for record in records.indices { records[record].ticket = ticket }
            outbound.append(records)
        }
        sender.submit(&outbound)
    }

    /// The last checkpoint of each source among `lines`. Lines of one source come in
    /// runs: the dictionary is written once per run, not per line.
    private static func lastCheckpoints(of lines: [InputLine]) -> [String: Checkpoint] {
        var last: [String: Checkpoint] = [:]
        for index in lines.indices.dropFirst() where lines[index].checkpoint.key != lines[index - 1].checkpoint.key {
            last[lines[index - 1].checkpoint.key] = lines[index - 1].checkpoint
        }
        if let final = lines.last { last[final.checkpoint.key] = final.checkpoint }
        return last
    }

    /// Lines below which a batch is mapped in one part (a part's task costs a few
    /// microseconds; a line about two).
    static let minimumLinesPerPart = 128
    /// How many parts a batch is mapped in at most: one per core.
    static let maximumParts = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Cuts `count` lines into at most `maximumParts` contiguous ranges of at least
    /// `minimumLinesPerPart` lines each (one range for a small batch).
    static func split(_ count: Int) -> [Range<Int>] {
        let parts = max(1, min(maximumParts, count / minimumLinesPerPart))
        let size = (count + parts - 1) / parts
        return stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
    }

    /// What one part of a batch became.
    private struct MappedPart: Sendable {
        var outbound: [Outbound] = []
        var tally = Tally()

        struct Tally: Sendable {
            var bytes = 0
            var lineBytes = 0
            var unmatched = 0
            var invalid = 0
            var mappingErrors = 0
            var eventsPerRule: [(rule: String, count: Int)] = []

            mutating func add(_ other: Tally) {
                bytes += other.bytes
                lineBytes += other.lineBytes
                unmatched += other.unmatched
                invalid += other.invalid
                mappingErrors += other.mappingErrors
                for (rule, count) in other.eventsPerRule { InputPump.count(rule, count, in: &eventsPerRule) }
            }
        }
    }

    /// Maps `lines` through the rules into records for the sink (without their ticket).
    private func map(
        _ lines: ArraySlice<InputLine>, _ ruleSet: RuleSet, readTime: Date, readAt: ContinuousClock.Instant
    ) -> MappedPart {
        var part = MappedPart()
        part.outbound.reserveCapacity(lines.count)
        // One array takes each line's events in turn. Lines and events are read in place,
        // by index: a copy of either costs a reference count change per string and array
        // they hold.
        var events: [MappedEvent] = []
        for index in lines.indices {
            part.tally.lineBytes += lines[index].bytes.count
            events.removeAll(keepingCapacity: true)
            switch ruleSet.map(line: lines[index].bytes, input: name, readTime: readTime, into: &events) {
            case .mapped:
                for k in events.indices {
                    Self.count(events[k].rule, 1, in: &part.tally.eventsPerRule)
                    let data = events[k].event.encoded()
                    let size = data.count + events[k].event.partitionKey.utf8.count
                    guard size <= maxRecordBytes else {
                        metrics.recordsRejected(reason: "too_large").increment()
                        warnings.log(logger, level: .error, key: "too_large",
                            "event too large for the sink; dropped and counted",
                            ["input": "\(name)", "origin": "\(lines[index].origin)", "offset": "\(lines[index].offset)",
                                "rule": "\(events[k].rule)", "bytes": "\(size)", "max_record_bytes": "\(maxRecordBytes)"])
                        continue
                    }
                    part.tally.bytes += size
                    part.outbound.append(
                        Outbound(
                            record: SinkRecord(partitionKey: events[k].event.partitionKey, data: data),
                            ordered: orderPerKey && events[k].explicitKey,
                            source: source, ticket: 0, size: size, readySince: readAt, readAt: readAt))
                }
            case .unmatched:
                part.tally.unmatched += 1
            case .invalid(let reason):
                part.tally.invalid += 1
                warnings.log(logger, level: .warning, key: "invalid", "line skipped",
                    ["input": "\(name)", "origin": "\(lines[index].origin)", "offset": "\(lines[index].offset)",
                        "reason": "\(reason)"])
            case .mappingError(let rule, let message):
                part.tally.mappingErrors += 1
                warnings.log(logger, level: .warning, key: "mapping:\(rule)", "line matched but could not be mapped; skipped",
                    ["input": "\(name)", "origin": "\(lines[index].origin)", "offset": "\(lines[index].offset)",
                        "rule": "\(rule)", "reason": "\(message)"])
            }
        }
        return part
    }

    /// Adds the time waited for budget since `waitingSince` to the input's counter; while
    /// the wait goes on (`stillWaiting`), counts it so far and keeps counting from now.
    private func countBlocked(stillWaiting: Bool) {
        let now = ContinuousClock.now
        let waited = waitingSince.withLock { since -> Duration in
            guard let start = since else { return .zero }
            since = stillWaiting ? now : nil
            return now - start
        }
        guard waited > .zero else { return }
        counters.blocked.increment(by: Double(waited.components.seconds) + Double(waited.components.attoseconds) * 1e-18)
    }

    /// Counts `count` events of `rule` (a rule set has a few dozen rules at most, and a
    /// rule's name is the same string each time, so the comparison is cheap).
    private static func count(_ rule: String, _ count: Int, in counts: inout [(rule: String, count: Int)]) {
        if let index = counts.firstIndex(where: { $0.rule == rule }) {
            counts[index].count += count
        } else {
            counts.append((rule, count))
        }
    }

    /// Counts the time the input has been waiting for budget so far; hands what became
    /// committable to the input's committer, writes it, and then releases the flow budget
    /// of the lines it covers. A failed write is logged and the budget released all the
    /// same (the agent keeps going; a crash before the next good write would send those
    /// events again).
    func commit(_ committer: CheckpointCommitter) async {
        countBlocked(stillWaiting: true)
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
