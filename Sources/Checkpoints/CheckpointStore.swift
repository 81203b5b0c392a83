import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads and writes the committed checkpoints of each input, one JSON file per input
/// under the state directory. A write is atomic: a temporary file is written and fsync'd,
/// renamed over the old one, and the directory fsync'd, so a crash at any instant leaves
/// either the old or the new state on disk, never a torn one.
public struct CheckpointStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The file that holds an input's checkpoints: the name's UTF-8 bytes, percent-encoded
    /// but for letters, digits, `-`, `_` and `.` (so no name can reach outside the directory).
    public func path(forInput input: String) -> String {
        var safe = ""
        for byte in input.utf8 {
            let scalar = Unicode.Scalar(byte)
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || (byte == 0x2E && !safe.isEmpty)
            safe += plain ? String(Character(scalar)) : String(format: "%%%02X", byte)
        }
        return directory + "/" + safe + ".checkpoints.json"
    }

    /// The committed checkpoints of an input, by key; empty when it has none yet.
    public func load(input: String) throws(CheckpointStoreError) -> [String: Checkpoint] {
        let path = path(forInput: input)
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let file = try JSONDecoder.checkpoints.decode(StoredCheckpoints.self, from: data)
            guard file.version == StoredCheckpoints.currentVersion else {
                throw CheckpointStoreError(
                    path: path, reason: "unknown checkpoint file version \(file.version) (this build reads \(StoredCheckpoints.currentVersion))")
            }
            return Dictionary(file.checkpoints.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        } catch let error as CheckpointStoreError {
            throw error
        } catch {
            throw CheckpointStoreError(path: path, reason: "cannot read checkpoints: \(error)")
        }
    }

    /// Every input that has a checkpoint file, by name.
    public func inputs() -> [String] {
        let suffix = ".checkpoints.json"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.map {
            String($0.dropLast(suffix.count)).removingPercentEncoding ?? String($0.dropLast(suffix.count))
        }.sorted()
    }

    /// Replaces an input's checkpoints atomically.
    public func save(input: String, _ checkpoints: [String: Checkpoint]) throws(CheckpointStoreError) {
        let path = path(forInput: input)
        let stored = StoredCheckpoints(
            input: input, checkpoints: checkpoints.values.sorted { $0.key < $1.key })
        let data: Data
        do {
            data = try JSONEncoder.checkpoints.encode(stored)
        } catch {
            throw CheckpointStoreError(path: path, reason: "cannot encode checkpoints: \(error)")
        }
        try Self.ensureDirectory(directory)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw CheckpointStoreError(path: temporary, errno: errno) }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var written = 0
            while written < raw.count {
                let n = write(fd, base + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure != 0 {
            unlink(temporary)
            throw CheckpointStoreError(path: temporary, errno: failure)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw CheckpointStoreError(path: path, errno: code)
        }
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw CheckpointStoreError(path: directory, errno: errno) }
        defer { close(dirfd) }
        guard fsync(dirfd) == 0 else { throw CheckpointStoreError(path: directory, errno: errno) }
    }

    private static func ensureDirectory(_ directory: String) throws(CheckpointStoreError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue {
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointStoreError(path: directory, reason: "cannot create the state directory: \(error)")
        }
    }
}

/// The on-disk shape of one input's checkpoint file.
struct StoredCheckpoints: Codable {
    static let currentVersion = 1
    var version = currentVersion
    var input: String
    var checkpoints: [Checkpoint]
}

/// A checkpoint file that cannot be read or written, with its path.
public struct CheckpointStoreError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    init(path: String, errno code: Int32) {
        self.init(path: path, reason: String(cString: strerror(code)))
    }

    public var description: String { "\(path): \(reason)" }
}

extension JSONEncoder {
    static var checkpoints: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    static var checkpoints: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
