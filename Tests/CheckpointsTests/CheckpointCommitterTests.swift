import Checkpoints
import Foundation
import Testing

/// The committer: records what is done, writes coalesced, prunes what is gone.
@Suite struct CheckpointCommitterTests {
    private func position(_ key: String, _ offset: UInt64) -> Checkpoint {
        Checkpoint(key: key, path: "/log/\(key)", device: 1, inode: 2, fingerprint: 3, fingerprintLength: 10, offset: offset, tailHash: 4)
    }

    @Test func advancesAreCoalescedIntoFewWrites() async throws {
        let state = try StateDirectory()
        let store = CheckpointStore(directory: state.path)
        let committer = try CheckpointCommitter(input: "orders", store: store)
        for offset in 1...1000 {
            await committer.advance([position("a", UInt64(offset)), position("b", UInt64(offset * 2))])
        }
        #expect(await committer.commits == 0)
        #expect(try store.load(input: "orders").isEmpty)
        try await committer.flush()
        try await committer.flush()
        #expect(await committer.commits == 1)
        let loaded = try store.load(input: "orders")
        #expect(loaded["a"]?.offset == 1000)
        #expect(loaded["b"]?.offset == 2000)
        #expect(loaded["a"]?.committedAt != nil)

        // A new committer starts from what was written.
        let reloaded = try CheckpointCommitter(input: "orders", store: store)
        #expect(await reloaded.committed["b"]?.offset == 2000)
    }

    @Test func runWritesPeriodicallyAndOnceMoreWhenCancelled() async throws {
        let state = try StateDirectory()
        let store = CheckpointStore(directory: state.path)
        let committer = try CheckpointCommitter(input: "orders", store: store, interval: .milliseconds(20))
        let task = Task { await committer.run() }
        await committer.advance([position("a", 10)])
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while try store.load(input: "orders")["a"]?.offset != 10 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(try store.load(input: "orders")["a"]?.offset == 10)
        await committer.advance([position("a", 20)])
        task.cancel()
        await task.value
        #expect(try store.load(input: "orders")["a"]?.offset == 20)
    }

    @Test func pruneDropsOnlyOldCheckpointsOfSourcesNoLongerLive() async throws {
        let state = try StateDirectory()
        let store = CheckpointStore(directory: state.path)
        var old = position("gone-old", 5)
        old.committedAt = Date().addingTimeInterval(-3600)
        var liveOld = position("live-old", 5)
        liveOld.committedAt = Date().addingTimeInterval(-3600)
        try store.save(input: "orders", ["gone-old": old, "live-old": liveOld])
        let committer = try CheckpointCommitter(input: "orders", store: store)
        await committer.advance([position("gone-recent", 7)])

        let pruned = await committer.prune(keeping: ["live-old"], olderThan: .seconds(60))
        #expect(pruned == ["gone-old"])
        #expect(Set(await committer.committed.keys) == ["live-old", "gone-recent"])
        try await committer.flush()
        #expect(Set(try store.load(input: "orders").keys) == ["live-old", "gone-recent"])

        await committer.forget(key: "gone-recent")
        try await committer.flush()
        #expect(Set(try store.load(input: "orders").keys) == ["live-old"])
    }
}
