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

    /// The event's JSON text, the bytes of one Kinesis record, in one allocation of its
    /// exact size.
    public func encoded() -> [UInt8] {
        let length = encodedLength
        return [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            count = write(into: buffer, at: 0)
        }
    }

    /// Appends the event's JSON text to `out`.
    public func encode(into out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: encodedLength))
        out.withUnsafeMutableBufferPointer { _ = write(into: $0, at: start) }
    }

    private static let openId = Array(#"{"id":"#.utf8)
    private static let typeKey = Array(#","type":"#.utf8)
    private static let dataKey = Array(#","data":"#.utf8)
    private static let timestampKey = Array(#","timestamp":""#.utf8)
    private static let userIdKey = Array(#"","source":{"userId":"#.utf8)
    private static let null = Array("null".utf8)
    private static let producerIdKey = Array(#","producerId":"#.utf8)
    private static let partitionKeyKey = Array(#","kinesisPartitionKey":"#.utf8)
    private static let close = Array("}}".utf8)
    /// The bytes of the text that are the same in every event.
    private static let fixedLength =
        openId.count + typeKey.count + dataKey.count + timestampKey.count + userIdKey.count + producerIdKey.count
        + partitionKeyKey.count + close.count

    /// How many bytes `encoded()` makes.
    private var encodedLength: Int {
        Self.fixedLength + JSONWriter.quotedLength(id) + JSONWriter.quotedLength(type) + data.bytes.count
            + LKTimestamp.length(of: timestamp)
            + (userId.map(JSONWriter.quotedLength) ?? Self.null.count) + JSONWriter.quotedLength(producerId)
            + JSONWriter.quotedLength(partitionKey)
    }

    /// Writes the event's JSON text at `position` of `out`, which has room for
    /// `encodedLength` bytes; returns the position after it.
    private func write(into out: UnsafeMutableBufferPointer<UInt8>, at position: Int) -> Int {
        var p = position
        func put(_ bytes: [UInt8]) {
            bytes.withUnsafeBufferPointer { source in
                guard let from = source.baseAddress, let to = out.baseAddress else { return }
                (to + p).update(from: from, count: source.count)
            }
            p += bytes.count
        }
        put(Self.openId)
        p = JSONWriter.writeString(id, into: out, at: p)
        put(Self.typeKey)
        p = JSONWriter.writeString(type, into: out, at: p)
        put(Self.dataKey)
        put(data.bytes)
        put(Self.timestampKey)
        p = LKTimestamp.write(timestamp, into: out, at: p)
        put(Self.userIdKey)
        if let userId {
            p = JSONWriter.writeString(userId, into: out, at: p)
        } else {
            put(Self.null)
        }
        put(Self.producerIdKey)
        p = JSONWriter.writeString(producerId, into: out, at: p)
        put(Self.partitionKeyKey)
        p = JSONWriter.writeString(partitionKey, into: out, at: p)
        put(Self.close)
        return p
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
