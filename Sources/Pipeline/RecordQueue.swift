import Sinks

/// A first-in-first-out queue of records (the sender's records ready to go, and those
/// held back behind a busy key) that moves records in and out instead of copying them.
/// (swift-collections' `Deque` copies an element on `append` and `prepend`, which for a
/// record means a reference count change on its key and data, and another to destroy the
/// original: a few percent of the agent's CPU time at full speed.)
///
/// An array and the position of its first live record: taking a record swaps a
/// placeholder into its place, and the dead front is cut off once it is half the array.
struct RecordQueue {
    private var records: [Outbound] = []
    private var head = 0

    var isEmpty: Bool { head == records.count }
    var count: Int { records.count - head }

    /// What the sender looks at in the first record before taking it, read in place.
    var first: (alone: Bool, size: Int, readySince: ContinuousClock.Instant)? {
        isEmpty ? nil : (records[head].alone, records[head].size, records[head].readySince)
    }

    mutating func append(_ record: consuming Outbound) {
        records.append(consume record)
    }

    /// Puts a record back in front (a retry, or a record isolated after a refused request).
    /// With no room in front, room for as many records as are queued is made at once, so
    /// that putting back many records (a throttled batch) costs one move of the queue, not
    /// one per record.
    mutating func prepend(_ record: consuming Outbound) {
        if head == 0 {
            let room = max(16, count)
            records.insert(contentsOf: repeatElement(Outbound.placeholder, count: room), at: 0)
            head = room
        }
        head -= 1
        records[head] = consume record
    }

    mutating func popFirst() -> Outbound? {
        guard !isEmpty else { return nil }
        var record = Outbound.placeholder
        swap(&record, &records[head])
        head += 1
        if head == records.count {
            records.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 512 && head * 2 >= records.count {
            records.removeFirst(head)
            head = 0
        }
        return record
    }
}

extension Outbound {
    /// What a record moved out of an array or a `RecordQueue` leaves behind: nothing to
    /// release.
    static let placeholder = Outbound(
        record: SinkRecord(partitionKey: "", data: []), ordered: false, source: 0, ticket: 0, size: 0,
        readySince: .now, readAt: .now)
}
