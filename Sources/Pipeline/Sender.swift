import Logging
import Sinks
import Synchronization

/// Groups records into PutRecords batches and sends them with bounded, adaptive
/// concurrency, keeping per-key order and retrying only what failed.
///
/// - A batch goes when it is full (`max_records`, `max_bytes`), when its oldest record
///   has waited `max_delay`, or at once while draining.
/// - At most `ConcurrencyLimit.current` requests are in flight; throttling halves it,
///   success raises it again.
/// - Under `ordering: per_key`, a record with an explicit key is held back while another
///   record of the same key is queued, in flight or waiting for a retry, so records of
///   one key reach the sink in the order they were submitted; other keys never wait.
/// - Of a partly failed request only the failed records are sent again, after an
///   exponential backoff with full jitter. A whole-request failure retries every record;
///   fatal ones (stream missing, access denied) with a longer cap and a loud log. A record
///   the service refuses as invalid is isolated and, alone, given up on and counted.
actor Sender {
    private let sink: any EventSink
    private let batch: BatchLimits
    private let metrics: PipelineMetrics
    private let health: Health
    private let logger: Logger
    private var limit: ConcurrencyLimit
    private let backoff = Backoff()
    private let fatalBackoff = Backoff(base: .seconds(1), cap: .seconds(60))
    private let alarms = RateLimitedLog(interval: .seconds(30))

    private var ready = RecordQueue()
    private var readyBytes = 0
    /// The keys with a record queued, in flight or waiting for a retry, each with the
    /// records held back behind it, in order. One entry per key, so that taking a key and
    /// letting it go cost one lookup each.
    private var busyKeys: [String: RecordQueue] = [:]
    /// Records waiting out a backoff, with when they may go again.
    private var delayed: [(due: ContinuousClock.Instant, item: Outbound)] = []
    private var inFlight = 0
    /// Records submitted and not yet finished.
    private var pending = 0
    private var draining = false
    private var timer: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)?
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// The trackers records are acknowledged to, by their `source` number.
    private let trackers = Mutex<[AckTracker]>([])
    /// Records handed over by `submit` and not yet taken in by the actor, in order.
    private let intake = Mutex(Intake())

    private struct Intake {
        var batches: [[Outbound]] = []
        var records = 0
        /// A task is on its way to take the batches in.
        var scheduled = false
    }

    /// Whole-request answers that blame the request's content: the records are isolated
    /// and a record refused alone is given up on.
    static let invalidRecordCodes: Set<String> = ["ValidationException", "InvalidArgumentException", "SerializationException"]

    /// The batch limits of one PutRecords request.
    struct BatchLimits: Sendable {
        var maxRecords: Int
        var maxBytes: Int
        var maxDelay: Duration
    }

    init(
        sink: any EventSink, batch: BatchLimits, maxInFlight: Int, metrics: PipelineMetrics, health: Health,
        logger: Logger
    ) {
        self.sink = sink
        self.batch = batch
        self.limit = ConcurrencyLimit(maximum: maxInFlight)
        self.metrics = metrics
        self.health = health
        self.logger = logger
        metrics.concurrencyLimit.record(limit.current)
    }

    /// Registers the tracker of an input's lines; records carry the number returned.
    nonisolated func register(_ tracker: AckTracker) -> Int {
        trackers.withLock { list in
            list.append(tracker)
            return list.count - 1
        }
    }

    /// Takes records to send; each is finished (and acknowledged) exactly once. It only
    /// queues them, under a lock, so the calling input goes back to reading at once
    /// instead of waiting its turn on the actor (the flow budget bounds what is queued);
    /// the actor takes them in, in order, as soon as it is free.
    ///
    /// The arrays are moved out of `items` (left empty), so that the actor holds the only
    /// reference to them and can move their records instead of copying them.
    nonisolated func submit(_ items: inout [[Outbound]]) {
        let count = items.reduce(0) { $0 + $1.count }
        guard count > 0 else { return }
        let wake = intake.withLock { queue -> Bool in
            for index in items.indices {
                var moved: [Outbound] = []
                swap(&moved, &items[index])
                queue.batches.append(moved)
            }
            queue.records += count
            defer { queue.scheduled = true }
            return !queue.scheduled
        }
        if wake { Task { await self.absorb() } }
    }

    /// Takes in what `submit` queued and sends what is ready.
    private func absorb() {
        var batches = intake.withLock { queue -> [[Outbound]] in
            var taken: [[Outbound]] = []
            swap(&taken, &queue.batches)
            queue.records = 0
            queue.scheduled = false
            return taken
        }
        for index in batches.indices { accept(&batches[index]) }
        schedule()
    }

    /// Takes in every record of `items`, moving each out (a placeholder takes its place):
    /// a copy would cost a reference count change on its key and data, and one more to
    /// drop the array.
    private func accept(_ items: inout [Outbound]) {
        pending += items.count
        for index in items.indices {
            var item = Outbound.placeholder
            swap(&item, &items[index])
            guard item.ordered else {
                makeReady(consume item)
                continue
            }
            if let entry = busyKeys.index(forKey: item.record.partitionKey) {
                busyKeys.values[entry].append(consume item)
            } else {
                busyKeys[item.record.partitionKey] = RecordQueue()
                makeReady(consume item)
            }
        }
    }

    /// Lets the key whose entry is `entry` go: returns the next record held back behind
    /// it (which now takes the key), or frees the key and returns nil.
    private static func release(_ entry: inout RecordQueue?) -> Outbound? {
        if let next = entry?.popFirst() { return next }
        entry = nil
        return nil
    }

    /// Sends what is left at once, and waits until everything submitted is finished or
    /// `timeout` has passed; returns whether everything finished.
    func drain(timeout: Duration) async -> Bool {
        draining = true
        absorb()
        if pending == 0 { return true }
        let deadline = ContinuousClock.now + timeout
        let expiry = Task {
            try? await Task.sleep(until: deadline)
            self.releaseIdleWaiters()
        }
        await withCheckedContinuation { idleWaiters.append($0) }
        expiry.cancel()
        return pending == 0
    }

    /// Records submitted and not yet finished.
    var backlog: Int { pending + intake.withLock { $0.records } }

    // MARK: Scheduling

    private func makeReady(_ item: consuming Outbound) {
        readyBytes += item.size
        ready.append(consume item)
    }

    private func schedule() {
        let now = ContinuousClock.now
        if !delayed.isEmpty {
            var due: [Outbound] = []
            delayed.removeAll { entry in
                if entry.due <= now {
                    due.append(entry.item)
                    return true
                }
                return false
            }
            for var item in due.reversed() {
                item.readySince = now - batch.maxDelay
                ready.prepend(item)
                readyBytes += item.size
            }
        }
        while inFlight < limit.current, let first = ready.first {
            let full = ready.count >= batch.maxRecords || readyBytes >= batch.maxBytes
            guard full || draining || first.alone || now - first.readySince >= batch.maxDelay else { break }
            let records = takeBatch()
            inFlight += 1
            metrics.requestsInFlight.record(inFlight)
            Task { await self.send(records) }
        }
        armTimer(now: now)
    }

    private func takeBatch() -> [Outbound] {
        var records: [Outbound] = []
        var bytes = 0
        records.reserveCapacity(min(ready.count, batch.maxRecords))
        while records.count < batch.maxRecords, let next = ready.first {
            if !records.isEmpty && (next.alone || bytes + next.size > batch.maxBytes) { break }
            guard let item = ready.popFirst() else { break }
            let alone = item.alone
            readyBytes -= item.size
            bytes += item.size
            records.append(consume item)
            if alone { break }
        }
        return records
    }

    private func armTimer(now: ContinuousClock.Instant) {
        var next: ContinuousClock.Instant?
        if let first = ready.first, inFlight < limit.current { next = first.readySince + batch.maxDelay }
        for entry in delayed where next.map({ entry.due < $0 }) ?? true { next = entry.due }
        guard let next else { return }
        if let timer, timer.deadline <= next { return }
        timer?.task.cancel()
        let task = Task {
            try? await Task.sleep(until: next)
            guard !Task.isCancelled else { return }
            self.timerFired(next)
        }
        timer = (next, task)
    }

    private func timerFired(_ deadline: ContinuousClock.Instant) {
        guard let timer, timer.deadline == deadline else { return }
        self.timer = nil
        schedule()
    }

    // MARK: Sending

    private func send(_ records: [Outbound]) async {
        let started = ContinuousClock.now
        for index in records.indices where records[index].attempts == 0 {
            metrics.readToRequest.recordNanoseconds(nanoseconds(started - records[index].readAt))
        }
        let outcome: Result<[RecordResult], SinkError>
        do {
            var batch: [SinkRecord] = []
            batch.reserveCapacity(records.count)
            for index in records.indices { batch.append(records[index].record) }
            outcome = .success(try await sink.put(batch))
        } catch {
            outcome = .failure(error)
        }
        metrics.requestDuration.recordNanoseconds(nanoseconds(ContinuousClock.now - started))
        inFlight -= 1
        metrics.requestsInFlight.record(inFlight)
        switch outcome {
        case .success(let results) where results.count == records.count:
            handle(records, results)
        case .success(let results):
            requestFailed(
                records, SinkError(kind: .retryable, code: "BadResponse",
                    message: "the sink answered \(results.count) results for \(records.count) records"))
        case .failure(let error):
            requestFailed(records, error)
        }
        schedule()
    }

    private func handle(_ records: [Outbound], _ results: [RecordResult]) {
        var accepted = 0
        var throttled = false
        for index in records.indices {
            switch results[index] {
            case .accepted:
                accepted += 1
            case .failed(let code, let message):
                metrics.recordsFailed(code: code).increment()
                // Per-record failures are throttling, passing faults, or the stream's
                // encryption key refusing (fatal for every record alike): all are
                // retried, the last with the long backoff and an unhealthy status.
                let kind = RecordFailure.kind(of: code)
                if kind == .throttled { throttled = true }
                if kind == .fatal { health.failed("\(code): \(message)") }
                alarms.log(logger, level: kind == .fatal ? .error : .warning, key: code,
                    "records failed, retrying only those", ["code": "\(code)", "message": "\(message)"])
                retry(records[index], code: code, fatal: kind == .fatal)
            }
        }
        metrics.recordsPut.increment(by: accepted)
        finish(records) { index in
            if case .accepted = results[index] { return true }
            return false
        }
        if throttled {
            limit.throttled()
        } else {
            limit.succeeded()
        }
        if accepted > 0 { health.delivered() }
        metrics.concurrencyLimit.record(limit.current)
    }

    private func requestFailed(_ records: [Outbound], _ error: SinkError) {
        metrics.requestsFailed(code: error.code).increment()
        switch error.kind {
        case .throttled:
            limit.throttled()
            metrics.concurrencyLimit.record(limit.current)
            alarms.log(logger, level: .warning, key: error.code, "requests throttled, slowing down",
                ["code": "\(error.code)", "in_flight_limit": "\(limit.current)"])
            for item in records { retry(item, code: error.code, fatal: false) }
        case .retryable:
            alarms.log(logger, level: .warning, key: error.code, "request failed, retrying",
                ["code": "\(error.code)", "error": "\(error.message)"])
            for item in records { retry(item, code: error.code, fatal: false) }
        case .fatal where Self.invalidRecordCodes.contains(error.code):
            if records.count == 1, let item = records.first {
                logger.error(
                    "the sink refuses this record; it is dropped and counted",
                    metadata: ["code": "\(error.code)", "error": "\(error.message)", "partition_key": "\(item.record.partitionKey)",
                        "bytes": "\(item.size)"])
                metrics.recordsRejected(reason: error.code).increment()
                finish([item])
            } else {
                // Isolate the record the service refuses: each goes again on its own.
                for var item in records {
                    item.alone = true
                    item.readySince = .now - batch.maxDelay
                    ready.prepend(item)
                    readyBytes += item.size
                }
            }
        case .fatal:
            health.failed("\(error.code): \(error.message)")
            alarms.log(logger, level: .error, key: error.code,
                "the sink refuses every request; retrying with backoff, nothing is lost",
                ["code": "\(error.code)", "error": "\(error.message)"])
            for item in records { retry(item, code: error.code, fatal: true) }
        }
    }

    private func retry(_ item: Outbound, code: String, fatal: Bool) {
        var item = item
        item.attempts += 1
        metrics.recordsRetried(code: code).increment()
        let wait = (fatal ? fatalBackoff : backoff).delay(attempt: item.attempts)
        delayed.append((ContinuousClock.now + wait, item))
    }

    /// Acknowledges records for good (those of `items` that `isDone` picks, by index):
    /// advances their lines (whose budget is released when their checkpoint is committed)
    /// and lets the next record of their key go.
    private func finish(_ items: [Outbound], where isDone: (Int) -> Bool = { _ in true }) {
        var finished = 0
        var index = 0
        while index < items.count {
            guard isDone(index) else {
                index += 1
                continue
            }
            let ticket = items[index].ticket
            let source = items[index].source
            var count = 0
            while index < items.count, isDone(index), items[index].ticket == ticket, items[index].source == source {
                count += 1
                index += 1
            }
            trackers.withLock { $0[source] }.complete(ticket, count: count)
            finished += count
        }
        guard finished > 0 else { return }
        pending -= finished
        for index in items.indices where items[index].ordered && isDone(index) {
            if var next = Self.release(&busyKeys[items[index].record.partitionKey]) {
                next.readySince = min(next.readySince, .now)
                makeReady(next)
            }
        }
        if pending == 0 { releaseIdleWaiters() }
    }

    private func releaseIdleWaiters() {
        let waiters = idleWaiters
        idleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    private func nanoseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }
}
