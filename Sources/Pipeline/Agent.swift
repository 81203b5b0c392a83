import Checkpoints
import Config
import FileInput
import Foundation
import JournalInput
import Logging
import Rules
import ServiceLifecycle
import Sinks
import Synchronization
import UnixSignals

/// What the agent tells the service manager about itself (sd_notify, the watchdog).
public struct AgentEvents: Sendable {
    /// Every input is open (the first time, and again after a reload).
    public var ready: @Sendable () -> Void
    /// A reload has started.
    public var reloading: @Sendable () -> Void
    /// A reloaded configuration is now in force (for what lives outside the pipeline,
    /// such as the log level).
    public var reloaded: @Sendable (Configuration) -> Void
    /// A clean stop has started.
    public var stopping: @Sendable () -> Void
    /// A one-line summary of what the agent is doing, every few seconds.
    public var status: @Sendable (String) -> Void
    /// Called from the agent's own loops while they run: proof of life for the watchdog.
    public var heartbeat: @Sendable () -> Void

    public init(
        ready: @escaping @Sendable () -> Void = {}, reloading: @escaping @Sendable () -> Void = {},
        reloaded: @escaping @Sendable (Configuration) -> Void = { _ in }, stopping: @escaping @Sendable () -> Void = {}, status: @escaping @Sendable (String) -> Void = { _ in }, heartbeat: @escaping @Sendable () -> Void = {}
    ) {
        self.ready = ready
        self.reloading = reloading
        self.reloaded = reloaded
        self.stopping = stopping
        self.status = status
        self.heartbeat = heartbeat
    }
}

/// `lk-forwarder run`: inputs → rules → sender → acknowledgements → checkpoints, as one
/// Service. It runs until a graceful shutdown (SIGTERM/SIGINT through the ServiceGroup):
/// then the inputs stop reading, what is in flight is given `drain_timeout` to finish,
/// and the checkpoints are committed. SIGHUP reloads the configuration file: new rules
/// or producer id take effect at once; a change of inputs, sink or state directory
/// restarts the pipeline inside the process (drain, commit, reopen); a configuration
/// that does not load is refused with a log line and the running one stays.
public final class Agent: Service {
    private let configPath: String
    private let initial: Configuration
    private let logger: Logger
    private let health: Health
    private let events: AgentEvents
    private let mailbox = StopMailbox()
    /// The configuration and rules of the running pipeline, for reloads.
    private let current: Mutex<(configuration: Configuration, rules: RuleHolder)?> = Mutex(nil)

    public init(configPath: String, configuration: Configuration, health: Health, events: AgentEvents, logger: Logger) {
        self.configPath = configPath
        self.initial = configuration
        self.health = health
        self.events = events
        self.logger = logger
    }

    public func run() async throws {
        var configuration = initial
        var rules = try RuleHolder.compile(configuration)
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.listenForReloads() }
                while true {
                    let reason = try await runPipeline(configuration, rules)
                    guard case .restart(let next, let nextRules) = reason else { break }
                    configuration = next
                    rules = nextRules
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.events.stopping()
            self.mailbox.post(.shutdown)
        }
    }

    private func listenForReloads() async {
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            reload()
        }
    }

    /// Loads the configuration file again and applies it, or refuses it.
    private func reload() {
        events.reloading()
        let next: Configuration
        let nextRules: [RuleSet]
        do {
            next = try ConfigLoader.load(path: configPath)
            nextRules = try RuleHolder.compile(next)
        } catch {
            logger.error("reload refused: the new configuration is invalid; the running one stays",
                metadata: ["error": "\(error)"])
            events.ready()
            return
        }
        let hotSwapped = current.withLock { running -> Bool in
            guard let running else { return false }
            let same = running.configuration.sink == next.sink && running.configuration.inputs == next.inputs
                && running.configuration.stateDirectory == next.stateDirectory
            if same {
                running.rules.replace(nextRules)
                return true
            }
            return false
        }
        events.reloaded(next)
        if hotSwapped {
            current.withLock { $0?.configuration = next }
            logger.notice("configuration reloaded: new rules in force", metadata: ["rules": "\(next.rules.count)"])
            events.ready()
        } else {
            logger.notice("configuration reloaded: inputs or sink changed, restarting the pipeline")
            mailbox.post(.restart(next, nextRules))
        }
    }

    /// Runs one pipeline built from `configuration` until it is told to stop; drains and
    /// commits before returning why it stopped.
    private func runPipeline(_ configuration: Configuration, _ rules: [RuleSet]) async throws -> StopReason {
        let holder = RuleHolder(rules)
        current.withLock { $0 = (configuration, holder) }
        let sinkConfig = configuration.sink
        let sink: any EventSink
        do {
            sink = try makeSink(sinkConfig, logger: logger)
        } catch {
            throw AgentError(message: "cannot set up the sink: \(error)")
        }
        let metrics = PipelineMetrics()
        let commitNow = Wakeup()
        let flow = FlowControl(
            maxEvents: sinkConfig.maxBufferedEvents, maxBytes: sinkConfig.maxBufferedBytes, onPressure: { commitNow.poke() })
        let sender = Sender(
            sink: sink,
            batch: .init(maxRecords: sinkConfig.batch.maxRecords, maxBytes: sinkConfig.batch.maxBytes,
                maxDelay: sinkConfig.batch.maxDelay),
            maxInFlight: sinkConfig.maxInFlight, metrics: metrics, health: health, logger: logger)
        let store = CheckpointStore(directory: configuration.stateDirectory)
        var built: [Part] = []
        for input in configuration.inputs {
            let committer: CheckpointCommitter
            do {
                committer = try CheckpointCommitter(input: input.name, store: store, logger: logger)
            } catch {
                throw AgentError(message: "input \(input.name): \(error)")
            }
            let inputLogger = logger.with(input: input.name)
            let source: any LineInput
            let reporter: InputMetrics
            switch input.kind {
            case .file(let file):
                let fileInput = FileInput(name: input.name, config: file, committer: committer, logger: inputLogger)
                source = fileInput
                reporter = .file(fileInput)
            case .journald(let journal):
                let journalInput = JournalInput(name: input.name, config: journal, committer: committer, logger: inputLogger)
                source = journalInput
                reporter = .journal(journalInput)
            }
            let pump = InputPump(
                name: input.name, rules: holder, sender: sender, flow: flow, sink: sinkConfig, metrics: metrics,
                logger: inputLogger)
            built.append(Part(input: source, pump: pump, committer: committer, metrics: reporter))
        }
        let parts = built
        let readiness = Readiness(count: parts.count, whenAll: events.ready)
        logger.info("pipeline started",
            metadata: ["inputs": "\(parts.count)", "rules": "\(configuration.rules.count)", "sink": "\(sinkConfig.type.rawValue)"])

        let reason = await withTaskGroup(of: Void.self) { background -> StopReason in
            background.addTask { await self.commitLoop(parts, sender: sender, wakeup: commitNow) }
            let reason = await withTaskGroup(of: StopReason?.self) { readers -> StopReason in
                for part in parts {
                    readers.addTask {
                        do {
                            try await part.input.run(
                                deliver: { lines in await part.pump.deliver(lines) }, ready: { readiness.arrived() })
                        } catch {
                            if !Task.isCancelled {
                                self.logger.error("input stopped", metadata: ["input": "\(part.input.name)", "error": "\(error)"])
                                self.health.inputFailed(part.input.name, "\(error)")
                                readiness.arrived()
                            }
                        }
                        return nil
                    }
                }
                readers.addTask { await self.mailbox.next() }
                var reason = StopReason.shutdown
                while let next = await readers.next() {
                    if let next {
                        reason = next
                        break
                    }
                }
                readers.cancelAll()
                return reason
            }
            let backlog = await sender.backlog
            logger.info("inputs stopped; draining", metadata: ["in_flight_events": "\(backlog)"])
            if await !sender.drain(timeout: sinkConfig.drainTimeout) {
                let left = await sender.backlog
                logger.warning("drain timed out; events still in flight are not committed and will be read again",
                    metadata: ["in_flight_events": "\(left)"])
            }
            background.cancelAll()
            return reason
        }
        for part in parts { await part.pump.commit(part.committer) }
        await sink.shutdown()
        logger.info("pipeline stopped; checkpoints committed")
        return reason
    }

    /// Commits what is done once a second, or sooner when an input has used half its
    /// budget (commits then start at most every `minimumCommitSpacing`, which bounds the
    /// fsyncs per second while the budget comes back in time); reports status and beats
    /// the heartbeat.
    private func commitLoop(_ parts: [Part], sender: Sender, wakeup: Wakeup) async {
        var lastStatus = ContinuousClock.now - .seconds(10)
        while !Task.isCancelled {
            await wakeup.wait(timeout: .seconds(1))
            let started = ContinuousClock.now
            for part in parts { await part.pump.commit(part.committer) }
            let backlog = await sender.backlog
            events.heartbeat()
            if ContinuousClock.now - lastStatus >= .seconds(5) {
                lastStatus = .now
                for part in parts { part.metrics.publish() }
                let problem = health.problem.map { "; unhealthy: \($0)" } ?? ""
                events.status("forwarding \(parts.count) input(s); \(backlog) event(s) in flight\(problem)")
            }
            try? await Task.sleep(until: started + Self.minimumCommitSpacing)
        }
    }

    /// The shortest time between the starts of two commits of the same input: at 350,000
    /// events a second, 25 ms is 9,000 events, so a commit (12-20 ms of fsyncs on a virtio
    /// disk) gives the default budget of 20,000 back before the input runs out of it.
    static let minimumCommitSpacing: Duration = .milliseconds(25)

    /// One input with its pump and committer.
    private struct Part: Sendable {
        let input: any LineInput
        let pump: InputPump
        let committer: CheckpointCommitter
        let metrics: InputMetrics
    }
}

/// Why a pipeline stops.
enum StopReason: Sendable {
    case shutdown
    case restart(Configuration, [RuleSet])
}

/// Carries the request to stop the running pipeline; a shutdown, once posted, stays.
final class StopMailbox: Sendable {
    private let state = Mutex<(pending: StopReason?, waiter: CheckedContinuation<StopReason, Never>?, shutdown: Bool)>(
        (nil, nil, false))

    func post(_ reason: StopReason) {
        let waiter = state.withLock { s -> CheckedContinuation<StopReason, Never>? in
            if case .shutdown = reason { s.shutdown = true }
            if let waiter = s.waiter {
                s.waiter = nil
                return waiter
            }
            s.pending = reason
            return nil
        }
        waiter?.resume(returning: reason)
    }

    func next() async -> StopReason {
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> StopReason? in
                if s.shutdown { return .shutdown }
                if let pending = s.pending {
                    s.pending = nil
                    return pending
                }
                s.waiter = continuation
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}

/// Calls `whenAll` once every input has reported ready (or failed to start).
final class Readiness: Sendable {
    private let remaining: Mutex<Int>
    private let whenAll: @Sendable () -> Void

    init(count: Int, whenAll: @escaping @Sendable () -> Void) {
        self.remaining = Mutex(count)
        self.whenAll = whenAll
        if count == 0 { whenAll() }
    }

    func arrived() {
        let last = remaining.withLock { r -> Bool in
            r -= 1
            return r == 0
        }
        if last { whenAll() }
    }
}

/// A failure that stops the agent.
public struct AgentError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension Logger {
    func with(input: String) -> Logger {
        var copy = self
        copy[metadataKey: "input"] = "\(input)"
        return copy
    }
}
