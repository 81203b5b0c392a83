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
}
