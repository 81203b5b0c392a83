import AsyncHTTPClient
import Foundation
import Kinesis
import Synchronization

/// A directory under /tmp for one test, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let template = NSTemporaryDirectory() + "/lk-kinesis-tests-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw POSIXError(.EIO) }
        path = String(cString: made)
    }

    /// Writes `text` to `name` inside the directory; returns the file's path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        return file
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A clock the tests move by hand.
final class ManualClock: Sendable {
    private let now: Mutex<Date>

    init(_ start: Date = Date()) {
        now = Mutex(start)
    }

    var date: Date { now.withLock { $0 } }

    func set(_ date: Date) {
        now.withLock { $0 = date }
    }

    var function: @Sendable () -> Date { { [self] in self.date } }
}

/// Polls `condition` every 20 ms for at most `seconds`.
func eventually(within seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Runs `body` with an HTTP client that is shut down afterwards.
func withHTTPClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Runs `body` with `client`, which is shut down afterwards whatever happens.
func using<T>(_ client: KinesisClient, _ body: (KinesisClient) async throws -> T) async throws -> T {
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}
