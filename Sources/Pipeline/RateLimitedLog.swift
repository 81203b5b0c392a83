import Logging
import Synchronization

/// Logs a repeating problem once per `interval` per key, saying how many times it
/// happened meanwhile, so that a host with a bad line every millisecond or an outage
/// stays readable.
final class RateLimitedLog: Sendable {
    private let interval: Duration
    private let state = Mutex<[String: (last: ContinuousClock.Instant, suppressed: Int)]>([:])

    init(interval: Duration) {
        self.interval = interval
    }

    func log(
        _ logger: Logger, level: Logger.Level, key: String, _ message: @autoclosure () -> String,
        _ metadata: @autoclosure () -> Logger.Metadata
    ) {
        let now = ContinuousClock.now
        let suppressed = state.withLock { entries -> Int? in
            if let entry = entries[key], now - entry.last < interval {
                entries[key]?.suppressed += 1
                return nil
            }
            let suppressed = entries[key]?.suppressed ?? 0
            entries[key] = (now, 0)
            return suppressed
        }
        guard let suppressed else { return }
        var fields = metadata()
        if suppressed > 0 { fields["suppressed_since_last"] = "\(suppressed)" }
        logger.log(level: level, "\(message())", metadata: fields)
    }
}
