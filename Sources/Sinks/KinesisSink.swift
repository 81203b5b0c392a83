import Kinesis

/// The `kinesis` sink: each batch is one PutRecords request to the stream. Records that
/// Kinesis would refuse (a partition key outside 1...256 characters, data plus key over
/// `maxRecordBytes`) are answered `failed(ValidationException)` here and the rest is sent,
/// so one bad record never fails or blocks its batch.
public final class KinesisSink: EventSink {
    public let client: KinesisClient
    public let stream: String
    public let maxRecordBytes: Int
    /// Largest PutRecords request, data and keys counted.
    public static let maxRequestBytes = 5 * 1024 * 1024
    let ownsClient: Bool

    /// - Parameter ownsClient: when true, `shutdown()` shuts the client down too.
    public init(client: KinesisClient, stream: String, maxRecordBytes: Int = 1_048_576, ownsClient: Bool = false) {
        self.client = client
        self.stream = stream
        self.maxRecordBytes = maxRecordBytes
        self.ownsClient = ownsClient
    }

    public func put(_ records: [SinkRecord]) async throws(SinkError) -> [RecordResult] {
        guard records.count <= KinesisClient.maxRecordsPerRequest else {
            throw SinkError(
                kind: .fatal, code: "ValidationException",
                message: "a batch holds at most \(KinesisClient.maxRecordsPerRequest) records, not \(records.count)")
        }
        var results = [RecordResult](repeating: .accepted, count: records.count)
        var sendIndices: [Int] = []
        var entries: [PutRecordsEntry] = []
        sendIndices.reserveCapacity(records.count)
        entries.reserveCapacity(records.count)
        var requestBytes = 0
        // Read in place, by index: a copy of a record costs two reference count changes.
        for index in records.indices {
            if let problem = problem(with: records[index]) {
                results[index] = .failed(code: "ValidationException", message: problem)
                continue
            }
            requestBytes += records[index].data.count + records[index].partitionKey.utf8.count
            sendIndices.append(index)
            entries.append(PutRecordsEntry(partitionKey: records[index].partitionKey, data: records[index].data))
        }
        guard requestBytes <= Self.maxRequestBytes else {
            throw SinkError(
                kind: .fatal, code: "ValidationException",
                message: "a batch holds at most \(Self.maxRequestBytes) bytes of data and keys, not \(requestBytes)")
        }
        guard !entries.isEmpty else { return results }
        let failed: [PutRecordsFailure]
        do {
            failed = try await client.putRecordsReportingFailures(stream: stream, records: entries)
        } catch {
            throw SinkError(error)
        }
        for failure in failed {
            results[sendIndices[failure.index]] = .failed(code: failure.code, message: failure.message)
        }
        return results
    }

    func problem(with record: SinkRecord) -> String? {
        guard KinesisClient.acceptsPartitionKey(record.partitionKey) else {
            let keyLength = record.partitionKey.unicodeScalars.count
            return "the partition key has \(keyLength) characters; Kinesis takes 1 to \(KinesisClient.maxPartitionKeyLength)"
        }
        let size = record.data.count + record.partitionKey.utf8.count
        guard size <= maxRecordBytes else {
            return "the record has \(size) bytes of data and key; the stream takes at most \(maxRecordBytes)"
        }
        return nil
    }

    public func shutdown() async {
        if ownsClient { await client.shutdown() }
    }
}
