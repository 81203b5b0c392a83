import NIOCore
import Synchronization

/// A liveness mark one part of the agent renews while it works: the watchdog only tells
/// systemd the agent is alive while every heartbeat it watches has been renewed recently.
/// Renew it from the loop whose progress matters (for example the pipeline's own periodic
/// tick on its actor), not from a timer of its own, or it proves nothing.
public final class Heartbeat: Sendable {
    /// Names the part in the log line when the heartbeat goes stale.
    public let name: String
    private let lastBeat: Atomic<UInt64>

    public init(name: String) {
        self.name = name
        self.lastBeat = Atomic(NIODeadline.now().uptimeNanoseconds)
    }

    /// Marks the part alive now.
    public func beat() {
        lastBeat.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// How long ago the last beat was.
    public var age: Duration {
        let now = NIODeadline.now().uptimeNanoseconds
        let last = lastBeat.load(ordering: .relaxed)
        return .nanoseconds(Int64(clamping: now >= last ? now - last : 0))
    }
}
