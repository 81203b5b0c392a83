import Sinks

/// One event on its way to the sink, with what is needed to acknowledge it: the tracker
/// and group of the lines it came from, and whether its partition key must keep order.
/// Only the record's key and data are reference counted, so moving records along is cheap.
struct Outbound: Sendable {
    var record: SinkRecord
    /// Whether the record's (explicit) partition key must keep its order.
    var ordered: Bool
    /// The tracker of the lines it came from, as registered with the sender.
    var source: Int
    var ticket: UInt64
    /// Data plus partition key, as Kinesis counts a record's size.
    var size: Int
    /// Retries so far.
    var attempts = 0
    /// Send in a request of its own: set while isolating a record Kinesis refuses.
    var alone = false
    /// When the record became ready to send (for `max_delay`).
    var readySince: ContinuousClock.Instant
    /// When its line was read (for the read-to-request latency).
    var readAt: ContinuousClock.Instant
}
