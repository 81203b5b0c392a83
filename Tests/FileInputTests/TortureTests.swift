import Checkpoints
import Config
import FileInput
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The torture test: a writer appends numbered lines while a rotator renames and
/// copies-and-truncates at random, and the reader is stopped cleanly or "killed" (its
/// task cancelled and its committer abandoned without a final write) and restarted at
/// random, committing only as a consumer acknowledges, late and in order. Every number
/// must be seen at least once, except those copytruncate itself lost (written between
/// the copy and the truncation), which the rotator accounts for.
@Suite struct TortureTests {
    /// A consumer that acknowledges batches late and in order, and makes the committer
    /// write its checkpoints now and then, as the pipeline's committer task would.
    final class LateAcknowledger: Sendable {
        private struct State {
            var random: SplitMix
            var pending: [InputLine] = []
        }

        private let state: Mutex<State>
        let committer: CheckpointCommitter

        init(committer: CheckpointCommitter, seed: UInt64) {
            self.committer = committer
            state = Mutex(State(random: SplitMix(seed: seed)))
        }

        func receive(_ batch: [InputLine]) async {
            let (acknowledged, flush) = state.withLock { state -> ([InputLine], Bool) in
                state.pending.append(contentsOf: batch)
                guard state.random.next() % 3 != 0 else { return ([], false) }
                defer { state.pending = [] }
                return (state.pending, state.random.next() % 4 == 0)
            }
            if !acknowledged.isEmpty { await committer.advance(lastPerKey(acknowledged)) }
            if flush { try? await committer.flush() }
        }

        /// A clean stop: what was received is done, and committed.
        func finish() async throws {
            let rest = state.withLock { state in
                defer { state.pending = [] }
                return state.pending
            }
            await committer.advance(lastPerKey(rest))
            try await committer.flush()
        }
    }

    @Test(arguments: [UInt64(11), 12, 13])
    func everyLineIsSeenAtLeastOnceThroughRotationsAndRestarts(seed: UInt64) async throws {
        let dir = try TemporaryDirectory()
        let scribe = Scribe(path: dir.file("a.log"))
        let settings = config([dir.path + "/a.log*"])
        var random = SplitMix(seed: seed)
        var seen: [Int: Int] = [:]
        var restarts = (clean: 0, killed: 0)

        // The writer goes on until the rotator is done and the reader was restarted enough.
        scribe.startWriter(count: 1_000_000, burst: 25, pause: .milliseconds(1))
        scribe.startRotator(rotations: 14, kinds: [.rename, .copyTruncate, .copyTruncate], interval: .milliseconds(90), seed: seed)
        while scribe.isRotating || restarts.clean + restarts.killed < 8 {
            let committer = try makeCommitter(dir)
            let acknowledger = LateAcknowledger(committer: committer, seed: random.next())
            let running = try await RunningInput.start(
                config: settings, committer: committer, consumer: { await acknowledger.receive($0) })
            try await Task.sleep(for: .milliseconds(Int(40 + random.next() % 250)))
            await running.stop()
            if random.next() % 2 == 0 {
                try await acknowledger.finish()
                restarts.clean += 1
            } else {
                restarts.killed += 1
            }
            for number in running.received.lines.compactMap({ Scribe.number(in: $0.bytes) }) {
                seen[number, default: 0] += 1
            }
            try await Task.sleep(for: .milliseconds(Int(random.next() % 60)))
        }
        scribe.stop()
        try await scribe.finish()

        // Writer and rotator are done: a last run reads what is left.
        let lost = scribe.lostByRotator
        let expected = Set(scribe.numbers).subtracting(lost)
        let committer = try makeCommitter(dir)
        let acknowledger = LateAcknowledger(committer: committer, seed: random.next())
        let running = try await RunningInput.start(
            config: settings, committer: committer, consumer: { await acknowledger.receive($0) })
        try await eventually("every number the rotator kept", timeout: .seconds(20)) {
            let now = Set(running.received.lines.compactMap { Scribe.number(in: $0.bytes) })
            return expected.isSubset(of: now.union(seen.keys))
        }
        await running.stop()
        for number in running.received.lines.compactMap({ Scribe.number(in: $0.bytes) }) {
            seen[number, default: 0] += 1
        }

        let missing = expected.subtracting(seen.keys)
        let repeated = seen.values.reduce(0) { $0 + $1 - 1 }
        print(
            "torture seed \(seed): \(scribe.written) lines, \(scribe.rotations) rotations,",
            "\(restarts.clean) clean stops, \(restarts.killed) kills,",
            "\(lost.count) lost by copytruncate, \(repeated) repeats")
        #expect(scribe.rotations == 14)
        #expect(missing.isEmpty, "missing: \(missing.sorted().prefix(20))")
        #expect(lost.count < scribe.written / 10, "copytruncate lost a sane amount")
        // The accounting is honest: what it calls lost is in no file.
        var inFiles = Set<Int>()
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasPrefix("a.log") {
            let content = try Data(contentsOf: URL(fileURLWithPath: dir.file(name)))
            for line in content.split(separator: 0x0A) {
                if let number = Scribe.number(in: Array(line)) { inFiles.insert(number) }
            }
        }
        #expect(lost.isDisjoint(with: inFiles))
        #expect(inFiles.union(lost) == Set(scribe.numbers))
    }
}
