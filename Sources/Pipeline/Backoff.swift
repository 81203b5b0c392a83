/// Exponential backoff with full jitter (a random wait between zero and
/// `base * 2^attempt`, capped), as AWS's architecture blog recommends for retries.
struct Backoff: Sendable {
    var base: Duration = .milliseconds(100)
    var cap: Duration = .seconds(10)

    /// The wait before retry number `attempt` (1 for the first retry).
    func delay(attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(base * (1 << exponent), cap)
        let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(nanos, 1)))
    }
}

/// The number of PutRecords requests allowed in flight, adapted to what Kinesis takes:
/// additive increase (about one more per window of successful requests) and
/// multiplicative decrease (halved on throttling, at most once per `quiet` period so
/// that one burst of throttled answers counts once). Never below 1 or above `maximum`.
struct ConcurrencyLimit: Sendable {
    let maximum: Int
    private(set) var value: Double
    private var lastDecrease: ContinuousClock.Instant?
    private let quiet: Duration = .milliseconds(500)

    init(maximum: Int) {
        self.maximum = maximum
        self.value = Double(maximum)
    }

    /// Requests that may be in flight now.
    var current: Int { max(1, Int(value)) }

    mutating func succeeded() {
        value = min(Double(maximum), value + 1 / max(value, 1))
    }

    mutating func throttled(now: ContinuousClock.Instant = .now) {
        if let lastDecrease, now - lastDecrease < quiet { return }
        lastDecrease = now
        value = max(1, value / 2)
    }
}
