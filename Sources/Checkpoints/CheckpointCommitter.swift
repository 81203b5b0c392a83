import Foundation
import Logging

/// Holds one input's committed checkpoints in memory and writes them to the store,
/// coalesced: `advance` only records what is done; a write happens at most once per
/// `interval` (from `run`) and at `flush`. The pipeline calls `advance` with the position
/// below which every line is done; inputs only read `committed` at start and `forget`
/// sources that are gone for good.
public actor CheckpointCommitter {
    public nonisolated let input: String
    private let store: CheckpointStore
    private let interval: Duration
    private let logger: Logger
    private var checkpoints: [String: Checkpoint]
    private var dirty = false
    /// Where the store's writes run, one at a time.
    private let writer = DispatchQueue(label: "lk-forwarder.checkpoints")
    /// How many times the checkpoints were written.
    public private(set) var commits = 0

    /// Loads the input's committed checkpoints from the store.
    public init(
        input: String, store: CheckpointStore, interval: Duration = .seconds(1),
        logger: Logger = Logger(label: "lk-forwarder.checkpoints")
    ) throws(CheckpointStoreError) {
        self.input = input
        self.store = store
        self.interval = interval
        self.logger = logger
        self.checkpoints = try store.load(input: input)
    }

    /// The checkpoints as last committed or advanced, by key.
    public var committed: [String: Checkpoint] { checkpoints }

    /// Records that everything up to each of these positions is done. A later position of
    /// the same key replaces an earlier one.
    public func advance(_ positions: some Sequence<Checkpoint>) {
        for var position in positions {
            position.committedAt = Date()
            checkpoints[position.key] = position
            dirty = true
        }
    }

    /// Drops the checkpoint of a source that is gone for good.
    public func forget(key: String) {
        if checkpoints.removeValue(forKey: key) != nil { dirty = true }
    }

    /// Drops the checkpoints whose keys are not in `live` and that were last committed
    /// longer than `retention` ago (or never): sources that are gone for good. Returns
    /// the keys dropped. A file input calls this with the keys of the files it holds open.
    @discardableResult
    public func prune(keeping live: Set<String>, olderThan retention: Duration) -> [String] {
        let seconds = Double(retention.components.seconds) + Double(retention.components.attoseconds) * 1e-18
        let cutoff = Date().addingTimeInterval(-seconds)
        let stale = checkpoints.values
            .filter { !live.contains($0.key) && ($0.committedAt ?? .distantPast) < cutoff }
            .map(\.key)
            .sorted()
        for key in stale { checkpoints[key] = nil }
        if !stale.isEmpty { dirty = true }
        return stale
    }

    /// Writes the checkpoints now if anything changed since the last write, and returns
    /// once they are on disk. The write (two fsyncs) runs on a thread of its own, not on
    /// the tasks' shared threads, which the rest of the pipeline keeps using meanwhile;
    /// writes are made one after the other, in the order they were asked for.
    public func flush() async throws(CheckpointStoreError) {
        guard dirty else { return }
        let snapshot = checkpoints
        dirty = false
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, CheckpointStoreError>, Never>) in
            writer.async { [store, input] in
                do throws(CheckpointStoreError) {
                    try store.save(input: input, snapshot)
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        switch result {
        case .success: commits += 1
        case .failure(let error):
            dirty = true
            throw error
        }
    }

    /// Writes what changed once per interval until the task is cancelled, then once more.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flushLogging()
        }
        await flushLogging()
    }

    private func flushLogging() async {
        do {
            try await flush()
        } catch {
            logger.error("checkpoint commit failed", metadata: ["input": "\(input)", "error": "\(error)"])
        }
    }
}
