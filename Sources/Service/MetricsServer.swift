import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The agent's HTTP endpoint on `metrics_listen`: `GET /metrics` answers the Prometheus text
/// exposition of a `PrometheusCollectorRegistry`, `GET /health` answers 200 `ok` or 503 with
/// the reason the health closure gives. `bind` opens the socket (so a bad address fails at
/// start-up, before READY=1); `run` serves until graceful shutdown, then closes.
public struct MetricsServer: Service {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The address the server is bound to (with the real port when 0 was asked for).
    public let localAddress: SocketAddress
    private let channel: NIOAsyncChannel<Connection, Never>
    private let registry: PrometheusCollectorRegistry
    private let health: @Sendable () async -> HealthStatus
    private let logger: Logger

    /// The port the server listens on.
    public var port: Int { localAddress.port ?? 0 }

    /// Binds the listening socket.
    /// - Parameters:
    ///   - address: where to listen (`metrics_listen`).
    ///   - registry: what `/metrics` exposes (from `MetricsBootstrap.bootstrap()`).
    ///   - health: asked on each `GET /health`.
    /// - Throws: `MetricsServerError` naming the address when it cannot be bound.
    public static func bind(
        _ address: ListenAddress, registry: PrometheusCollectorRegistry,
        health: @escaping @Sendable () async -> HealthStatus,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "lk-forwarder.metrics")
    ) async throws(MetricsServerError) -> MetricsServer {
        let channel: NIOAsyncChannel<Connection, Never>
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port) { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try Connection(wrappingChannelSynchronously: child)
                    }
                }
        } catch {
            throw MetricsServerError(address: address, reason: "cannot listen: \(error)")
        }
        guard let localAddress = channel.channel.localAddress else {
            try? await channel.channel.close()
            throw MetricsServerError(address: address, reason: "the bound socket has no local address")
        }
        return MetricsServer(
            localAddress: localAddress, channel: channel, registry: registry, health: health, logger: logger)
    }

    private init(
        localAddress: SocketAddress, channel: NIOAsyncChannel<Connection, Never>,
        registry: PrometheusCollectorRegistry, health: @escaping @Sendable () async -> HealthStatus, logger: Logger
    ) {
        self.localAddress = localAddress
        self.channel = channel
        self.registry = registry
        self.health = health
        self.logger = logger
    }

    /// Accepts and serves connections until graceful shutdown or cancellation, then closes
    /// the listening socket and every connection.
    public func run() async throws {
        logger.info("serving /metrics and /health", metadata: ["address": "\(localAddress)"])
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    try await self.channel.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await self.serve(connection) }
                        }
                    }
                }
            }
        } catch is CancellationError {
            // Shutdown stops the accept loop by cancelling it: that is the normal end.
        }
        logger.debug("metrics endpoint closed", metadata: ["address": "\(localAddress)"])
    }

    /// Answers the requests of one connection, keeping it open while the client asks to.
    private func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var request: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        request = head
                    case .body:
                        continue
                    case .end:
                        guard let head = request else { continue }
                        request = nil
                        let response = await respond(to: head)
                        let keepAlive = head.isKeepAlive
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: response.contentType)
                        headers.add(name: "Content-Length", value: String(response.body.count))
                        if let allow = response.allow { headers.add(name: "Allow", value: allow) }
                        if !keepAlive { headers.add(name: "Connection", value: "close") }
                        var parts: [HTTPServerResponsePart] = [
                            .head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))
                        ]
                        if head.method != .HEAD { parts.append(.body(.byteBuffer(ByteBuffer(bytes: response.body)))) }
                        parts.append(.end(nil))
                        try await outbound.write(contentsOf: parts)
                        if !keepAlive {
                            // Shutting the output down waits for the response to reach the
                            // socket; a plain close would drop what the kernel has not taken yet.
                            try await connection.channel.close(mode: .output)
                            return
                        }
                    }
                }
            }
        } catch {
            logger.debug("metrics connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// One response: status, body and its content type.
    struct Response {
        var status: HTTPResponseStatus
        var contentType = "text/plain; charset=utf-8"
        var body: [UInt8]
        var allow: String?
    }

    /// What a request gets: /metrics, /health, 404 for other paths, 405 for other methods.
    func respond(to head: HTTPRequestHead) async -> Response {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/metrics" || path == "/health" else {
            return Response(status: .notFound, body: Array("not found; try /metrics or /health\n".utf8))
        }
        guard head.method == .GET || head.method == .HEAD else {
            return Response(status: .methodNotAllowed, body: Array("method not allowed\n".utf8), allow: "GET, HEAD")
        }
        if path == "/metrics" {
            return Response(
                status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
        }
        switch await health() {
        case .healthy:
            return Response(status: .ok, body: Array("ok\n".utf8))
        case .unhealthy(let reason):
            let line = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
            return Response(status: .serviceUnavailable, body: Array("\(line)\n".utf8))
        }
    }
}

/// The metrics endpoint could not be opened: the address and why.
public struct MetricsServerError: Error, Sendable, CustomStringConvertible {
    public let address: ListenAddress
    public let reason: String

    public var description: String { "metrics_listen \(address): \(reason)" }
}
