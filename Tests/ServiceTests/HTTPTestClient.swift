import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client over a real TCP socket, for testing the metrics server. The
/// blocking socket calls run on a thread of their own so they never hold up Swift's
/// cooperative pool, where the server's health closure runs.
struct HTTPTestClient {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    /// A slow reader: a small receive buffer, a pause before reading each response and small
    /// reads with pauses between them, so that the server's writes back up in its own socket.
    var slowReader = false

    /// One request on a fresh connection.
    func get(_ path: String, method: String = "GET", close: Bool = true) async throws -> Response {
        try await exchange([(method, path)], close: close)[0]
    }

    /// Several requests one after the other on one keep-alive connection.
    func exchange(_ requests: [(method: String, path: String)], close: Bool = true) async throws -> [Response] {
        let port = self.port
        let slowReader = self.slowReader
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result { try Self.blockingExchange(port: port, requests, close: close, slowReader: slowReader) })
            }.start()
        }
    }

    /// Whether a TCP connection to the port is accepted.
    static func canConnect(port: Int) -> Bool {
        guard let fd = try? connect(port: port) else { return false }
        Glibc.close(fd)
        return true
    }

    private static func connect(port: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure(description: "connect: \(String(cString: strerror(code)))")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private static func blockingExchange(
        port: Int, _ requests: [(method: String, path: String)], close: Bool, slowReader: Bool
    ) throws -> [Response] {
        let fd = try connect(port: port, receiveBuffer: slowReader ? 4096 : nil)
        defer { Glibc.close(fd) }
        var pending: [UInt8] = []
        var responses: [Response] = []
        for (index, request) in requests.enumerated() {
            let last = index == requests.count - 1
            let text =
                "\(request.method) \(request.path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + (last && close ? "Connection: close\r\n" : "") + "\r\n"
            let bytes = Array(text.utf8)
            guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
                throw Failure(description: "short send")
            }
            if slowReader { usleep(300_000) }
            responses.append(
                try readResponse(fd, &pending, bodyless: request.method == "HEAD", chunk: slowReader ? 16384 : 65536))
        }
        if close {
            // The server must close after a `Connection: close` exchange.
            var byte: UInt8 = 0
            guard recv(fd, &byte, 1, 0) == 0 else { throw Failure(description: "connection left open") }
        }
        return responses
    }

    private static func readResponse(_ fd: Int32, _ pending: inout [UInt8], bodyless: Bool, chunk: Int) throws
        -> Response
    {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while true {
            if let end = pending.firstRange(of: separator)?.upperBound {
                headEnd = end
                break
            }
            try receive(fd, into: &pending, chunk: chunk)
        }
        guard let headEnd else { throw Failure(description: "no head") }
        let headText = String(decoding: pending[..<headEnd], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw Failure(description: "bad status line in \(headText)")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = bodyless ? 0 : Int(headers["content-length"] ?? "") ?? 0
        while pending.count < headEnd + length { try receive(fd, into: &pending, chunk: chunk) }
        let body = String(decoding: pending[headEnd..<(headEnd + length)], as: UTF8.self)
        pending.removeFirst(headEnd + length)
        return Response(status: status, headers: headers, body: body)
    }

    private static func receive(_ fd: Int32, into pending: inout [UInt8], chunk size: Int) throws {
        if size < 65536 { usleep(1_000) }
        var chunk = [UInt8](repeating: 0, count: size)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw Failure(description: n == 0 ? "connection closed early" : "recv: \(errno)") }
        pending.append(contentsOf: chunk[0..<n])
    }
}
