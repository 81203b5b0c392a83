import ArgumentParser
import Config
import Foundation
import JSON
import LKEvent
import Rules

/// `lk-bench rules`: lines per second through parse + match + map + event encoding on one
/// core, for generated NDJSON lines of about 200 bytes and a set of 20 rules using every
/// kind of operator.
struct RulesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Parse + match + map + encode throughput of the rules (one core)."
    )

    @Option(help: "How many lines to run through the rules.")
    var lines: Int = 1_000_000

    @Option(help: "Distinct lines, generated or the first ones of --file, cycled through.")
    var distinct: Int = 10_000

    @Option(help: "Runs; the best is reported.")
    var runs: Int = 3

    @Option(help: "A configuration whose rules to measure instead of the built-in 20 (e.g. one with bench/rules.yaml).")
    var config: String?

    @Option(help: "With --config: the input the lines are taken to come from.")
    var input: String = "app"

    @Option(help: "An NDJSON file whose lines to use instead of generated ones.")
    var file: String?

    static let configYAML = """
        producer_id: bench@host
        sink: { type: stdout }
        inputs:
          - { name: app, type: file, paths: ["/var/log/app/*.ndjson"] }
        rules:
          - { name: r01, match: { level: ["fatal"] }, event: { type: fatal } }
          - { name: r02, match: { service: [{ prefix: "billing-" }] }, event: { type: billing } }
          - { name: r03, match: { action: ["refund"], order: { total: [{ numeric: [">", 1000] }] } }, event: { type: big-refund } }
          - { name: r04, match: { user: { ip: [{ cidr: "192.168.0.0/16" }] } }, event: { type: internal } }
          - { name: r05, match: { msg: [{ wildcard: "*timeout*retry*" }] }, event: { type: timeout } }
          - { name: r06, match: { env: [{ equals-ignore-case: "STAGING" }] }, event: { type: staging } }
          - { name: r07, match: { trace: [{ exists: true }], level: ["debug"] }, event: { type: traced } }
          - { name: r08, match: { service: [{ suffix: "-canary" }] }, event: { type: canary } }
          - { name: r09, match: { order: { currency: [{ anything-but: ["EUR", "USD", "GBP", "CHF"] }] } }, event: { type: odd-currency } }
          - { name: r10, match: { "$or": [ { level: ["error"] }, { status: [{ numeric: [">=", 500] }] } ] }, event: { type: "failure-${service}", partition_key: "${user.id}" } }
          - { name: r11, match: { action: ["delete"], user: { role: ["admin"] } }, event: { type: admin-delete } }
          - { name: r12, match: { tags: ["gdpr"] }, event: { type: gdpr } }
          - { name: r13, match: { order: { id: [{ numeric: ["<", 0] }] } }, event: { type: bad-id } }
          - { name: r14, match: { region: [{ prefix: { equals-ignore-case: "AP-" } }] }, event: { type: asia } }
          - { name: r15, match: { action: [{ anything-but: { prefix: "get" } }], method: ["GET"] }, event: { type: odd-get } }
          - { name: r16, match: { level: ["warn"], msg: [{ prefix: "slow" }] }, event: { type: slow } }
          - name: r17
            match: { action: ["create"], order: { total: [{ numeric: [">", 0, "<=", 1000] }] } }
            event: { type: "order-${action}d", data: "${order}", user_id: "${user.id}", partition_key: "order-${order.id}", timestamp: "${ts}" }
          - name: r18
            match: { action: ["update", "cancel"] }
            event: { type: "order-${action}", data: { orderId: "${order.id}", by: "${user.id}", note: "via ${service}" }, partition_key: "order-${order.id}" }
          - { name: r19, match: { level: ["info"] }, event: { type: info, user_id: "${user.id}" } }
          - { name: r20, event: { type: other } }
        """

    mutating func run() throws {
        let configuration = try config.map { path throws(ConfigError) in try ConfigLoader.load(path: path) }
            ?? ConfigLoader.load(yaml: Self.configYAML, file: "bench.yaml")
        let rules = try RuleSet(configuration: configuration)
        let input = config == nil ? "app" : self.input
        var samples: [[UInt8]]
        if let file {
            samples = try Self.lines(of: file, count: distinct)
        } else {
            var generator = RulesBenchRandom(seed: 42)
            samples = (0..<distinct).map { _ in Self.line(&generator) }
        }
        guard !samples.isEmpty else { throw ValidationError("\(file ?? "") has no lines") }
        let averageBytes = samples.reduce(0) { $0 + $1.count } / samples.count
        let readTime = Date()

        var best = Double.infinity
        var bestCPU = Double.infinity
        var events = 0
        var outputBytes = 0
        for _ in 0..<runs {
            events = 0
            outputBytes = 0
            var out: [UInt8] = []
            out.reserveCapacity(1 << 16)
            let clock = ContinuousClock()
            let start = clock.now
            let cpuStart = Self.threadCPUSeconds()
            var mapped: [MappedEvent] = []
            for i in 0..<lines {
                mapped.removeAll(keepingCapacity: true)
                if rules.map(line: samples[i % samples.count], input: input, readTime: readTime, into: &mapped) == .mapped {
                    for k in mapped.indices {
                        mapped[k].event.encode(into: &out)
                        events += 1
                    }
                }
                if out.count > 60_000 {
                    outputBytes += out.count
                    out.removeAll(keepingCapacity: true)
                }
            }
            outputBytes += out.count
            let cpu = Self.threadCPUSeconds() - cpuStart
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            best = min(best, seconds)
            bestCPU = min(bestCPU, cpu)
        }
        // The parser alone, for comparison (each line parsed once, nothing else).
        var parseCPU = Double.infinity
        for _ in 0..<runs {
            let cpuStart = Self.threadCPUSeconds()
            var members = 0
            for i in 0..<lines {
                if let document = try? JSONDocument(parsing: samples[i % samples.count]) {
                    members &+= document.count(at: JSONDocument.rootIndex)
                }
            }
            parseCPU = min(parseCPU, Self.threadCPUSeconds() - cpuStart)
            precondition(members > 0)
        }
        print(
            "rules: \(lines) lines of ~\(averageBytes) B, \(configuration.rules.count) rules, \(events) events "
                + "(\(outputBytes / 1_000_000) MB): \(Int(Double(lines) / bestCPU)) lines/s per core of CPU time "
                + "(\(String(format: "%.3f", bestCPU)) s), \(Int(Double(lines) / best)) lines/s wall clock "
                + "(\(String(format: "%.3f", best)) s); parsing alone \(Int(Double(lines) / parseCPU)) lines/s; "
                + "best of \(runs)")
    }

    /// The first `count` non-empty lines of the file at `path`.
    static func lines(of path: String, count: Int) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var lines: [[UInt8]] = []
        var start = 0
        while lines.count < count, start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            if end > start { lines.append(Array(bytes[start..<end])) }
            start = end + 1
        }
        return lines
    }

    /// CPU time used by the calling thread (the benchmark runs on one thread).
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// One NDJSON line of about 200 bytes, shaped like an application log line.
    static func line(_ g: inout RulesBenchRandom) -> [UInt8] {
        let levels = ["info", "info", "info", "warn", "error", "debug"]
        let actions = ["create", "create", "update", "cancel", "get", "refund", "delete"]
        let services = ["orders", "billing-api", "cart", "orders-canary", "search"]
        let currencies = ["EUR", "USD", "GBP", "JPY"]
        let level = levels[Int(g.next() % UInt64(levels.count))]
        let action = actions[Int(g.next() % UInt64(actions.count))]
        let service = services[Int(g.next() % UInt64(services.count))]
        let orderId = g.next() % 1_000_000
        let total = Double(g.next() % 200_000) / 100
        let user = g.next() % 100_000
        let ip = "10.\(g.next() % 256).\(g.next() % 256).\(g.next() % 256)"
        let status = [200, 200, 201, 404, 503][Int(g.next() % 5)]
        let ms = g.next() % 1000
        let text = """
            {"ts":"2024-05-01T12:00:00.\(String(format: "%03d", ms))Z","level":"\(level)","service":"\(service)",\
            "action":"\(action)","status":\(status),"order":{"id":\(orderId),"total":\(total),\
            "currency":"\(currencies[Int(g.next() % 4)])"},"user":{"id":"u-\(user)","ip":"\(ip)"},"msg":"ok"}
            """
        return Array(text.utf8)
    }
}

/// A small, fast, seeded random generator, so the benchmark's lines are the same each run.
struct RulesBenchRandom: RandomNumberGenerator {
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
