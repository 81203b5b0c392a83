import Config
import Foundation
import JSON
import Testing

/// The configuration loader: the spec's example loads with its values and defaults, and
/// each kind of mistake is refused at the right line and column with its key path.
@Suite struct ConfigLoaderTests {
    static let specExample = """
        producer_id: "billing@host-12"
        state_directory: /var/lib/lk-forwarder
        metrics_listen: "127.0.0.1:9464"

        sink:
          type: kinesis
          stream: entrypoint
          region: eu-west-1
          endpoint: "http://127.0.0.1:5055"
          profile: default
          role_arn: "arn:aws:iam::123456789012:role/forwarder"
          max_in_flight: 8
          batch: { max_records: 500, max_bytes: 5242880, max_delay: 200ms }
          max_record_bytes: 1048576
          ordering: per_key

        inputs:
          - name: orders
            type: file
            paths: ["/var/log/orders/*.ndjson"]
            exclude: ["*.gz"]
            start_at: beginning
            max_line_bytes: 1048576
          - name: legacy
            type: journald
            directory: /var/log/journal
            matches: ["_SYSTEMD_UNIT=legacy.service", "SYSLOG_IDENTIFIER=legacy"]
            start_at: end
            parse_message: json

        rules:
          - name: order-created
            input: orders
            match:
              action: ["create"]
              order: { total: [ { numeric: [">", 0] } ] }
            event:
              type: order-created
              data: "${order}"
              user_id: "${user.id}"
              partition_key: "${order.id}"
              timestamp: "${ts}"
            continue: false
        """

    @Test func specExampleLoads() throws {
        let config = try ConfigLoader.load(yaml: Self.specExample, file: "spec.yaml", environment: [:])
        #expect(config.producerId == "billing@host-12")
        #expect(config.stateDirectory == "/var/lib/lk-forwarder")
        #expect(config.metricsListen == "127.0.0.1:9464")
        #expect(config.logLevel == "info")
        #expect(config.sink.type == .kinesis)
        #expect(config.sink.stream == "entrypoint")
        #expect(config.sink.region == "eu-west-1")
        #expect(config.sink.endpoint == "http://127.0.0.1:5055")
        #expect(config.sink.roleArn == "arn:aws:iam::123456789012:role/forwarder")
        #expect(config.sink.batch == BatchConfig(maxRecords: 500, maxBytes: 5_242_880, maxDelay: .milliseconds(200)))
        #expect(config.sink.ordering == .perKey)
        #expect(config.inputs.map(\.name) == ["orders", "legacy"])
        guard case .file(let file) = config.inputs[0].kind, case .journald(let journal) = config.inputs[1].kind else {
            Issue.record("input kinds")
            return
        }
        #expect(file.paths == ["/var/log/orders/*.ndjson"])
        #expect(file.exclude == ["*.gz"])
        #expect(file.startAt == .beginning)
        #expect(file.rotateWait == .seconds(5))
        #expect(journal.matches == ["_SYSTEMD_UNIT=legacy.service", "SYSLOG_IDENTIFIER=legacy"])
        #expect(journal.parseMessageJSON)
        #expect(journal.directory == "/var/log/journal")
        let rule = config.rules[0]
        #expect(rule.name == "order-created")
        #expect(rule.inputs == ["orders"])
        #expect(rule.event.partitionKey == "${order.id}")
        let pattern = try JSONValue(parsing: Array(#"{"action":["create"],"order":{"total":[{"numeric":[">",0]}]}}"#.utf8))
        #expect(rule.match == pattern)
        #expect(config.locations.location(of: "rules.0.match.order.total") == SourceLocation(file: "spec.yaml", line: 36, column: 16))
        #expect(config.locations.valueLocation(of: "sink.batch.max_delay").line == 13)
    }

    @Test func defaults() throws {
        let config = try ConfigLoader.load(
            yaml: "sink: { type: stdout }\n", file: "c.yaml", environment: ["STATE_DIRECTORY": "/var/lib/x:/var/lib/y"])
        #expect(config.producerId.hasPrefix("lk-forwarder@"))
        #expect(config.producerId.count > "lk-forwarder@".count)
        #expect(config.stateDirectory == "/var/lib/x")
        #expect(config.sink == SinkConfig(type: .stdout))
        #expect(config.inputs.isEmpty && config.rules.isEmpty)
        let noEnvironment = try ConfigLoader.load(yaml: "sink: { type: stdout }\n", file: "c.yaml", environment: [:])
        #expect(noEnvironment.stateDirectory == "/var/lib/lk-forwarder")
    }

    @Test(arguments: [
        // Unknown keys, with a suggestion.
        ("sink: { type: stdout }\nproducer: x\n", 2, 1, "producer", "unknown key 'producer'"),
        ("sink:\n  type: kinesis\n  strem: s\n", 3, 3, "sink.strem", "did you mean 'stream'?"),
        // Keys that belong to another kind of sink or input.
        ("sink:\n  type: stdout\n  stream: s\n", 3, 3, "sink.stream", "applies only to a kinesis sink"),
        ("sink: { type: stdout }\ninputs:\n  - name: j\n    type: journald\n    paths: [\"/x\"]\n", 5, 5, "inputs.0.paths",
         "does not apply to a journald input"),
        // Required keys.
        ("sink:\n  type: kinesis\n", 1, 1, "sink.stream", "missing required key 'stream'"),
        ("sink:\n  type: file\n", 1, 1, "sink.path", "missing required key 'path'"),
        ("inputs: []\n", 1, 1, "sink", "missing required key 'sink'"),
        // Values out of range or of the wrong kind.
        ("sink:\n  type: kinesis\n  stream: s\n  batch:\n    max_records: 600\n", 5, 18, "sink.batch.max_records",
         "from 1 to 500"),
        ("sink:\n  type: kinesis\n  stream: s\n  batch: { max_bytes: 6MiB }\n", 4, 23, "sink.batch.max_bytes", "5 MiB"),
        ("sink:\n  type: kinesis\n  stream: s\n  max_in_flight: 0\n", 4, 18, "sink.max_in_flight", "from 1 to 1024"),
        ("sink:\n  type: kinesis\n  stream: s\n  batch: { max_delay: 200 }\n", 4, 23, "sink.batch.max_delay",
         "duration with a unit"),
        ("sink: { type: carrier-pigeon }\n", 1, 15, "sink.type", "one of kinesis, file, stdout"),
        ("sink: { type: stdout, ordering: sorted }\n", 1, 33, "sink.ordering", "one of per_key, none"),
        ("sink: { type: stdout }\nlog_level: loud\n", 2, 12, "log_level", "one of trace"),
        ("sink: { type: stdout }\nmetrics_listen: 9464\n", 2, 17, "metrics_listen", "host:port"),
        // Inputs.
        ("sink: { type: stdout }\ninputs:\n  - { name: a, type: file, paths: [/x] }\n  - { name: a, type: journald }\n",
         4, 13, "inputs.1.name", "already used at line 3"),
        ("sink: { type: stdout }\ninputs:\n  - { name: a, type: file, paths: [relative/*.log] }\n", 3, 36,
         "inputs.0.paths.0", "absolute path"),
        ("sink: { type: stdout }\ninputs:\n  - { name: j, type: journald, matches: [unit=x] }\n", 3, 42,
         "inputs.0.matches.0", "not a journal match"),
        // Rules.
        ("sink: { type: stdout }\nrules:\n  - { name: r, input: nope, event: { type: t } }\n", 3, 23, "rules.0.input",
         "unknown input 'nope'"),
        ("sink: { type: stdout }\nrules:\n  - { name: r, match: { a: [x] } }\n", 3, 5, "rules.0.event",
         "missing required key 'event'"),
        ("sink: { type: stdout }\nrules:\n  - { name: r, event: { type: t }, continue: maybe }\n", 3, 46,
         "rules.0.continue", "true or false"),
        // YAML itself.
        ("sink:\n  type: stdout\n   bad: indent\n", 3, 7, "", "YAML syntax"),
        ("sink: { type: stdout }\nsink: { type: stdout }\n", 2, 1, "", "appears twice in the same mapping (first at line 1)"),
    ])
    func errorsPointAtTheMistake(_ yaml: String, _ line: Int, _ column: Int, _ keyPath: String, _ fragment: String) {
        do {
            _ = try ConfigLoader.load(yaml: yaml, file: "c.yaml", environment: [:])
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.location == SourceLocation(file: "c.yaml", line: line, column: column), "\(error)")
            #expect(error.keyPath == keyPath, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        }
    }

    @Test func valueSyntaxes() throws {
        let yaml = """
            sink:
              type: kinesis
              stream: s
              batch: { max_delay: 1m30s, max_bytes: 1MiB }
              drain_timeout: 1.5s
              max_record_bytes: 512KiB
            inputs:
              - { name: f, type: file, paths: /var/log/x.ndjson, rotate_wait: 250ms, max_line_bytes: 2MB }
            rules:
              - { name: r, event: { type: t, partition_key: 42 }, match: { on: [on, yes, 0x1F, .5, +7, ~, "true"] } }
            """
        let c = try ConfigLoader.load(yaml: yaml, file: "c.yaml", environment: [:])
        #expect(c.sink.batch.maxDelay == .seconds(90))
        #expect(c.sink.batch.maxBytes == 1_048_576)
        #expect(c.sink.drainTimeout == .milliseconds(1500))
        #expect(c.sink.maxRecordBytes == 524_288)
        guard case .file(let file) = c.inputs[0].kind else { return }
        #expect(file.paths == ["/var/log/x.ndjson"])
        #expect(file.rotateWait == .milliseconds(250))
        #expect(file.maxLineBytes == 2_000_000)
        #expect(c.rules[0].event.partitionKey == "42")
        // YAML 1.2 core schema: `on` and `yes` stay text; numbers become JSON numbers.
        let expected = try JSONValue(parsing: Array(#"{"on":["on","yes",31,0.5,7,null,"true"]}"#.utf8))
        #expect(c.rules[0].match == expected)
    }

    @Test func fileErrors() throws {
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: "/nonexistent/lk.yaml") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lk-config-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([0x73, 0x69, 0x6E, 0x6B, 0x3A, 0x0A, 0x20, 0x20, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ConfigLoader.load(path: path)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.location == SourceLocation(file: path, line: 2, column: 3))
            #expect(error.message.contains("not valid UTF-8"))
        }
    }
}
