import Foundation
import JSON

/// One lk event, exactly as `lk-event.md` defines it and as lk-dispatch writes it:
/// `{"id","type","data","timestamp","source":{"userId","producerId","kinesisPartitionKey"}}`.
public struct LKEvent: Sendable, Equatable {
    /// A fresh UUID v4, lower-case.
    public var id: String
    /// The event type, never empty.
    public var type: String
    /// The event's data, carried verbatim.
    public var data: RawJSON
    /// When the event happened; written in UTC with millisecond precision.
    public var timestamp: Date
    /// `source.userId`; written as `null` when nil.
    public var userId: String?
    /// `source.producerId`.
    public var producerId: String
    /// The Kinesis PartitionKey the record is put with, and `source.kinesisPartitionKey`.
    public var partitionKey: String

    /// Builds an event. A nil `partitionKey` becomes a fresh UUID v4 (not the event id).
    /// Refuses an empty type and a partition key that Kinesis would refuse.
    public init(
        id: String = UUIDv4.make(), type: String, data: RawJSON, timestamp: Date = Date(), userId: String?,
        producerId: String, partitionKey: String?
    ) throws(LKEventError) {
        guard !type.isEmpty else { throw .emptyType }
        let key = partitionKey ?? UUIDv4.make()
        try PartitionKey.validate(key)
        self.id = id
        self.type = type
        self.data = data
        self.timestamp = timestamp
        self.userId = userId
        self.producerId = producerId
        self.partitionKey = key
    }

    /// The event's JSON text, the bytes of one Kinesis record.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.bytes.count + type.utf8.count + producerId.utf8.count + partitionKey.utf8.count + 160)
        encode(into: &out)
        return out
    }

    /// Appends the event's JSON text to `out`.
    public func encode(into out: inout [UInt8]) {
        out.append(contentsOf: #"{"id":"#.utf8)
        JSONWriter.appendString(id, to: &out)
        out.append(contentsOf: #","type":"#.utf8)
        JSONWriter.appendString(type, to: &out)
        out.append(contentsOf: #","data":"#.utf8)
        out.append(contentsOf: data.bytes)
        out.append(contentsOf: #","timestamp":""#.utf8)
        LKTimestamp.append(timestamp, to: &out)
        out.append(contentsOf: #"","source":{"userId":"#.utf8)
        if let userId {
            JSONWriter.appendString(userId, to: &out)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","producerId":"#.utf8)
        JSONWriter.appendString(producerId, to: &out)
        out.append(contentsOf: #","kinesisPartitionKey":"#.utf8)
        JSONWriter.appendString(partitionKey, to: &out)
        out.append(contentsOf: "}}".utf8)
    }

    /// Reads an event back from its JSON text (what a consumer sees), checking every rule
    /// of the contract.
    public init(decoding bytes: some Collection<UInt8>) throws(LKEventError) {
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: bytes)
        } catch {
            throw .invalidRecord("not JSON: \(error)")
        }
        let root = document.root
        guard root.kind == .object else { throw .invalidRecord("not a JSON object") }
        func string(_ node: JSONNode?, _ field: String) throws(LKEventError) -> String {
            guard let node, let value = node.string else { throw .invalidRecord("\(field) is missing or not a string") }
            return value
        }
        let id = try string(root["id"], "id")
        guard UUIDv4.isValid(id) else { throw .invalidRecord("id \(id) is not a lower-case UUID v4") }
        let stamp = try string(root["timestamp"], "timestamp")
        guard let timestamp = LKTimestamp.parseCanonical(stamp) else {
            throw .invalidRecord("timestamp \(stamp) is not YYYY-MM-DDTHH:MM:SS.mmmZ")
        }
        guard let data = root["data"] else { throw .invalidRecord("data is missing") }
        guard let source = root["source"], source.kind == .object else { throw .invalidRecord("source is missing") }
        guard let user = source["userId"] else { throw .invalidRecord("source.userId is missing (null expected when unknown)") }
        let userId: String?
        if user.isNull {
            userId = nil
        } else {
            userId = try string(user, "source.userId")
        }
        try self.init(
            id: id, type: try string(root["type"], "type"), data: RawJSON(data), timestamp: timestamp, userId: userId,
            producerId: try string(source["producerId"], "source.producerId"),
            partitionKey: try string(source["kinesisPartitionKey"], "source.kinesisPartitionKey"))
    }
}

/// Why an event cannot be made or read.
public enum LKEventError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyType
    case emptyPartitionKey
    case partitionKeyTooLong(characters: Int)
    case invalidRecord(String)

    public var description: String {
        switch self {
        case .emptyType: return "the event type is empty"
        case .emptyPartitionKey: return "the partition key is empty (Kinesis needs 1 to 256 characters)"
        case .partitionKeyTooLong(let n):
            return "the partition key has \(n) characters (Kinesis allows at most \(PartitionKey.maxCharacters))"
        case .invalidRecord(let why): return "not an lk event: \(why)"
        }
    }
}

/// The Kinesis rule for partition keys: 1 to 256 Unicode characters, never cut.
public enum PartitionKey {
    public static let maxCharacters = 256

    public static func validate(_ key: String) throws(LKEventError) {
        guard !key.isEmpty else { throw .emptyPartitionKey }
        // Kinesis counts Unicode characters (code points); a key of ASCII is the fast path.
        let count = key.utf8.count <= maxCharacters ? 0 : key.unicodeScalars.count
        if count > maxCharacters { throw .partitionKeyTooLong(characters: count) }
    }
}
