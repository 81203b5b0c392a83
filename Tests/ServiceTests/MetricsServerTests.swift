import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing
@testable import Service

@Suite("MetricsServer")
struct MetricsServerTests {
    /// What the health closure answers, changeable by the test.
    final class HealthSwitch: Sendable {
        let status = Mutex(HealthStatus.healthy)
        func get() -> HealthStatus { status.withLock { $0 } }
    }

    /// Runs a server on 127.0.0.1 with a free port inside a ServiceGroup, then shuts it down gracefully.
    func withServer(
        registry: PrometheusCollectorRegistry, health: HealthSwitch = HealthSwitch(),
        _ body: (MetricsServer) async throws -> Void
    ) async throws {
        let server = try await MetricsServer.bind(
            ListenAddress(host: "127.0.0.1", port: 0), registry: registry, health: { health.get() })
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        do {
            try await body(server)
        } catch {
            await group.triggerGracefulShutdown()
            try await running.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test("GET /metrics answers the registry in the Prometheus text format")
    func metrics() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        // Through swift-metrics, as the pipeline records them.
        let linesRead = Counter(label: "lk_test_lines_total", dimensions: [("input", "orders")], factory: factory)
        linesRead.increment(by: 3)
        Gauge(label: "lk_test_bytes_behind", dimensions: [("input", "orders")], factory: factory).record(1024)
        try await withServer(registry: registry) { server in
            #expect(server.port > 0)
            let response = try await HTTPTestClient(port: server.port).get("/metrics")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            let lines = response.body.split(separator: "\n").map(String.init)
            #expect(lines.contains("# TYPE lk_test_lines_total counter"))
            #expect(lines.contains(#"lk_test_lines_total{input="orders"} 3"#))
            #expect(lines.contains("# TYPE lk_test_bytes_behind gauge"))
            #expect(lines.contains(#"lk_test_bytes_behind{input="orders"} 1024.0"#))
            // What is scraped is the registry now, not a copy from start-up.
            linesRead.increment(by: 2)
            let again = try await HTTPTestClient(port: server.port).get("/metrics?x=1")
            #expect(again.body.contains(#"lk_test_lines_total{input="orders"} 5"#))
        }
    }

    @Test("GET /health answers 200 ok, then 503 with the reason")
    func health() async throws {
        let health = HealthSwitch()
        try await withServer(registry: PrometheusCollectorRegistry(), health: health) { server in
            let client = HTTPTestClient(port: server.port)
            let healthy = try await client.get("/health")
            #expect(healthy.status == 200)
            #expect(healthy.body == "ok\n")
            health.status.withLock { $0 = .unhealthy(reason: "sink: 5 PutRecords failures in a row\n(throttled)") }
            let unhealthy = try await client.get("/health")
            #expect(unhealthy.status == 503)
            #expect(unhealthy.body == "sink: 5 PutRecords failures in a row (throttled)\n")
        }
    }

    @Test("unknown paths are 404, other methods 405, HEAD has no body")
    func otherRequests() async throws {
        try await withServer(registry: PrometheusCollectorRegistry()) { server in
            let client = HTTPTestClient(port: server.port)
            #expect(try await client.get("/").status == 404)
            let post = try await client.get("/metrics", method: "POST")
            #expect(post.status == 405)
            #expect(post.headers["allow"] == "GET, HEAD")
            let head = try await client.get("/health", method: "HEAD")
            #expect(head.status == 200)
            #expect(head.headers["content-length"] == "3")
            #expect(head.body.isEmpty)
        }
    }

    @Test("a keep-alive connection serves several requests")
    func keepAlive() async throws {
        try await withServer(registry: PrometheusCollectorRegistry()) { server in
            let responses = try await HTTPTestClient(port: server.port).exchange(
                [("GET", "/health"), ("GET", "/metrics"), ("GET", "/health")])
            #expect(responses.map(\.status) == [200, 200, 200])
            #expect(responses[2].body == "ok\n")
        }
    }

    @Test("a large exposition reaches a slow reader whole before a Connection: close")
    func largeBodyThenClose() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let directory = "/var/log/" + String(repeating: "d", count: 3_000)
        for index in 0..<2_000 {
            Counter(label: "lk_test_file_lines_total", dimensions: [("file", "\(directory)/\(index).ndjson")], factory: factory)
                .increment(by: index)
        }
        let expected = registry.emitToString()
        // More than the kernel's socket buffers take at once, so some of it waits in the server.
        #expect(expected.utf8.count > 6_000_000)
        try await withServer(registry: registry) { server in
            let response = try await HTTPTestClient(port: server.port, slowReader: true).get("/metrics", close: true)
            #expect(response.status == 200)
            #expect(response.body == expected)
        }
    }

    @Test("an address in use is an error naming it")
    func addressInUse() async throws {
        try await withServer(registry: PrometheusCollectorRegistry()) { server in
            let address = ListenAddress(host: "127.0.0.1", port: server.port)
            let error = await #expect(throws: MetricsServerError.self) {
                _ = try await MetricsServer.bind(address, registry: PrometheusCollectorRegistry(), health: { .healthy })
            }
            #expect(error?.description.hasPrefix("metrics_listen 127.0.0.1:\(server.port): cannot listen") == true)
        }
    }

    @Test("graceful shutdown closes the listening socket and open connections")
    func gracefulShutdown() async throws {
        let server = try await MetricsServer.bind(
            ListenAddress(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry(), health: { .healthy })
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        // A keep-alive connection stays open across the shutdown request.
        #expect(try await HTTPTestClient(port: server.port).get("/health", close: false).status == 200)
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(!HTTPTestClient.canConnect(port: server.port))
    }
}

@Suite("ListenAddress")
struct ListenAddressTests {
    @Test("host:port forms")
    func valid() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:9464") == ListenAddress(host: "127.0.0.1", port: 9464))
        #expect(try ListenAddress(parsing: "localhost:0") == ListenAddress(host: "localhost", port: 0))
        #expect(try ListenAddress(parsing: "[::1]:9464") == ListenAddress(host: "::1", port: 9464))
        #expect(try ListenAddress(parsing: "[::1]:9464").description == "[::1]:9464")
    }

    @Test("invalid forms say what is wrong", arguments: [
        ("9464", "expected HOST:PORT"),
        (":9464", "the host is empty"),
        ("127.0.0.1:", "is not a number"),
        ("127.0.0.1:70000", "is not a number from 0 to 65535"),
        ("::1:9464", "in brackets"),
        ("[::1", "no closing ]"),
        ("[::1]9464", "expected :PORT"),
    ])
    func invalid(text: String, reason: String) {
        let error = #expect(throws: ListenAddressError.self) { try ListenAddress(parsing: text) }
        #expect(error?.description.contains(reason) == true)
        #expect(error?.description.contains(text) == true)
    }
}
