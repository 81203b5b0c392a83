import Foundation
import JSON

/// The whole configuration of lk-forwarder, as `spec.md` describes it, with every default
/// applied. Built by `ConfigLoader` from YAML; every value keeps where it came from so that
/// later checks (rule patterns, templates) can point at the file, line and column.
public struct Configuration: Sendable {
    /// `event.source.producerId`; default `lk-forwarder@<hostname>`.
    public var producerId: String
    /// Where checkpoints live; default `$STATE_DIRECTORY`, else `/var/lib/lk-forwarder`.
    public var stateDirectory: String
    /// `host:port` for GET /metrics and GET /health; nil when not configured.
    public var metricsListen: String?
    /// Log level: trace, debug, info, notice, warning, error, critical (default info).
    public var logLevel: String
    public var sink: SinkConfig
    public var inputs: [InputConfig]
    public var rules: [RuleConfig]
    /// Where each key path of the YAML document was written; see `SourceLocations`.
    public var locations: SourceLocations

    public init(
        producerId: String, stateDirectory: String, metricsListen: String?, logLevel: String,
        sink: SinkConfig, inputs: [InputConfig], rules: [RuleConfig], locations: SourceLocations
    ) {
        self.producerId = producerId
        self.stateDirectory = stateDirectory
        self.metricsListen = metricsListen
        self.logLevel = logLevel
        self.sink = sink
        self.inputs = inputs
        self.rules = rules
        self.locations = locations
    }
}

/// Where events go.
public struct SinkConfig: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case kinesis, file, stdout }
    public enum Ordering: String, Sendable, Equatable {
        /// At most one record per explicit partition key in flight (default).
        case perKey = "per_key"
        case none
    }

    public var type: Kind
    /// Kinesis: the stream name (required for `kinesis`).
    public var stream: String?
    public var region: String?
    public var endpoint: String?
    public var profile: String?
    public var roleArn: String?
    public var maxInFlight: Int
    public var batch: BatchConfig
    public var maxRecordBytes: Int
    public var ordering: Ordering
    /// File sink: the NDJSON file events are appended to.
    public var path: String?
    /// How long a clean stop waits for what is in flight (default 10 s).
    public var drainTimeout: Duration
    /// The most events, and bytes of encoded events, held between reading and the commit
    /// of their lines' checkpoints; inputs stop reading while it is full (defaults 20,000
    /// and 16 MiB). It also bounds what a crash can send twice.
    public var maxBufferedEvents: Int
    public var maxBufferedBytes: Int

    public init(
        type: Kind, stream: String? = nil, region: String? = nil, endpoint: String? = nil,
        profile: String? = nil, roleArn: String? = nil, maxInFlight: Int = 8, batch: BatchConfig = BatchConfig(),
        maxRecordBytes: Int = 1_048_576, ordering: Ordering = .perKey, path: String? = nil,
        drainTimeout: Duration = .seconds(10), maxBufferedEvents: Int = 20_000, maxBufferedBytes: Int = 16 << 20
    ) {
        self.type = type
        self.stream = stream
        self.region = region
        self.endpoint = endpoint
        self.profile = profile
        self.roleArn = roleArn
        self.maxInFlight = maxInFlight
        self.batch = batch
        self.maxRecordBytes = maxRecordBytes
        self.ordering = ordering
        self.path = path
        self.drainTimeout = drainTimeout
        self.maxBufferedEvents = maxBufferedEvents
        self.maxBufferedBytes = maxBufferedBytes
    }
}

/// How records are grouped into one PutRecords request.
public struct BatchConfig: Sendable, Equatable {
    public var maxRecords: Int
    public var maxBytes: Int
    public var maxDelay: Duration

    public init(maxRecords: Int = 500, maxBytes: Int = 5_242_880, maxDelay: Duration = .milliseconds(200)) {
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
        self.maxDelay = maxDelay
    }
}

/// Where a file or journald input starts when it has no checkpoint yet.
public enum StartAt: String, Sendable, Equatable { case beginning, end }

/// One input: files or journald.
public struct InputConfig: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file(FileInputConfig)
        case journald(JournaldInputConfig)
    }

    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// Whether this is a journald input (its lines are `journalctl -o json` objects).
    public var isJournald: Bool {
        if case .journald = kind { return true }
        return false
    }
}

public struct FileInputConfig: Sendable, Equatable {
    public var paths: [String]
    public var exclude: [String]
    public var startAt: StartAt
    public var maxLineBytes: Int
    /// How long a rotated-away file must stay unchanged before its partial last line is
    /// delivered as a line and the file let go (default 5 s).
    public var rotateWait: Duration

    public init(
        paths: [String], exclude: [String] = [], startAt: StartAt = .beginning, maxLineBytes: Int = 1_048_576,
        rotateWait: Duration = .seconds(5)
    ) {
        self.paths = paths
        self.exclude = exclude
        self.startAt = startAt
        self.maxLineBytes = maxLineBytes
        self.rotateWait = rotateWait
    }
}

public struct JournaldInputConfig: Sendable, Equatable {
    /// A journal directory; nil for the local system journal.
    public var directory: String?
    /// `FIELD=value` terms, OR'ed.
    public var matches: [String]
    public var startAt: StartAt
    /// `json`: a MESSAGE that is a JSON object is also exposed as `message`.
    public var parseMessageJSON: Bool

    public init(directory: String? = nil, matches: [String] = [], startAt: StartAt = .end, parseMessageJSON: Bool = false) {
        self.directory = directory
        self.matches = matches
        self.startAt = startAt
        self.parseMessageJSON = parseMessageJSON
    }
}

/// One rule as written: compiled and validated by the Rules module.
public struct RuleConfig: Sendable, Equatable {
    public var name: String
    /// Restrict to these inputs; empty means every input.
    public var inputs: [String]
    /// The EventBridge event pattern; nil matches every line.
    public var match: JSONValue?
    public var event: EventTemplateConfig
    public var `continue`: Bool
    /// The rule's position in `rules` (0-based), for key paths in errors.
    public var index: Int

    public init(name: String, inputs: [String], match: JSONValue?, event: EventTemplateConfig, continue: Bool, index: Int) {
        self.name = name
        self.inputs = inputs
        self.match = match
        self.event = event
        self.continue = `continue`
        self.index = index
    }
}

/// The templates of a rule's `event:` block, as written.
public struct EventTemplateConfig: Sendable, Equatable {
    public var type: String
    /// nil: the whole line.
    public var data: JSONValue?
    public var userId: String?
    public var partitionKey: String?
    public var timestamp: String?

    public init(type: String, data: JSONValue? = nil, userId: String? = nil, partitionKey: String? = nil, timestamp: String? = nil) {
        self.type = type
        self.data = data
        self.userId = userId
        self.partitionKey = partitionKey
        self.timestamp = timestamp
    }
}

/// A place in a configuration file.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// The location of every key path in the loaded document. A key path is written with dots
/// and indices: `rules.2.match.order.total`, `sink.batch.max_delay`. `byPath` holds where
/// the key (or the sequence item) was written, `valuesByPath` where its value starts.
public struct SourceLocations: Sendable, Equatable {
    public var file: String
    public var byPath: [String: SourceLocation]
    public var valuesByPath: [String: SourceLocation]

    public init(file: String, byPath: [String: SourceLocation] = [:], valuesByPath: [String: SourceLocation] = [:]) {
        self.file = file
        self.byPath = byPath
        self.valuesByPath = valuesByPath
    }

    /// Where the value of `path` starts (for errors about the value rather than the key), or
    /// the location of the key, or of its nearest ancestor.
    public func valueLocation(of path: String) -> SourceLocation {
        valuesByPath[path] ?? location(of: path)
    }

    /// The location of `path`, or of its nearest ancestor that has one.
    public func location(of path: String) -> SourceLocation {
        var current = path
        while true {
            if let found = byPath[current] { return found }
            guard let dot = current.lastIndex(of: ".") else { break }
            current = String(current[..<dot])
        }
        return SourceLocation(file: file, line: 1, column: 1)
    }
}

/// A configuration that cannot be used: where and why.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    /// The key path, e.g. `rules.2.match.order`.
    public var keyPath: String
    public var message: String

    public init(location: SourceLocation, keyPath: String, message: String) {
        self.location = location
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        keyPath.isEmpty ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
    }
}
