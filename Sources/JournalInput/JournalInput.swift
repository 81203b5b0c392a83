import Checkpoints
import Config
import Logging

/// The `journald` input: reads the local system journal or a directory of journal files
/// through libsystemd, keeps the entries that `matches` selects (sd-journal's own match
/// logic, terms OR'ed), and hands each entry on as one line holding the JSON object
/// `journalctl -o json` prints for it, with its cursor as the checkpoint.
///
/// It resumes after the committed cursor (the cursor's own entry is skipped; if that entry
/// is gone it goes on with the first entry after the cursor's time and says so), or per
/// `start_at` without one; follows appends, rotation and new files through the journal's
/// inotify descriptor; waits for a directory that does not exist yet; and skips what the
/// journal cannot read, naming it in the log.
public final class JournalInput: LineInput {
    /// The checkpoint key of the input's cursor.
    public static let checkpointKey = "journal"

    public let name: String
    public let config: JournaldInputConfig
    private let committer: CheckpointCommitter
    private let logger: Logger
    private let follow: Bool
    private let maxBatchEntries: Int
    private let maxBatchBytes: Int
    private let counters = JournalInputCounters()

    /// - Parameters:
    ///   - follow: keep waiting for new entries (the agent); false: return at the end of the journal.
    ///   - maxBatchEntries, maxBatchBytes: the most one `deliver` call carries.
    public init(
        name: String, config: JournaldInputConfig, committer: CheckpointCommitter, logger: Logger,
        follow: Bool = true, maxBatchEntries: Int = 512, maxBatchBytes: Int = 1 << 20
    ) {
        self.name = name
        self.config = config
        self.committer = committer
        var logger = logger
        logger[metadataKey: "input"] = "\(name)"
        self.logger = logger
        self.follow = follow
        self.maxBatchEntries = max(1, maxBatchEntries)
        self.maxBatchBytes = max(1, maxBatchBytes)
    }

    /// What the input has read so far.
    public var statistics: JournalInputStatistics { counters.snapshot }

    /// The origin of every line: the directory, or `journal` for the local system journal.
    public var origin: String { config.directory ?? "journal" }

    /// Checks the configured matches without opening anything.
    public static func validate(_ config: JournaldInputConfig) throws(JournalMatchError) {
        for term in config.matches { _ = try JournalMatch(term) }
    }

    public func run(
        deliver: @escaping @Sendable ([InputLine]) async -> Void,
        ready: @escaping @Sendable () -> Void
    ) async throws {
        var matches: [JournalMatch] = []
        for term in config.matches { matches.append(try JournalMatch(term)) }
        let checkpoint = await committer.committed[Self.checkpointKey]
        let wake = try WakeSignal()
        let thread = JournalThread(name: "journal \(name)")
        defer { thread.shutdown() }
        let reader = JournalReader(
            thread: thread, directory: config.directory, matches: matches, startAt: config.startAt, origin: origin,
            logger: logger, counters: counters, wake: wake)
        do {
            try await withTaskCancellationHandler {
                try await read(with: reader, after: checkpoint, deliver: deliver, ready: ready)
            } onCancel: {
                wake.signal()
            }
        } catch is CancellationError {
            await reader.close()
            return
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }

    private func read(
        with reader: JournalReader, after checkpoint: Checkpoint?,
        deliver: @Sendable ([InputLine]) async -> Void, ready: @Sendable () -> Void
    ) async throws {
        var announced = false
        while try await !reader.open(after: checkpoint) {
            if !announced {
                announced = true
                logger.warning(
                    "the journal directory does not exist yet; waiting for it",
                    metadata: ["directory": "\(config.directory ?? "")"])
                ready()
            }
            guard follow else { return }
            try await Task.sleep(for: .seconds(1))
        }
        logger.info("reading the journal", metadata: ["journal": "\(origin)"])
        if !announced { ready() }
        while !Task.isCancelled {
            let lines = try await reader.read(maxEntries: maxBatchEntries, maxBytes: maxBatchBytes, follow: follow)
            if lines.isEmpty {
                guard follow else { return }
                continue
            }
            await deliver(lines)
        }
    }
}
