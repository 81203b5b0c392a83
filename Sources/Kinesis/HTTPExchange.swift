import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP request and its whole answer, for the small calls of the credential providers
/// (instance metadata, container endpoint, STS). Bodies are bounded.
struct HTTPExchange: Sendable {
    let client: HTTPClient

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// Answers larger than this are cut off: the calls here expect a few KiB.
    static let maxBodyBytes = 1 << 20

    func send(
        _ method: HTTPMethod, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Duration
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: timeout.timeAmount)
        var collected = try await response.body.collect(upTo: Self.maxBodyBytes)
        let bytes = collected.readBytes(length: collected.readableBytes) ?? []
        return Answer(status: Int(response.status.code), headers: response.headers, body: bytes)
    }
}
