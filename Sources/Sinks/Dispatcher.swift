import Foundation
import JSON
import Kinesis
import LKEvent
import Logging

/// lk-dispatch's `getDispatch`/`dispatch` in Swift: built from a Kinesis client, a stream
/// and a producer id (or from any sink); `dispatch` puts one lk event and returns it as
/// published once the sink has accepted it. Throttling and passing failures are retried a
/// bounded number of times with exponential backoff and full jitter.
public final class Dispatcher: Sendable {
    public let producerId: String
    let sink: any EventSink
    let retry: RetryPolicy
    let logger: Logger

    /// Dispatches to `stream` through `client`. The client stays the caller's to shut down.
    public convenience init(client: KinesisClient, stream: String, producerId: String) {
        self.init(sink: KinesisSink(client: client, stream: stream), producerId: producerId)
    }

    /// Dispatches to `sink`. The sink stays the caller's to shut down.
    public init(
        sink: any EventSink, producerId: String, retry: RetryPolicy = RetryPolicy(),
        logger: Logger = Logger(label: "lk-forwarder.dispatch")
    ) {
        self.sink = sink
        self.producerId = producerId
        self.retry = retry
        self.logger = logger
    }

    /// Puts one event and returns it once accepted.
    /// - Parameters:
    ///   - partitionKey: nil for a fresh UUID v4 key.
    ///   - timestamp: nil for the time of this call.
    /// - Throws: `LKEventError` for an empty type or a partition key outside 1...256
    ///   characters (nothing is sent); `SinkError` when the event was not accepted: a
    ///   fatal failure, or retries exhausted.
    public func dispatch(
        _ type: String, data: RawJSON = .emptyObject, sourceUserId: String? = nil, partitionKey: String? = nil,
        timestamp: Date? = nil
    ) async throws -> LKEvent {
        let event = try LKEvent(
            type: type, data: data, timestamp: timestamp ?? Date(), userId: sourceUserId, producerId: producerId,
            partitionKey: partitionKey)
        try await publish(event)
        return event
    }

    /// Puts an event that is already built; returns once accepted.
    public func publish(_ event: LKEvent) async throws(SinkError) {
        let record = SinkRecord(partitionKey: event.partitionKey, data: event.encoded())
        var attempt = 0
        while true {
            attempt += 1
            let failure: SinkError
            do {
                let results = try await sink.put([record])
                switch results.first {
                case .accepted:
                    return
                case .failed(let code, let message):
                    failure = SinkError(kind: RecordFailure.kind(of: code), code: code, message: message)
                case nil:
                    failure = SinkError(kind: .retryable, code: "NoResult", message: "the sink answered no result for the record")
                }
            } catch {
                failure = error
            }
            guard failure.kind != .fatal, attempt < retry.maxAttempts else { throw failure }
            let delay = retry.delay(afterAttempt: attempt)
            logger.debug(
                "dispatch retrying", metadata: ["attempt": "\(attempt)", "error": "\(failure)", "delay": "\(delay)"])
            do {
                try await Task.sleep(for: delay)
            } catch {
                throw failure
            }
        }
    }
}

/// How often and how patiently a failed put is tried again: exponential backoff with
/// full jitter (a random wait between zero and `base * 2^(attempt-1)`, capped).
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 6, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait after the `attempt`-th failure (1-based).
    public func delay(afterAttempt attempt: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(max(attempt - 1, 0), 20)))
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds))
    }
}
