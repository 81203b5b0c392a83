import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A logging application and its log rotator, each on its own thread, writing to a real
/// file while a test reads it: the writer appends numbered lines (`{"n":N,"pad":"..."}`),
/// the rotator renames or copies-and-truncates the file. The writer records, for every
/// line, the inode and the offset its write ended at; the rotator records each copy's
/// size. From those, `lostByRotator` says which lines copytruncate itself lost (written
/// after the copy was taken and before the truncation): no reader can see those.
final class Scribe: Sendable {
    enum Rotation: Sendable {
        /// Rename to `<path>.<k>`; the writer writes a few more lines to the old file, then
        /// reopens the path (creating a new file).
        case rename
        /// Copy to `<path>.<k>`, then truncate the file in place; between the two, the
        /// writer goes on for up to a few milliseconds (what it writes then is lost).
        case copyTruncate
    }

    private struct Record {
        let number: Int
        let inode: UInt64
        let end: UInt64
    }

    private struct State {
        var records: [Record] = []
        /// Per inode, the copy size of each copytruncate, in order.
        var copies: [UInt64: [UInt64]] = [:]
        var stop = false
        var reopen = false
        var running = 0
        var rotating = false
        var rotations = 0
        var paused = false
    }

    let path: String
    private let state = Mutex(State())

    init(path: String) {
        self.path = path
    }

    static func line(_ number: Int) -> String {
        "{\"n\":\(number),\"pad\":\"\(String(repeating: "x", count: 40 + number % 50))\"}\n"
    }

    /// The number a line carries, if it is a whole line written by a scribe.
    static func number(in bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("{\"n\":"), let comma = text.firstIndex(of: ",") else { return nil }
        guard let number = Int(text[text.index(text.startIndex, offsetBy: 5)..<comma]) else { return nil }
        return text + "\n" == line(number) ? number : nil
    }

    /// Starts the writer: `count` lines, in bursts of `burst` lines then a short pause.
    func startWriter(count: Int, burst: Int = 20, pause: Duration = .microseconds(500)) {
        state.withLock { $0.running += 1 }
        let thread = Thread { [self] in
            var fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            var afterRename = -1
            for number in 1...count {
                if state.withLock({ $0.stop }) { break }
                let text = Self.line(number)
                _ = text.utf8CString.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
                var info = stat()
                fstat(fd, &info)
                let end = UInt64(lseek(fd, 0, SEEK_CUR))
                state.withLock { $0.records.append(Record(number: number, inode: UInt64(info.st_ino), end: end)) }
                if afterRename < 0, state.withLock({ $0.reopen }) { afterRename = 3 }
                if afterRename == 0 {
                    Glibc.close(fd)
                    fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
                    state.withLock { $0.reopen = false }
                }
                if afterRename >= 0 { afterRename -= 1 }
                if number % burst == 0 { Thread.sleep(forTimeInterval: pause.seconds) }
                while state.withLock({ $0.paused }) { Thread.sleep(forTimeInterval: 0.001) }
            }
            Glibc.close(fd)
            state.withLock { $0.running -= 1 }
        }
        thread.start()
    }

    /// Starts the rotator: `rotations` rotations, one every `interval` (randomised
    /// between half and one and a half of it), of the given kinds in turn.
    func startRotator(rotations: Int, kinds: [Rotation], interval: Duration, seed: UInt64) {
        state.withLock {
            $0.running += 1
            $0.rotating = true
        }
        let thread = Thread { [self] in
            var random = SplitMix(seed: seed)
            for index in 0..<rotations {
                let jitter = 0.5 + Double(random.next() % 1000) / 1000
                Thread.sleep(forTimeInterval: interval.seconds * jitter)
                if state.withLock({ $0.stop }) { break }
                let kind = kinds[index % kinds.count]
                let target = "\(path).\(index + 1)"
                switch kind {
                case .rename:
                    // Wait for the writer to have reopened after the last rename.
                    while state.withLock({ $0.reopen && !$0.stop }) { Thread.sleep(forTimeInterval: 0.001) }
                    if Glibc.rename(path, target) == 0 { state.withLock { $0.reopen = true } }
                case .copyTruncate:
                    copyTruncate(to: target, gap: Double(random.next() % 3000) / 1_000_000)
                }
                state.withLock { $0.rotations += 1 }
            }
            state.withLock {
                $0.running -= 1
                $0.rotating = false
            }
        }
        thread.start()
    }

    private func copyTruncate(to target: String, gap: TimeInterval) {
        let source = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard source >= 0 else { return }
        defer { Glibc.close(source) }
        var info = stat()
        fstat(source, &info)
        guard info.st_size > 0 else { return }
        let copy = Glibc.open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard copy >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var copied: UInt64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(source, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            _ = buffer.withUnsafeBytes { Glibc.write(copy, $0.baseAddress, n) }
            copied += UInt64(n)
        }
        Glibc.close(copy)
        Thread.sleep(forTimeInterval: gap)
        ftruncate(source, 0)
        state.withLock { $0.copies[UInt64(info.st_ino), default: []].append(copied) }
    }

    /// Holds the writer (between two lines) until `resume()`.
    func pause() { state.withLock { $0.paused = true } }
    func resume() { state.withLock { $0.paused = false } }

    func stop() { state.withLock { $0.stop = true } }

    var isRunning: Bool { state.withLock { $0.running > 0 } }
    var isRotating: Bool { state.withLock { $0.rotating } }
    var written: Int { state.withLock { $0.records.count } }
    var rotations: Int { state.withLock { $0.rotations } }

    /// Waits (bounded) for both threads to end.
    func finish(timeout: Duration = .seconds(30)) async throws {
        try await eventually("the writer and rotator to finish", timeout: timeout) { !isRunning }
    }

    /// Every number written.
    var numbers: [Int] { state.withLock { $0.records.map(\.number) } }

    /// The numbers copytruncate lost: lines that ended after the copy's size in the
    /// content that was then truncated.
    var lostByRotator: Set<Int> {
        state.withLock { state in
            var lost = Set<Int>()
            var byInode: [UInt64: [Record]] = [:]
            for record in state.records { byInode[record.inode, default: []].append(record) }
            for (inode, records) in byInode {
                let copies = state.copies[inode] ?? []
                var generation = 0
                var previousEnd: UInt64 = 0
                for record in records {
                    if record.end <= previousEnd { generation += 1 }
                    previousEnd = record.end
                    if generation < copies.count && record.end > copies[generation] { lost.insert(record.number) }
                }
            }
            return lost
        }
    }
}

/// A small deterministic random generator, so a failing run can be repeated by its seed.
struct SplitMix: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
