import Sinks
import Testing

@testable import Pipeline

/// The sender's FIFO: records come out in the order they went in, put-back records first,
/// through every compaction and every making of room in front.
@Suite struct RecordQueueTests {
    private func record(_ n: Int) -> Outbound {
        Outbound(
            record: SinkRecord(partitionKey: "key-\(n)", data: Array("\(n)".utf8)), ordered: n % 2 == 0, source: 0,
            ticket: UInt64(n), size: n, readySince: .now, readAt: .now)
    }

    @Test func firstInFirstOutWithPutBacksAndCompaction() {
        var queue = RecordQueue()
        var model: [Int] = []
        var next = 0
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<5:
                queue.append(record(next))
                model.append(next)
                next += 1
            case 5..<8:
                let popped = queue.popFirst()
                #expect(popped.map { Int($0.ticket) } == model.first)
                #expect(popped?.record.partitionKey == model.first.map { "key-\($0)" })
                if !model.isEmpty { model.removeFirst() }
            default:
                // Take one and put it back, as a retry does.
                guard let popped = queue.popFirst() else { continue }
                queue.prepend(popped)
            }
            #expect(queue.count == model.count)
            #expect(queue.isEmpty == model.isEmpty)
            #expect((queue.first == nil) == model.isEmpty)
        }
        while let popped = queue.popFirst() {
            #expect(Int(popped.ticket) == model.removeFirst())
        }
        #expect(model.isEmpty)
    }

    @Test func manyPutBacksKeepTheirOrder() {
        var queue = RecordQueue()
        for n in 1000..<1010 { queue.append(record(n)) }
        // A throttled batch of 500 comes back: put back last to first, it leads in order.
        for n in (0..<500).reversed() { queue.prepend(record(n)) }
        var out: [Int] = []
        while let popped = queue.popFirst() { out.append(Int(popped.ticket)) }
        #expect(out == Array(0..<500) + Array(1000..<1010))
    }
}

