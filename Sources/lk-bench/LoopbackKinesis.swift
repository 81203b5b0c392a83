import ArgumentParser
import Dispatch
import Foundation
import JSON
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `lk-bench loopback-kinesis`: a Kinesis-compatible endpoint on 127.0.0.1 that is fast
/// enough to be a load target (moto is not). It takes PutRecords and PutRecord in the
/// JSON protocol, checks that each carries a well-formed SigV4 `Authorization` header
/// (the signature itself is not verified), answers as Kinesis does, and counts records,
/// bytes and arrival times. It can throttle a share of records or stall (never answer).
/// `GET /stats` answers the counts as JSON; SIGTERM or SIGINT prints them on stdout and
/// stops. The first line on stdout is `listening on http://127.0.0.1:PORT`.
struct LoopbackKinesis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loopback-kinesis",
        abstract: "A fast Kinesis-compatible endpoint for benchmarks: counts records, can throttle or stall."
    )

    @Option(help: "The port to listen on (0: any free port, printed at start).")
    var port = 0

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The share of records (0 to 1) answered ProvisionedThroughputExceededException.")
    var throttleShare = 0.0

    @Flag(help: "Never answer a PutRecords or PutRecord request (the connection stays open).")
    var stall = false

    @Option(help: "Write, on stop, one line `ARRIVAL_NS STAMP` per accepted record whose data holds the stamp field.")
    var arrivals: String?

    @Option(help: "The integer field in a record's data that --arrivals reports (e.g. a write time in ns).")
    var stampField = "write_ns"

    @Option(help: "Event-loop threads.")
    var threads = 1

    func validate() throws {
        guard (0.0...1.0).contains(throttleShare) else { throw ValidationError("--throttle-share must be within 0 and 1") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be within 0 and 65535") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard !stampField.isEmpty, !stampField.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        else { throw ValidationError("--stamp-field must be a plain field name") }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let endpoint = LoopbackEndpoint(
            throttleShare: throttleShare, stall: stall, stampField: arrivals == nil ? nil : stampField)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(LoopbackHandler(endpoint: endpoint))
                }
            }
            .bind(host: host, port: port).get()
        let bound = server.localAddress?.port ?? port
        Swift.print("listening on http://\(host):\(bound)")
        fflush(nil)

        await Self.waitForStopSignal()
        Swift.print(endpoint.statsJSON())
        fflush(nil)
        if let arrivals { try endpoint.writeArrivals(to: arrivals) }
        try? await server.close()
        try await group.shutdownGracefully()
    }

    /// Returns at the first SIGTERM or SIGINT.
    private static func waitForStopSignal() async {
        let (signals, arrived) = AsyncStream<Void>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { arrived.yield() }
            source.resume()
            sources.append(source)
        }
        for await _ in signals { break }
        for source in sources { source.cancel() }
    }
}

/// The state and the logic of the loopback endpoint, shared by every connection: the
/// counters, the sequence numbers, the throttling share, and what each request gets.
final class LoopbackEndpoint: Sendable {
    let throttleShare: Double
    let stall: Bool
    /// `"FIELD":` as bytes, when arrival stamps are recorded.
    private let stampKey: [UInt8]?
    private let state = Mutex(Counters())

    /// Kinesis's limits on one request.
    static let maxRecords = 500
    static let maxRecordBytes = 1 << 20
    static let maxRequestBytes = 5 << 20
    static let maxPartitionKeyLength = 256
    static let shardId = "shardId-000000000000"

    struct Counters {
        var requests = 0
        var putRecordsRequests = 0
        var putRecordRequests = 0
        /// Requests answered with an error for the whole request.
        var rejectedRequests = 0
        var stalledRequests = 0
        var records = 0
        /// Data plus partition key of accepted records, as Kinesis counts them.
        var bytes = 0
        var bodyBytes = 0
        var throttled = 0
        /// Arrival (Unix ns) of the first and last request that had a record accepted.
        var firstArrival: Int64?
        var lastArrival: Int64?
        var sequence: UInt64 = 0
        /// Throttling accumulates the share per record and throttles when it reaches 1.
        var throttleCredit = 0.0
        var stamps: [(arrival: Int64, stamp: Int64)] = []
    }

    init(throttleShare: Double, stall: Bool, stampField: String?) {
        self.throttleShare = throttleShare
        self.stall = stall
        self.stampKey = stampField.map { Array("\"\($0)\":".utf8) }
    }

    /// What a request gets: an answer, or none at all (stalled).
    enum Reply {
        case answer(status: HTTPResponseStatus, contentType: String, body: [UInt8])
        case none
    }

    /// Answers one complete request that arrived at `arrival` (Unix ns).
    func reply(to head: HTTPRequestHead, body: [UInt8], arrival: Int64) -> Reply {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if head.method == .GET && path == "/stats" {
            return .answer(status: .ok, contentType: "application/json", body: Array(statsJSON().utf8))
        }
        state.withLock {
            $0.requests += 1
            $0.bodyBytes += body.count
        }
        guard head.method == .POST, path == "/" else {
            return reject(.notFound, "UnknownOperationException", "only POST / (and GET /stats) is served")
        }
        if let problem = Self.authorizationProblem(head.headers) {
            return reject(problem.status, problem.code, problem.message)
        }
        let target = head.headers.first(name: "X-Amz-Target") ?? ""
        let operation: Operation
        switch target {
        case "Kinesis_20131202.PutRecords": operation = .putRecords
        case "Kinesis_20131202.PutRecord": operation = .putRecord
        default: return reject(.badRequest, "UnknownOperationException", "operation '\(target)' is not served here")
        }
        let request: ParsedRequest
        switch Self.parse(body, operation: operation, stampKey: stampKey) {
        case .success(let parsed): request = parsed
        case .failure(let failure): return reject(.badRequest, failure.code, failure.message)
        }
        if stall {
            state.withLock { $0.stalledRequests += 1 }
            return .none
        }
        let outcomes = account(request, operation: operation, arrival: arrival)
        switch operation {
        case .putRecords:
            return .answer(status: .ok, contentType: Self.contentType, body: Self.putRecordsAnswer(outcomes, stream: request.stream))
        case .putRecord:
            guard let outcome = outcomes.first, case .accepted(let sequence) = outcome else {
                return reject(.badRequest, "ProvisionedThroughputExceededException", Self.throttleMessage(request.stream))
            }
            var out = Array(#"{"SequenceNumber":""#.utf8)
            Self.appendSequenceNumber(sequence, to: &out)
            out += Array(#"","ShardId":"\#(Self.shardId)","EncryptionType":"NONE"}"#.utf8)
            return .answer(status: .ok, contentType: Self.contentType, body: out)
        }
    }

    static let contentType = "application/x-amz-json-1.1"

    enum Operation {
        case putRecords
        case putRecord
    }

    /// The outcome of one record.
    enum Outcome {
        case accepted(UInt64)
        case throttled
    }

    /// Decides each record's outcome and counts it.
    private func account(_ request: ParsedRequest, operation: Operation, arrival: Int64) -> [Outcome] {
        state.withLock { s in
            if operation == .putRecords { s.putRecordsRequests += 1 } else { s.putRecordRequests += 1 }
            var outcomes: [Outcome] = []
            outcomes.reserveCapacity(request.records.count)
            var accepted = 0
            for record in request.records {
                s.throttleCredit += throttleShare
                if s.throttleCredit >= 1 {
                    s.throttleCredit -= 1
                    s.throttled += 1
                    outcomes.append(.throttled)
                    continue
                }
                s.sequence += 1
                s.records += 1
                s.bytes += record.bytes
                accepted += 1
                if let stamp = record.stamp { s.stamps.append((arrival, stamp)) }
                outcomes.append(.accepted(s.sequence))
            }
            if accepted > 0 {
                if s.firstArrival == nil { s.firstArrival = arrival }
                s.lastArrival = max(s.lastArrival ?? arrival, arrival)
            }
            return outcomes
        }
    }

    private func reject(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> Reply {
        state.withLock { $0.rejectedRequests += 1 }
        var out = Array(#"{"__type":"#.utf8)
        JSONWriter.appendString(code, to: &out)
        out += Array(#","message":"#.utf8)
        JSONWriter.appendString(message, to: &out)
        out.append(UInt8(ascii: "}"))
        return .answer(status: status, contentType: Self.contentType, body: out)
    }

    // MARK: Requests

    /// One record of a request: its size as Kinesis counts it, and its stamp if asked for.
    struct ParsedRecord {
        var bytes: Int
        var stamp: Int64?
    }

    struct ParsedRequest {
        var stream: String
        var records: [ParsedRecord]
    }

    struct RequestFailure: Error {
        var code: String
        var message: String
    }

    /// Reads a PutRecords or PutRecord body, with Kinesis's checks: the stream named, 1 to
    /// 500 records, each with base64 `Data` and a `PartitionKey` of 1 to 256 characters, at
    /// most 1 MiB per record and 5 MiB per request (data and keys).
    static func parse(_ body: [UInt8], operation: Operation, stampKey: [UInt8]?) -> Result<ParsedRequest, RequestFailure> {
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: body)
        } catch {
            return .failure(RequestFailure(code: "SerializationException", message: "the body is not JSON: \(error)"))
        }
        return document.withView { view -> Result<ParsedRequest, RequestFailure> in
            let root = JSONDocument.rootIndex
            guard view.kind(at: root) == .object else {
                return .failure(RequestFailure(code: "SerializationException", message: "the body is not a JSON object"))
            }
            let stream = member(view, root, "StreamName").flatMap { view.string(at: $0) }
                ?? member(view, root, "StreamARN").flatMap { view.string(at: $0) }
            guard let stream, !stream.isEmpty else {
                return .failure(RequestFailure(code: "ValidationException", message: "StreamName or StreamARN is required"))
            }
            var records: [ParsedRecord] = []
            var total = 0
            var recordIndices: [Int] = []
            switch operation {
            case .putRecord:
                recordIndices = [root]
            case .putRecords:
                guard let list = member(view, root, "Records"), view.kind(at: list) == .array,
                    let (first, end) = view.elementRange(of: list)
                else {
                    return .failure(RequestFailure(code: "ValidationException", message: "Records must be an array"))
                }
                var index = first
                while index < end {
                    recordIndices.append(index)
                    index = view.indexAfter(index)
                }
                guard (1...maxRecords).contains(recordIndices.count) else {
                    return .failure(
                        RequestFailure(
                            code: "ValidationException",
                            message: "Records has \(recordIndices.count) entries; it must have 1 to \(maxRecords)"))
                }
            }
            records.reserveCapacity(recordIndices.count)
            for (position, index) in recordIndices.enumerated() {
                switch record(view, index, position: position, stampKey: stampKey) {
                case .success(let parsed):
                    total += parsed.bytes
                    records.append(parsed)
                case .failure(let failure):
                    return .failure(failure)
                }
            }
            guard total <= maxRequestBytes else {
                return .failure(
                    RequestFailure(
                        code: "InvalidArgumentException",
                        message: "the request has \(total) bytes of data and keys; at most \(maxRequestBytes) are allowed"))
            }
            return .success(ParsedRequest(stream: stream, records: records))
        }
    }

    private static func record(_ view: JSONView, _ index: Int, position: Int, stampKey: [UInt8]?) -> Result<
        ParsedRecord, RequestFailure
    > {
        // Named only in a refusal: formatting it for every record costs more than checking it.
        func at() -> String { "record \(position)" }
        guard view.kind(at: index) == .object else {
            return .failure(RequestFailure(code: "SerializationException", message: "\(at()) is not an object"))
        }
        // The key's length in bytes and in characters (code points: bytes that do not
        // continue a UTF-8 sequence), read from the body without making a string; a key
        // of 1 to 256 bytes has 1 to 256 characters, so only longer ones are counted.
        guard let keyIndex = member(view, index, "PartitionKey"),
            let (keyBytes, keyLength) = view.withStringBytes(at: keyIndex, { key in
                (key.count, key.count <= maxPartitionKeyLength ? key.count : key.count { $0 & 0xC0 != 0x80 })
            })
        else {
            return .failure(RequestFailure(code: "ValidationException", message: "\(at()): PartitionKey (a string) is required"))
        }
        guard (1...maxPartitionKeyLength).contains(keyLength) else {
            return .failure(
                RequestFailure(
                    code: "ValidationException",
                    message: "\(at()): PartitionKey has \(keyLength) characters; it must have 1 to \(maxPartitionKeyLength)"))
        }
        guard let dataIndex = member(view, index, "Data"), view.kind(at: dataIndex) == .string else {
            return .failure(RequestFailure(code: "ValidationException", message: "\(at()): Data (a base64 string) is required"))
        }
        let decoded = view.withStringBytes(at: dataIndex) { base64 -> (length: Int?, stamp: Int64?) in
            guard let length = decodedLength(base64) else { return (nil, nil) }
            guard let stampKey else { return (length, nil) }
            return (length, stamp(in: base64, key: stampKey))
        }
        guard let decoded, let length = decoded.length else {
            return .failure(RequestFailure(code: "SerializationException", message: "\(at()): Data is not valid base64"))
        }
        let size = length + keyBytes
        guard size <= maxRecordBytes else {
            return .failure(
                RequestFailure(
                    code: "ValidationException",
                    message: "\(at()): data and key have \(size) bytes; at most \(maxRecordBytes) are allowed"))
        }
        return .success(ParsedRecord(bytes: size, stamp: decoded.stamp))
    }

    private static func member(_ view: JSONView, _ index: Int, _ key: StaticString) -> Int? {
        key.withUTF8Buffer { view.member(of: index, key: $0) }
    }

    /// The number of bytes a padded base64 text decodes to; nil when its length or padding
    /// is not base64's (the alphabet itself is not checked: that would cost a pass).
    static func decodedLength(_ base64: UnsafeBufferPointer<UInt8>) -> Int? {
        guard base64.count % 4 == 0 else { return nil }
        guard let last = base64.last else { return 0 }
        let equals = UInt8(ascii: "=")
        var padding = 0
        if last == equals { padding = base64[base64.count - 2] == equals ? 2 : 1 }
        return base64.count / 4 * 3 - padding
    }

    /// The integer after `key` (`"FIELD":`, then optional spaces) in the decoded data, if
    /// there is one.
    static func stamp(in base64: UnsafeBufferPointer<UInt8>, key: [UInt8]) -> Int64? {
        guard let data = Data(base64Encoded: Data(base64)) else { return nil }
        let bytes = [UInt8](data)
        guard var start = bytes.firstRange(of: key)?.upperBound else { return nil }
        while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
        var value: Int64 = 0
        var index = start
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let (shifted, over1) = value.multipliedReportingOverflow(by: 10)
            let (next, over2) = shifted.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
            guard !over1, !over2 else { return nil }
            value = next
            index += 1
        }
        return index > start ? value : nil
    }

    /// Why a request's `Authorization` is refused, or nil when it is a well-formed SigV4
    /// header: `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/kinesis/aws4_request,
    /// SignedHeaders=a;b, Signature=64 hex digits`, with `X-Amz-Date` present.
    static func authorizationProblem(_ headers: HTTPHeaders) -> (status: HTTPResponseStatus, code: String, message: String)? {
        guard let authorization = headers.first(name: "Authorization") else {
            return (.forbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
        }
        let scheme = "AWS4-HMAC-SHA256 "
        guard authorization.hasPrefix(scheme) else {
            return (.badRequest, "IncompleteSignatureException", "Authorization does not start with \(scheme)")
        }
        var fields: [Substring: Substring] = [:]
        for part in authorization.dropFirst(scheme.count).split(separator: ",") {
            let trimmed = part.drop(while: { $0 == " " })
            guard let equals = trimmed.firstIndex(of: "=") else {
                return (.badRequest, "IncompleteSignatureException", "Authorization part '\(trimmed)' is not NAME=VALUE")
            }
            fields[trimmed[..<equals]] = trimmed[trimmed.index(after: equals)...]
        }
        let scope = fields["Credential"]?.split(separator: "/", omittingEmptySubsequences: false) ?? []
        guard scope.count == 5, !scope[0].isEmpty, scope[1].count == 8, scope[1].allSatisfy(\.isNumber), !scope[2].isEmpty,
            scope[3] == "kinesis", scope[4] == "aws4_request"
        else {
            return (.badRequest, "IncompleteSignatureException", "Credential must be KEY/YYYYMMDD/REGION/kinesis/aws4_request")
        }
        guard let signed = fields["SignedHeaders"], signed.split(separator: ";").contains("host") else {
            return (.badRequest, "IncompleteSignatureException", "SignedHeaders must name host")
        }
        guard let signature = fields["Signature"], signature.count == 64, signature.allSatisfy(\.isHexDigit) else {
            return (.badRequest, "IncompleteSignatureException", "Signature must be 64 hex digits")
        }
        guard headers.first(name: "X-Amz-Date") != nil else {
            return (.badRequest, "IncompleteSignatureException", "X-Amz-Date is required")
        }
        return nil
    }

    // MARK: Answers

    static func putRecordsAnswer(_ outcomes: [Outcome], stream: String) -> [UInt8] {
        var failed = 0
        for outcome in outcomes { if case .throttled = outcome { failed += 1 } }
        var out: [UInt8] = []
        out.reserveCapacity(48 + outcomes.count * acceptedEntry.count)
        out += Array(#"{"FailedRecordCount":\#(failed),"Records":["#.utf8)
        let throttled = failed > 0 ? Array(#"{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"#.utf8) : []
        var message: [UInt8] = []
        if failed > 0 { JSONWriter.appendString(throttleMessage(stream), to: &message) }
        for (index, outcome) in outcomes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            switch outcome {
            case .accepted(let sequence):
                // The entry's text is the same but for the sequence number's last digits.
                let start = out.count
                out += acceptedEntry
                writeDigits(of: sequence, endingAt: start + sequenceDigitsEnd, in: &out)
            case .throttled:
                out += throttled
                out += message
                out.append(UInt8(ascii: "}"))
            }
        }
        out += Array(#"],"EncryptionType":"NONE"}"#.utf8)
        return out
    }

    /// An accepted entry of a PutRecords answer whose sequence number ends in 26 zeros,
    /// for `writeDigits` to write the record's count over.
    private static let acceptedEntry = Array(
        #"{"SequenceNumber":"\#(sequencePrefix)\#(String(repeating: "0", count: 26))","ShardId":"\#(shardId)"}"#.utf8)
    /// Where the sequence number ends in `acceptedEntry`.
    private static let sequenceDigitsEnd = #"{"SequenceNumber":""#.utf8.count + 56
    private static let sequencePrefix = "495903382714902566085596925383"

    static func throttleMessage(_ stream: String) -> String {
        "Rate exceeded for shard \(shardId) in stream \(stream) under account 123456789012."
    }

    /// A 56-digit sequence number, as Kinesis writes them, increasing with `sequence`.
    static func appendSequenceNumber(_ sequence: UInt64, to out: inout [UInt8]) {
        out += Array(sequencePrefix.utf8)
        out += repeatElement(UInt8(ascii: "0"), count: 26)
        writeDigits(of: sequence, endingAt: out.count, in: &out)
    }

    /// Writes `value` in decimal over the zeros that end just before `end` in `out`.
    private static func writeDigits(of value: UInt64, endingAt end: Int, in out: inout [UInt8]) {
        var rest = value
        var position = end - 1
        while rest > 0 {
            out[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            position -= 1
        }
    }

    // MARK: Reports

    /// The counts as one JSON object; times are Unix seconds.
    func statsJSON() -> String {
        let s = state.withLock { $0.snapshot }
        func time(_ ns: Int64?) -> String { ns.map { String(format: "%.6f", Double($0) / 1e9) } ?? "null" }
        return """
            {"requests":\(s.requests),"put_records_requests":\(s.putRecordsRequests),\
            "put_record_requests":\(s.putRecordRequests),"rejected_requests":\(s.rejectedRequests),\
            "stalled_requests":\(s.stalledRequests),"records":\(s.records),"bytes":\(s.bytes),\
            "body_bytes":\(s.bodyBytes),"throttled":\(s.throttled),"first_arrival":\(time(s.firstArrival)),\
            "last_arrival":\(time(s.lastArrival))}
            """
    }

    /// Writes one line `ARRIVAL_NS STAMP` per stamped record accepted, in arrival order.
    func writeArrivals(to path: String) throws {
        let stamps = state.withLock { $0.stamps }
        var text = ""
        text.reserveCapacity(stamps.count * 40)
        for entry in stamps { text += "\(entry.arrival) \(entry.stamp)\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The wall-clock time now, in Unix nanoseconds.
    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

extension LoopbackEndpoint.Counters {
    /// The counters without the stamps (which can be many).
    var snapshot: LoopbackEndpoint.Counters {
        var copy = self
        copy.stamps = []
        return copy
    }
}

/// One connection of the loopback endpoint: gathers each request's body (noting when its
/// head arrived) and writes the endpoint's answer, or nothing when it stalls.
final class LoopbackHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A body larger than this is refused (413) and the connection closed.
    static let maxBodyBytes = 8 << 20

    private let endpoint: LoopbackEndpoint
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var arrival: Int64 = 0

    init(endpoint: LoopbackEndpoint) {
        self.endpoint = endpoint
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            arrival = LoopbackEndpoint.now()
            tooLarge = false
            body.removeAll(keepingCapacity: true)
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length <= Self.maxBodyBytes {
                body.reserveCapacity(length)
            }
        case .body(let chunk):
            guard !tooLarge else { return }
            if body.count + chunk.readableBytes > Self.maxBodyBytes {
                tooLarge = true
                body.removeAll()
                return
            }
            body.append(contentsOf: chunk.readableBytesView)
        case .end:
            guard let head else { return }
            self.head = nil
            if tooLarge {
                let message = Array(#"{"__type":"ValidationException","message":"request body too large"}"#.utf8)
                respond(context: context, head: head, status: .payloadTooLarge,
                    contentType: LoopbackEndpoint.contentType, body: message, close: true)
                return
            }
            switch endpoint.reply(to: head, body: body, arrival: arrival) {
            case .answer(let status, let contentType, let answer):
                respond(context: context, head: head, status: status, contentType: contentType, body: answer,
                    close: !head.isKeepAlive)
            case .none:
                return
            }
        }
    }

    private func respond(
        context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, contentType: String,
        body: [UInt8], close: Bool
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        if close { headers.add(name: "Connection", value: "close") }
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        if close {
            let channel = context.channel
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
