import JSON
import Yams

/// Builds a `Configuration` from the composed YAML document, section by section, with the
/// defaults and the checks of `spec.md`.
struct ConfigurationBuilder {
    let reader: YAMLReader
    let environment: [String: String]

    static let topKeys = ["producer_id", "state_directory", "metrics_listen", "log_level", "sink", "inputs", "rules"]
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    func build(_ root: Node) throws(ConfigError) -> Configuration {
        let top = try reader.mapping(root, at: "", allowed: Self.topKeys, what: "the configuration")

        let producerId = try reader.string(top, "producer_id") ?? "lk-forwarder@\(ConfigValues.hostname())"
        if producerId.isEmpty { throw reader.error("producer_id", "must not be empty") }

        let stateDirectory = try reader.string(top, "state_directory") ?? defaultStateDirectory()
        if stateDirectory.isEmpty { throw reader.error("state_directory", "must not be empty") }

        let metricsListen = try reader.string(top, "metrics_listen")
        if let metricsListen, !Self.isHostPort(metricsListen) {
            throw reader.error(
                "metrics_listen", "must be host:port, like 127.0.0.1:9464 or [::1]:9464, found '\(metricsListen)'")
        }

        let logLevel = try reader.string(top, "log_level") ?? "info"
        guard Self.logLevels.contains(logLevel) else {
            throw reader.error("log_level", "must be one of \(Self.logLevels.joined(separator: ", ")), found '\(logLevel)'")
        }

        guard let sinkNode = top["sink"], !YAMLReader.isNull(sinkNode) else {
            throw reader.missing(top, "sink", what: "the configuration")
        }
        let sink = try self.sink(sinkNode)

        var inputs: [InputConfig] = []
        var inputPaths: [String: String] = [:]
        if let node = top["inputs"], !YAMLReader.isNull(node) {
            for (item, path) in try reader.sequence(node, at: "inputs", what: "inputs") {
                let input = try self.input(item, at: path)
                if let first = inputPaths[input.name] {
                    let firstAt = reader.locations.valueLocation(of: "\(first).name")
                    throw reader.error(
                        "\(path).name",
                        "the input name '\(input.name)' is already used at line \(firstAt.line); names must be unique (checkpoints are kept per name)")
                }
                inputPaths[input.name] = path
                inputs.append(input)
            }
        }

        var rules: [RuleConfig] = []
        var rulePaths: [String: String] = [:]
        if let node = top["rules"], !YAMLReader.isNull(node) {
            for (index, (item, path)) in try reader.sequence(node, at: "rules", what: "rules").enumerated() {
                let rule = try self.rule(item, at: path, index: index, inputs: inputs)
                if let first = rulePaths[rule.name] {
                    let firstAt = reader.locations.valueLocation(of: "\(first).name")
                    throw reader.error("\(path).name", "the rule name '\(rule.name)' is already used at line \(firstAt.line); names must be unique")
                }
                rulePaths[rule.name] = path
                rules.append(rule)
            }
        }

        return Configuration(
            producerId: producerId, stateDirectory: stateDirectory, metricsListen: metricsListen, logLevel: logLevel,
            sink: sink, inputs: inputs, rules: rules, locations: reader.locations)
    }

    private func defaultStateDirectory() -> String {
        // systemd sets STATE_DIRECTORY from StateDirectory=, colon-separated when there are several.
        if let fromSystemd = environment["STATE_DIRECTORY"], let first = fromSystemd.split(separator: ":").first {
            return String(first)
        }
        return "/var/lib/lk-forwarder"
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":") else { return false }
        let host = text[..<colon]
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port), !host.isEmpty else { return false }
        if host.hasPrefix("[") { return host.hasSuffix("]") && host.count > 2 }
        return !host.contains(":")
    }

    // MARK: Sink

    static let commonSinkKeys = [
        "type", "max_in_flight", "batch", "max_record_bytes", "ordering", "drain_timeout", "max_buffered_events",
        "max_buffered_bytes",
    ]
    static let kinesisOnlyKeys = ["stream", "region", "endpoint", "profile", "role_arn"]
    static let fileOnlyKeys = ["path"]

    private func sink(_ node: Node) throws(ConfigError) -> SinkConfig {
        let allKeys = Self.commonSinkKeys + Self.kinesisOnlyKeys + Self.fileOnlyKeys
        let fields = try reader.mapping(node, at: "sink", allowed: allKeys, what: "sink")
        guard let type = try reader.choice(fields, "type", SinkConfig.Kind.self, options: [.kinesis, .file, .stdout]) else {
            throw reader.missing(fields, "type", what: "sink (kinesis, file or stdout)")
        }
        let ownKeys: [String]
        switch type {
        case .kinesis: ownKeys = Self.kinesisOnlyKeys
        case .file: ownKeys = Self.fileOnlyKeys
        case .stdout: ownKeys = []
        }
        for key in fields.keys where !Self.commonSinkKeys.contains(key) && !ownKeys.contains(key) {
            let owner = Self.kinesisOnlyKeys.contains(key) ? "kinesis" : "file"
            throw reader.keyError("sink.\(key)", "'\(key)' applies only to a \(owner) sink; this sink is \(type.rawValue)")
        }

        var sink = SinkConfig(type: type)
        if type == .kinesis {
            let stream = try reader.requiredString(fields, "stream", what: "a kinesis sink")
            guard stream.utf8.count <= 128, stream.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
                throw reader.error("sink.stream", "'\(stream)' is not a Kinesis stream name (1 to 128 of A-Z a-z 0-9 _ . -)")
            }
            sink.stream = stream
            sink.region = try reader.string(fields, "region")
            if let region = sink.region,
                region.isEmpty || !region.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
            {
                throw reader.error("sink.region", "'\(region)' is not an AWS region name (like eu-west-1)")
            }
            sink.endpoint = try reader.string(fields, "endpoint")
            if let endpoint = sink.endpoint {
                let lower = endpoint.lowercased()
                let rest = lower.hasPrefix("https://") ? lower.dropFirst(8) : lower.hasPrefix("http://") ? lower.dropFirst(7) : nil
                guard let rest, !rest.isEmpty, !rest.hasPrefix("/") else {
                    throw reader.error("sink.endpoint", "must be an http:// or https:// URL with a host, found '\(endpoint)'")
                }
            }
            sink.profile = try reader.string(fields, "profile")
            sink.roleArn = try reader.string(fields, "role_arn")
            if let arn = sink.roleArn, !(arn.hasPrefix("arn:") && arn.contains(":iam::") && arn.contains(":role/")) {
                throw reader.error("sink.role_arn", "must be an IAM role ARN like arn:aws:iam::123456789012:role/name, found '\(arn)'")
            }
        }
        if type == .file {
            sink.path = try reader.requiredString(fields, "path", what: "a file sink")
        }
        if let n = try reader.int(fields, "max_in_flight", in: 1...1024, why: " (requests at once)") { sink.maxInFlight = n }
        if let batchNode = fields["batch"], !YAMLReader.isNull(batchNode) {
            sink.batch = try batch(batchNode)
        }
        if let n = try reader.byteSize(
            fields, "max_record_bytes", in: 1...10_485_760, why: " (Kinesis records are at most 1 MiB, or 10 MiB where raised)")
        {
            sink.maxRecordBytes = n
        }
        if let ordering = try reader.choice(fields, "ordering", SinkConfig.Ordering.self, options: [.perKey, .none]) {
            sink.ordering = ordering
        }
        if let d = try reader.duration(fields, "drain_timeout", in: .zero ... .seconds(3600)) { sink.drainTimeout = d }
        if let n = try reader.int(fields, "max_buffered_events", in: 1...10_000_000, why: " (events held before acknowledgement)") {
            sink.maxBufferedEvents = n
        }
        if let n = try reader.byteSize(fields, "max_buffered_bytes", in: 1...(1 << 32), why: " (bytes held before acknowledgement)") {
            sink.maxBufferedBytes = n
        }
        if sink.maxBufferedBytes < sink.maxRecordBytes {
            let key = fields.has("max_buffered_bytes") ? "sink.max_buffered_bytes" : "sink.max_record_bytes"
            throw reader.error(
                key,
                "max_buffered_bytes (\(sink.maxBufferedBytes)) must be at least max_record_bytes (\(sink.maxRecordBytes)), or the largest event could never be held")
        }
        return sink
    }

    private func batch(_ node: Node) throws(ConfigError) -> BatchConfig {
        let fields = try reader.mapping(node, at: "sink.batch", allowed: ["max_records", "max_bytes", "max_delay"], what: "sink.batch")
        var batch = BatchConfig()
        if let n = try reader.int(fields, "max_records", in: 1...500, why: " (a PutRecords request holds at most 500 records)") {
            batch.maxRecords = n
        }
        if let n = try reader.byteSize(fields, "max_bytes", in: 1...5_242_880, why: " (a PutRecords request holds at most 5 MiB)") {
            batch.maxBytes = n
        }
        if let d = try reader.duration(fields, "max_delay", in: .zero ... .seconds(600)) { batch.maxDelay = d }
        return batch
    }

    // MARK: Inputs

    static let fileInputKeys = ["name", "type", "paths", "exclude", "start_at", "max_line_bytes", "rotate_wait"]
    static let journaldInputKeys = ["name", "type", "directory", "matches", "start_at", "parse_message"]

    private func input(_ node: Node, at path: String) throws(ConfigError) -> InputConfig {
        let allKeys = Array(Set(Self.fileInputKeys + Self.journaldInputKeys)).sorted()
        let fields = try reader.mapping(node, at: path, allowed: allKeys, what: "an input")
        let name = try reader.requiredString(fields, "name", what: "an input")
        guard name.utf8.count <= 100, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }),
            name != ".", name != ".."
        else {
            throw reader.error("\(path).name", "'\(name)' is not a usable input name (1 to 100 of A-Z a-z 0-9 _ . -; it names checkpoint files)")
        }
        enum InputType: String { case file, journald }
        guard let type = try reader.choice(fields, "type", InputType.self, options: [.file, .journald]) else {
            throw reader.missing(fields, "type", what: "input '\(name)' (file or journald)")
        }
        let own = type == .file ? Self.fileInputKeys : Self.journaldInputKeys
        for key in fields.keys where !own.contains(key) {
            throw reader.keyError("\(path).\(key)", "'\(key)' does not apply to a \(type.rawValue) input")
        }
        let startAt = try reader.choice(fields, "start_at", StartAt.self, options: [.beginning, .end])

        switch type {
        case .file:
            guard let paths = try reader.stringList(fields, "paths", what: "paths"), !paths.isEmpty else {
                throw reader.missing(fields, "paths", what: "file input '\(name)'")
            }
            for (value, itemPath) in paths where !value.hasPrefix("/") {
                throw reader.error(itemPath, "'\(value)' must be an absolute path or glob (starting with /)")
            }
            let exclude = try reader.stringList(fields, "exclude", what: "exclude") ?? []
            for (value, itemPath) in exclude where value.isEmpty {
                throw reader.error(itemPath, "an exclude pattern must not be empty")
            }
            var file = FileInputConfig(paths: paths.map(\.value), exclude: exclude.map(\.value))
            if let startAt { file.startAt = startAt }
            if let n = try reader.byteSize(fields, "max_line_bytes", in: 1...268_435_456) { file.maxLineBytes = n }
            if let d = try reader.duration(fields, "rotate_wait", in: .zero ... .seconds(3600)) { file.rotateWait = d }
            return InputConfig(name: name, kind: .file(file))
        case .journald:
            var journald = JournaldInputConfig()
            if let startAt { journald.startAt = startAt }
            if let directory = try reader.string(fields, "directory") {
                guard directory.hasPrefix("/") else {
                    throw reader.error("\(path).directory", "must be an absolute path, found '\(directory)'")
                }
                journald.directory = directory
            }
            for (value, itemPath) in try reader.stringList(fields, "matches", what: "matches") ?? [] {
                guard Self.isJournalMatch(value) else {
                    throw reader.error(
                        itemPath, "'\(value)' is not a journal match; write FIELD=value with an upper-case field name, like _SYSTEMD_UNIT=app.service")
                }
                journald.matches.append(value)
            }
            if let mode = try reader.string(fields, "parse_message") {
                guard mode == "json" else {
                    throw reader.error("\(path).parse_message", "the only parse_message mode is json, found '\(mode)'")
                }
                journald.parseMessageJSON = true
            }
            return InputConfig(name: name, kind: .journald(journald))
        }
    }

    /// `FIELD=value` where FIELD is what journald accepts: A-Z, 0-9 and _, not starting with a digit.
    static func isJournalMatch(_ text: String) -> Bool {
        guard let equals = text.firstIndex(of: "=") else { return false }
        let field = text[..<equals]
        guard let first = field.first, !first.isNumber else { return false }
        return field.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }
    }

    // MARK: Rules

    static let ruleKeys = ["name", "input", "match", "event", "continue"]
    static let eventKeys = ["type", "data", "user_id", "partition_key", "timestamp"]

    private func rule(_ node: Node, at path: String, index: Int, inputs: [InputConfig]) throws(ConfigError) -> RuleConfig {
        let fields = try reader.mapping(node, at: path, allowed: Self.ruleKeys, what: "a rule")
        let name = try reader.string(fields, "name") ?? path
        if name.isEmpty { throw reader.error("\(path).name", "must not be empty") }

        var ruleInputs: [String] = []
        for (value, itemPath) in try reader.stringList(fields, "input", what: "input") ?? [] {
            guard inputs.contains(where: { $0.name == value }) else {
                let known = inputs.isEmpty ? "no inputs are configured" : "inputs are: \(inputs.map(\.name).joined(separator: ", "))"
                throw reader.error(itemPath, "unknown input '\(value)' (\(known))")
            }
            ruleInputs.append(value)
        }

        var match: JSONValue?
        if let node = fields["match"], !YAMLReader.isNull(node) {
            guard case .mapping = node else {
                throw reader.error(fields.path("match"), "an event pattern must be a mapping of field names, found \(reader.describe(node))")
            }
            match = try reader.json(node, at: fields.path("match"))
        }

        guard let eventNode = fields["event"], !YAMLReader.isNull(eventNode) else {
            throw reader.missing(fields, "event", what: "rule '\(name)' (at least `event: { type: ... }`)")
        }
        let eventFields = try reader.mapping(eventNode, at: fields.path("event"), allowed: Self.eventKeys, what: "a rule's event")
        let type = try reader.requiredString(eventFields, "type", what: "the event of rule '\(name)'")
        var data: JSONValue?
        if let node = eventFields["data"], !YAMLReader.isNull(node) {
            data = try reader.json(node, at: eventFields.path("data"))
        }
        let event = EventTemplateConfig(
            type: type, data: data, userId: try reader.string(eventFields, "user_id"),
            partitionKey: try reader.string(eventFields, "partition_key"),
            timestamp: try reader.string(eventFields, "timestamp"))
        let continues = try reader.bool(fields, "continue") ?? false
        return RuleConfig(name: name, inputs: ruleInputs, match: match, event: event, continue: continues, index: index)
    }
}
