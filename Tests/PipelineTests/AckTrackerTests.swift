import Checkpoints
import Synchronization
import Testing

@testable import Pipeline

@Suite struct AckTrackerTests {
    private func at(_ key: String, _ offset: UInt64) -> [String: Checkpoint] {
        [key: Checkpoint(key: key, offset: offset)]
    }

    private func offsets(_ checkpoints: [Checkpoint]) -> [String: UInt64] {
        Dictionary(uniqueKeysWithValues: checkpoints.map { ($0.key, $0.offset ?? 0) })
    }

    @Test func groupsWithoutEventsAreDoneAtOnce() {
        let tracker = AckTracker()
        _ = tracker.register(events: 0, checkpoints: at("f", 10))
        #expect(offsets(tracker.takeAdvanced().checkpoints) == ["f": 10])
        #expect(tracker.takeAdvanced().checkpoints.isEmpty)
    }

    @Test func nothingPassesALineThatIsNotDone() {
        let tracker = AckTracker()
        let first = tracker.register(events: 2, checkpoints: at("f", 10))
        let second = tracker.register(events: 1, checkpoints: at("f", 20))
        _ = tracker.register(events: 0, checkpoints: at("f", 30))
        tracker.complete(second)
        #expect(tracker.takeAdvanced().checkpoints.isEmpty)
        tracker.complete(first)
        #expect(tracker.takeAdvanced().checkpoints.isEmpty)
        tracker.complete(first)
        #expect(offsets(tracker.takeAdvanced().checkpoints) == ["f": 30])
        #expect(tracker.pendingGroups == 0)
    }

    @Test func theBudgetOfDoneGroupsComesBackWithTheirCheckpoints() {
        let tracker = AckTracker()
        let first = tracker.register(events: 2, bytes: 100, checkpoints: at("f", 10))
        let second = tracker.register(events: 1, bytes: 40, checkpoints: at("f", 20))
        tracker.complete(second)
        #expect(tracker.takeAdvanced().budget == AckTracker.Budget())
        tracker.complete(first, count: 2)
        let advance = tracker.takeAdvanced()
        #expect(advance.budget == AckTracker.Budget(events: 3, bytes: 140))
        #expect(offsets(advance.checkpoints) == ["f": 20])
    }

    @Test func eachSourceKeepsItsOwnPosition() {
        let tracker = AckTracker()
        let a = tracker.register(events: 1, checkpoints: at("a", 5))
        _ = tracker.register(events: 0, checkpoints: at("b", 7))
        let c = tracker.register(events: 1, checkpoints: ["a": Checkpoint(key: "a", offset: 9), "b": Checkpoint(key: "b", offset: 11)])
        tracker.complete(a)
        #expect(offsets(tracker.takeAdvanced().checkpoints) == ["a": 5, "b": 7])
        tracker.complete(c)
        #expect(offsets(tracker.takeAdvanced().checkpoints) == ["a": 9, "b": 11])
    }

    @Test func doneGroupsBehindAPendingOneFoldTogether() {
        let tracker = AckTracker()
        let first = tracker.register(events: 1, checkpoints: at("f", 1))
        for offset in 2...10_000 { _ = tracker.register(events: 0, checkpoints: at("f", UInt64(offset))) }
        #expect(tracker.pendingGroups == 2)
        tracker.complete(first)
        #expect(offsets(tracker.takeAdvanced().checkpoints) == ["f": 10_000])
    }

    @Test func randomCompletionOrderNeverCommitsPastAnUnfinishedGroup() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let tracker = AckTracker()
            var tickets: [(ticket: UInt64, offset: UInt64)] = []
            var outstanding: [UInt64: Int] = [:]
            for offset in 1...200 {
                let events = Int.random(in: 0...3, using: &generator)
                let ticket = tracker.register(events: events, checkpoints: at("f", UInt64(offset)))
                if events > 0 {
                    tickets.append((ticket, UInt64(offset)))
                    outstanding[ticket] = events
                }
            }
            var completions = tickets.flatMap { t in Array(repeating: t, count: outstanding[t.ticket] ?? 0) }
            completions.shuffle(using: &generator)
            var committed: UInt64 = 0
            for (ticket, _) in completions {
                tracker.complete(ticket)
                outstanding[ticket, default: 0] -= 1
                if let advanced = tracker.takeAdvanced().checkpoints.first?.offset {
                    #expect(advanced > committed)
                    committed = advanced
                }
                // Every group at or before the committed offset is finished.
                for (t, offset) in tickets where offset <= committed {
                    #expect(outstanding[t] == 0)
                }
            }
            #expect(committed == 200)
        }
    }
}

@Suite struct FlowControlTests {
    @Test func waitsForRoomAndAdmitsInOrder() async {
        let flow = FlowControl(maxEvents: 10, maxBytes: 1000)
        #expect(await flow.acquire(events: 8, bytes: 100))
        let order = OrderLog()
        let second = Task {
            let ok = await flow.acquire(events: 5, bytes: 10)
            await order.append("second")
            return ok
        }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(await order.entries.isEmpty)
        flow.release(events: 8, bytes: 100)
        #expect(await second.value)
        #expect(flow.held.events == 5)
    }

    @Test func aRequestLargerThanTheBudgetPassesWhenNothingElseIsHeld() async {
        let flow = FlowControl(maxEvents: 10, maxBytes: 100)
        #expect(await flow.acquire(events: 1, bytes: 5000))
        flow.release(events: 1, bytes: 5000)
        #expect(flow.held.events == 0)
    }

    @Test func pressureIsSignalledFromHalfTheBudgetOnAndWhileWaiting() async {
        let pokes = Mutex(0)
        let flow = FlowControl(maxEvents: 10, maxBytes: 1000, onPressure: { pokes.withLock { $0 += 1 } })
        #expect(await flow.acquire(events: 4, bytes: 100))
        #expect(pokes.withLock { $0 } == 0, "under half of both limits: no commit needed yet")
        #expect(await flow.acquire(events: 1, bytes: 100))
        #expect(pokes.withLock { $0 } == 1, "5 of 10 events held")
        flow.release(events: 5, bytes: 200)
        #expect(await flow.acquire(events: 1, bytes: 500))
        #expect(pokes.withLock { $0 } == 2, "500 of 1000 bytes held")
        #expect(await flow.acquire(events: 4, bytes: 100))
        let waiting = Task { await flow.acquire(events: 6, bytes: 10) }
        while pokes.withLock({ $0 }) < 4 { await Task.yield() }
        flow.release(events: 5, bytes: 600)
        #expect(await waiting.value)
        #expect(flow.held.events == 6)
    }

    @Test func cancellationStopsTheWaitAndHoldsNothing() async {
        let flow = FlowControl(maxEvents: 1, maxBytes: 100)
        #expect(await flow.acquire(events: 1, bytes: 1))
        let waiting = Task { await flow.acquire(events: 1, bytes: 1) }
        try? await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        #expect(await waiting.value == false)
        #expect(flow.held.events == 1)
    }
}

@Suite struct ConcurrencyLimitTests {
    @Test func halvesOnThrottlingAndClimbsBackAdditively() {
        var limit = ConcurrencyLimit(maximum: 8)
        let start = ContinuousClock.now
        limit.throttled(now: start)
        #expect(limit.current == 4)
        limit.throttled(now: start + .milliseconds(100))
        #expect(limit.current == 4, "one burst of throttling counts once")
        limit.throttled(now: start + .seconds(1))
        #expect(limit.current == 2)
        for _ in 0..<3 { limit.succeeded() }
        #expect(limit.current == 3)
        for _ in 0..<100 { limit.succeeded() }
        #expect(limit.current == 8)
        for step in 0..<10 { limit.throttled(now: start + .seconds(2 + step)) }
        #expect(limit.current == 1)
    }

    @Test func backoffStaysUnderItsCap() {
        let backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))
        for attempt in 1...40 {
            let d = backoff.delay(attempt: attempt)
            #expect(d >= .zero && d <= .seconds(2))
        }
    }
}

private actor OrderLog {
    var entries: [String] = []
    func append(_ entry: String) { entries.append(entry) }
}
