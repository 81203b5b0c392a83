import Config
import Foundation
import JSON
import LKEvent

/// The rules of a configuration, compiled once and immutable: they turn one input line
/// (an NDJSON line, or a journald entry as `journalctl -o json` prints it) into zero, one
/// or more lk events. Safe to share between tasks.
///
/// Rule sets compiled from one configuration share nothing that mapping touches: each has
/// its own copies of the rule names and the producer id and its own source of ids. Mapping
/// on several cores at once, each core with a rule set of its own, then never contends for
/// a reference count or a lock (with one shared set, the cores' atomic reference-count
/// updates on the same objects cost a tenth of the agent's CPU time).
///
/// Rules are tried in order; the first that matches makes the event unless it says
/// `continue: true`, in which case later rules may make more events from the same line.
/// A line is one unit: if any matching rule cannot map it (a missing `type` or
/// `partition_key` path, a bad timestamp), the whole line is a mapping error and none of
/// its events is sent, so a line is never half delivered.
public final class RuleSet: Sendable {
    /// The compiled rules, in configuration order.
    let rules: [CompiledRule]
    /// Every rule's pattern, flattened.
    let program: PatternProgram
    /// For each input name, the rules that apply to it, and whether it is journald.
    private let byInput: [String: InputRules]
    /// The rules that apply to an input the configuration does not name.
    private let unrestricted: InputRules
    let producerId: String
    private let ids = EventIDs()

    /// The rules of one input, with what matching them needs. A class: it is looked up
    /// and passed along for every line, and one reference is cheaper to pass than its arrays.
    final class InputRules: Sendable {
        let rules: [CompiledRule]
        /// For each rule, its pattern's top-level object in `program`, or -1 (matches all).
        let roots: [Int32]
        /// Which rules a line may match, by the field most of them require.
        let index: RuleIndex?
        let isJournald: Bool
        let parseMessage: Bool

        init(_ rules: [CompiledRule], program: PatternProgram, isJournald: Bool, parseMessage: Bool) {
            self.rules = rules
            self.roots = rules.map(\.patternRoot)
            self.index = RuleIndex(roots: roots, program: program.storage)
            self.isJournald = isJournald
            self.parseMessage = parseMessage
        }
    }

    /// Compiles every rule of `configuration`: patterns, templates, and literal partition
    /// keys are checked here, errors pointing at their line and column.
    public init(configuration: Configuration) throws(ConfigError) {
        var compiled: [CompiledRule] = []
        let builder = PatternProgram.Builder()
        for rule in configuration.rules {
            compiled.append(try CompiledRule(rule, locations: configuration.locations, program: builder))
        }
        self.rules = compiled
        self.program = builder.build()
        var byInput: [String: InputRules] = [:]
        for input in configuration.inputs {
            var parseMessage = false
            if case .journald(let journald) = input.kind { parseMessage = journald.parseMessageJSON }
            byInput[input.name] = InputRules(
                compiled.filter { $0.inputs.isEmpty || $0.inputs.contains(input.name) }, program: program,
                isJournald: input.isJournald, parseMessage: parseMessage)
        }
        self.byInput = byInput
        self.unrestricted = InputRules(
            compiled.filter { $0.inputs.isEmpty }, program: program, isJournald: false, parseMessage: false)
        self.producerId = configuration.producerId.unshared
    }

    /// Maps one line read from input `input` at `readTime`.
    public func map(line: some Collection<UInt8>, input: String, readTime: Date) -> MapResult {
        var events: [MappedEvent] = []
        switch map(line: line, input: input, readTime: readTime, into: &events) {
        case .mapped: return .events(events)
        case .unmatched: return .unmatched
        case .invalid(let reason): return .invalid(reason)
        case .mappingError(let rule, let message): return .mappingError(rule: rule, message: message)
        }
    }

    /// Maps one line like `map(line:input:readTime:)`, but appends its events to `events`
    /// instead of returning an array of its own: a caller mapping many lines reuses one
    /// array. Unless the answer is `.mapped`, `events` is left as it was.
    public func map(
        line: some Collection<UInt8>, input: String, readTime: Date, into events: inout [MappedEvent]
    ) -> LineOutcome {
        let inputRules = byInput[input] ?? unrestricted
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: line)
        } catch {
            return .invalid(Self.explain(error))
        }
        guard document.kind(at: JSONDocument.rootIndex) == .object else {
            return .invalid("not a JSON object (found \(Self.describe(document.kind(at: JSONDocument.rootIndex))))")
        }
        var view = document
        var defaultTime = readTime
        if inputRules.isJournald {
            let entry = JournalEntry(document)
            if let realtime = entry.realtime { defaultTime = realtime }
            if inputRules.parseMessage, let withMessage = entry.withParsedMessage() { view = withMessage }
        }
        let time = defaultTime
        return document.withView { line in
            let whole = line.raw(at: JSONDocument.rootIndex)
            return view.withView { fields in
                PatternMatcher.with(program, fields) { matcher in
                    Self.apply(
                        inputRules, matcher, wholeLine: whole, defaultTime: time, producerId: producerId, ids: ids,
                        into: &events)
                }
            }
        }
    }

    private static func apply(
        _ inputRules: InputRules, _ matcher: PatternMatcher, wholeLine: UnsafeBufferPointer<UInt8>, defaultTime: Date,
        producerId: String, ids: EventIDs, into events: inout [MappedEvent]
    ) -> LineOutcome {
        let start = events.count
        let row = inputRules.index?.row(for: matcher)
        for (i, root) in inputRules.roots.enumerated() {
            if let row, let index = inputRules.index, !index.allows(row: row, rule: i) { continue }
            guard root < 0 || matcher.matches(root: root) else { continue }
            let rule = inputRules.rules[i]
            let failure = rule.makeEvent(
                TemplateLine(matcher), wholeLine: wholeLine, defaultTime: defaultTime, producerId: producerId, ids: ids,
                into: &events)
            if let failure {
                events.removeSubrange(start...)
                return .mappingError(rule: rule.name, message: failure.message)
            }
            if !rule.continues { break }
        }
        return events.count > start ? .mapped : .unmatched
    }

    static func explain(_ error: JSONError) -> String {
        switch error.kind {
        case .invalidUTF8: return "invalid UTF-8 at byte \(error.offset)"
        case .tooDeep: return "JSON nested deeper than \(JSONDocument.defaultMaxDepth) levels at byte \(error.offset)"
        case .syntax:
            if error.message == "empty text" || error.message == "no value" { return "empty line" }
            return "invalid JSON at byte \(error.offset) (\(error.message))"
        }
    }

    static func describe(_ kind: JSONDocument.Kind) -> String {
        switch kind {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// What one line became.
public enum MapResult: Sendable, Equatable {
    /// The events the matching rules made, in rule order.
    case events([MappedEvent])
    /// No rule matched: the line is dropped and counted.
    case unmatched
    /// The line is not a JSON object, not UTF-8, or nested too deep: skipped, counted and
    /// logged with this reason (e.g. `invalid JSON at byte 31 (...)`).
    case invalid(String)
    /// A matching rule could not make its event (e.g. the `type` path is absent).
    case mappingError(rule: String, message: String)
}

/// What one line became when its events go into the caller's array
/// (`RuleSet.map(line:input:readTime:into:)`).
public enum LineOutcome: Sendable, Equatable {
    /// The matching rules made events, appended in rule order.
    case mapped
    case unmatched
    case invalid(String)
    case mappingError(rule: String, message: String)
}

/// One event made by a rule.
public struct MappedEvent: Sendable, Equatable {
    public var event: LKEvent
    /// The name of the rule that made it.
    public var rule: String
    /// Whether the partition key came from the rule (`partition_key:`); a default random
    /// key has no order to keep.
    public var explicitKey: Bool

    public init(event: LKEvent, rule: String, explicitKey: Bool) {
        self.event = event
        self.rule = rule
        self.explicitKey = explicitKey
    }
}

/// One rule, compiled.
final class CompiledRule: Sendable {
    let name: String
    let inputs: [String]
    /// The pattern's top-level object in the rule set's `PatternProgram`; -1 without `match`.
    let patternRoot: Int32
    let continues: Bool
    let type: StringTemplate
    let data: DataTemplate
    let userId: StringTemplate?
    let partitionKey: StringTemplate?
    let timestamp: StringTemplate?

    init(_ rule: RuleConfig, locations: SourceLocations, program: PatternProgram.Builder) throws(ConfigError) {
        let path = "rules.\(rule.index)"
        name = rule.name.unshared
        inputs = rule.inputs
        continues = rule.continue
        if let match = rule.match {
            patternRoot = program.add(try PatternCompiler.compile(match, path: "\(path).match", locations: locations))
        } else {
            patternRoot = -1
        }
        func template(_ text: String?, _ key: String) throws(ConfigError) -> StringTemplate? {
            guard let text else { return nil }
            switch StringTemplate.parse(text) {
            case .success(var t):
                t.bind(to: program)
                return t
            case .failure(let e):
                let at = "\(path).event.\(key)"
                throw ConfigError(location: locations.valueLocation(of: at), keyPath: at, message: e.message)
            }
        }
        guard let type = try template(rule.event.type, "type") else {
            throw ConfigError(location: locations.location(of: "\(path).event"), keyPath: "\(path).event.type", message: "missing")
        }
        if let literal = type.literal, literal.isEmpty {
            throw ConfigError(
                location: locations.valueLocation(of: "\(path).event.type"), keyPath: "\(path).event.type",
                message: "the event type must not be empty")
        }
        self.type = type
        userId = try template(rule.event.userId, "user_id")
        partitionKey = try template(rule.event.partitionKey, "partition_key")
        if let literal = partitionKey?.literal {
            do {
                try PartitionKey.validate(literal)
            } catch {
                let at = "\(path).event.partition_key"
                throw ConfigError(location: locations.valueLocation(of: at), keyPath: at, message: error.description)
            }
        }
        timestamp = try template(rule.event.timestamp, "timestamp")
        if let literal = timestamp?.literal, EventTime.parse(literal) == nil {
            let at = "\(path).event.timestamp"
            throw ConfigError(
                location: locations.valueLocation(of: at), keyPath: at,
                message: "'\(literal)' is not a time; use a template like \"${ts}\" (ISO-8601 or epoch seconds/milliseconds)")
        }
        if let data = rule.event.data {
            var compiled = try DataTemplate.compile(data, path: "\(path).event.data", locations: locations)
            compiled.bind(to: program)
            self.data = compiled
        } else {
            self.data = .wholeLine
        }
    }

    /// Makes this rule's event from a line it matched and appends it to `events`, or says
    /// why it cannot. `line` is what patterns and templates see (for journald with
    /// `parse_message: json`, the entry plus `message`); `wholeLine` is the line as read,
    /// the default `data`.
    func makeEvent(
        _ line: TemplateLine, wholeLine: UnsafeBufferPointer<UInt8>, defaultTime: Date, producerId: String,
        ids: EventIDs, into events: inout [MappedEvent]
    ) -> MappingFailure? {
        let typeText: String
        switch type.render(line) {
        case .text(let t): typeText = t
        case .nothing(let path): return MappingFailure("type: ${\(path)} is absent or null in this line")
        case .problem(let why): return MappingFailure("type: \(why)")
        }
        guard !typeText.isEmpty else { return MappingFailure("type: \"\(type.source)\" gives an empty type") }

        var key: String?
        if let partitionKey {
            switch partitionKey.render(line) {
            case .text(let t): key = t
            case .nothing(let path): return MappingFailure("partition_key: ${\(path)} is absent or null in this line")
            case .problem(let why): return MappingFailure("partition_key: \(why)")
            }
        }

        var user: String?
        if let userId {
            switch userId.render(line) {
            case .text(let t): user = t
            case .nothing: user = nil
            case .problem(let why): return MappingFailure("user_id: \(why)")
            }
        }

        var time = defaultTime
        if let timestamp {
            switch Self.renderTime(timestamp, line) {
            case .time(let parsed): time = parsed
            case .notATime(let t):
                return MappingFailure("timestamp: '\(t)' is not an ISO-8601 time with a zone or an epoch number")
            case .nothing: break
            case .problem(let why): return MappingFailure("timestamp: \(why)")
            }
        }

        let dataBytes = data.render(line, wholeLine: wholeLine)
        let id: String
        if key == nil {
            (id, key) = ids.makePair()
        } else {
            id = ids.make()
        }
        do {
            let event = try LKEvent(
                id: id, type: typeText, data: RawJSON(bytesAlreadyValid: dataBytes), timestamp: time, userId: user,
                producerId: producerId, partitionKey: key)
            events.append(MappedEvent(event: event, rule: name, explicitKey: partitionKey != nil))
            return nil
        } catch {
            return MappingFailure(error != .emptyType ? "partition_key: \(error)" : "\(error)")
        }
    }

}

extension CompiledRule {
    /// What a `timestamp` template gave.
    enum RenderedTime {
        case time(Date)
        case notATime(String)
        case nothing
        case problem(String)
    }

    /// Renders a `timestamp` template and reads the time. A template that is one lone
    /// path (`${ts}`, the usual case) is read from the line's bytes, without making a
    /// string of them first.
    static func renderTime(_ template: StringTemplate, _ line: TemplateLine) -> RenderedTime {
        let view = line.doc
        if let path = template.lonePath, let node = path.resolve(in: line) {
            let parsed: Date??
            switch view.kind(at: node) {
            case .string: parsed = view.withStringBytes(at: node) { EventTime.parse(utf8: $0) }
            case .number: parsed = .some(EventTime.parse(utf8: view.raw(at: node)))
            default: parsed = nil
            }
            if let parsed {
                if let time = parsed { return .time(time) }
                return .notATime(view.string(at: node) ?? String(decoding: view.raw(at: node), as: UTF8.self))
            }
        }
        switch template.render(line) {
        case .text(let t): return EventTime.parse(t).map { .time($0) } ?? .notATime(t)
        case .nothing: return .nothing
        case .problem(let why): return .problem(why)
        }
    }
}

extension String {
    /// The same text in storage of its own: a copy of a long string otherwise shares the
    /// original's buffer, and its reference count, with every other copy.
    var unshared: String { String(decoding: Array(utf8), as: UTF8.self) }
}

/// Why a matched line could not become an event.
struct MappingFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
