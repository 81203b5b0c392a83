import Checkpoints
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A fresh state directory for one test, removed afterwards.
final class StateDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/lk-checkpoints-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(decoding: UnsafeRawBufferPointer(start: made, count: strlen(made)), as: UTF8.self)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The checkpoint store on a real directory: what it writes reads back, names stay inside
/// the directory, a torn or failed write never replaces the committed state.
@Suite struct CheckpointStoreTests {
    static func sample(_ key: String, offset: UInt64) -> Checkpoint {
        Checkpoint(
            key: key, path: "/var/log/orders/a.ndjson", device: 65024, inode: UInt64.max - 1,
            fingerprint: UInt64.max, fingerprintLength: 1024, offset: offset, tailHash: 0x8000_0000_0000_0001,
            committedAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test func whatIsSavedLoadsBackExactly() throws {
        let state = try StateDirectory()
        let store = CheckpointStore(directory: state.path + "/nested/state")
        let journal = Checkpoint(
            key: "journal", cursor: "s=0b1c;i=42;b=9f;m=1a;t=5e;x=77", realtime: 1_700_000_000_123_456,
            committedAt: Date(timeIntervalSince1970: 1_800_000_001))
        let saved = ["a": Self.sample("a", offset: 12_345), "journal": journal]
        try store.save(input: "orders", saved)
        #expect(try store.load(input: "orders") == saved)
        #expect(try store.load(input: "other").isEmpty)
    }

    @Test func inputNamesAreKeptInsideTheDirectoryAndListedBack() throws {
        let state = try StateDirectory()
        let store = CheckpointStore(directory: state.path)
        let names = ["orders", "../escape", "with space/and slash", "ünïcode-é", ".hidden", "a.b_c-d"]
        for (index, name) in names.enumerated() {
            try store.save(input: name, ["k": Self.sample("k", offset: UInt64(index))])
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: state.path)
        #expect(files.count == names.count)
        #expect(files.allSatisfy { !$0.hasPrefix(".") && !$0.contains("/") })
        #expect(store.inputs() == names.sorted())
        for (index, name) in names.enumerated() {
            #expect(try store.load(input: name)["k"]?.offset == UInt64(index))
        }
    }

    @Test func anUnreadableFileIsAnErrorNamingIt() throws {
        let state = try StateDirectory()
        let store = CheckpointStore(directory: state.path)
        let path = store.path(forInput: "orders")
        try Data("{\"version\":1,\"input\":\"orders\",\"checkpoints\":[{\"key\":7}]}".utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: CheckpointStoreError.self) { try store.load(input: "orders") }
        #expect(error.path == path)
        #expect(error.description.contains("key"))

        try Data("{\"version\":9,\"input\":\"orders\",\"checkpoints\":[]}".utf8).write(to: URL(fileURLWithPath: path))
        let version = try #require(throws: CheckpointStoreError.self) { try store.load(input: "orders") }
        #expect(version.description.contains("version 9"))
    }

    @Test func aTornTemporaryFileLeftByACrashIsIgnoredAndReplaced() throws {
        let state = try StateDirectory()
        let store = CheckpointStore(directory: state.path)
        let committed = ["a": Self.sample("a", offset: 100)]
        try store.save(input: "orders", committed)
        // A crash in the middle of the next write leaves half a temporary file behind.
        let path = store.path(forInput: "orders")
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: path + ".tmp"))
        #expect(try store.load(input: "orders") == committed)
        let next = ["a": Self.sample("a", offset: 200)]
        try store.save(input: "orders", next)
        #expect(try store.load(input: "orders") == next)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    @Test func aFailedWriteLeavesTheCommittedStateInPlace() throws {
        let state = try StateDirectory()
        let store = CheckpointStore(directory: state.path)
        let committed = ["a": Self.sample("a", offset: 100)]
        try store.save(input: "orders", committed)
        // The temporary file cannot be created (a directory is in its place).
        let temporary = store.path(forInput: "orders") + ".tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        let error = try #require(throws: CheckpointStoreError.self) {
            try store.save(input: "orders", ["a": Self.sample("a", offset: 200)])
        }
        #expect(error.path == temporary)
        #expect(try store.load(input: "orders") == committed)
    }

    @Test func everyWriteIsWholeWhileAnotherThreadReads() async throws {
        let state = try StateDirectory()
        let store = CheckpointStore(directory: state.path)
        try store.save(input: "orders", ["k0": Self.sample("k0", offset: 0)])
        // A reader on a thread of its own loads the file over and over while it is rewritten.
        let reads = Mutex((count: 0, torn: [String](), done: false))
        let reader = Thread {
            while !reads.withLock({ $0.done }) {
                do {
                    let loaded = try store.load(input: "orders")
                    let offsets = Set(loaded.values.map(\.offset))
                    // One write's state: every checkpoint of the same round, all of them.
                    let whole = offsets.count == 1 && loaded.count == Int(offsets.first.flatMap { $0 } ?? 0) % 40 + 1
                    reads.withLock {
                        $0.count += 1
                        if !whole { $0.torn.append("\(loaded.count) checkpoints, offsets \(offsets)") }
                    }
                } catch {
                    reads.withLock { $0.torn.append("\(error)") }
                }
            }
        }
        reader.start()
        for round in 1...25 {
            var checkpoints: [String: Checkpoint] = [:]
            for index in 0..<(round % 40 + 1) {
                checkpoints["k\(index)"] = Self.sample("k\(index)", offset: UInt64(round))
            }
            try store.save(input: "orders", checkpoints)
            try await Task.sleep(for: .milliseconds(1))
        }
        reads.withLock { $0.done = true }
        let result = reads.withLock { $0 }
        #expect(result.torn.isEmpty)
        #expect(result.count > 10)
    }
}
