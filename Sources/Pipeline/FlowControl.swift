import Synchronization

/// The bound on what is in memory between reading and acknowledgement: at most
/// `maxEvents` events and `maxBytes` bytes of encoded events. An input that wants more
/// waits here, so it stops reading while the sink is slow: the source is the buffer.
/// A single request larger than the whole budget is let through when nothing else is
/// held, so that it can never wait forever. The budget is given back when the lines'
/// checkpoints are committed, so it also bounds what a crash can send twice.
///
/// Once half the budget is held, each request calls `onPressure` (a commit would give
/// budget back): the commit then runs while the other half is still free, instead of
/// after the input has stopped.
final class FlowControl: Sendable {
    let maxEvents: Int
    let maxBytes: Int
    /// Called when a request finds the budget half full or has to wait.
    private let onPressure: @Sendable () -> Void
    private let state = Mutex(State())

    private struct State {
        var events = 0
        var bytes = 0
        var waiters: [Waiter] = []
    }

    private struct Waiter {
        var id: UInt64
        var events: Int
        var bytes: Int
        var continuation: CheckedContinuation<Bool, Never>
    }

    init(maxEvents: Int, maxBytes: Int, onPressure: @escaping @Sendable () -> Void = {}) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.onPressure = onPressure
    }

    /// Waits until `events` events of `bytes` bytes fit, then holds them; waiters are
    /// served in order. Returns false, holding nothing, if the task is cancelled first
    /// (an input stopping while the sink is stalled).
    func acquire(events: Int, bytes: Int) async -> Bool {
        guard events > 0 || bytes > 0 else { return true }
        let (admitted, halfFull) = state.withLock { s -> (Bool, Bool) in
            if s.waiters.isEmpty && fits(s, events, bytes) {
                s.events += events
                s.bytes += bytes
                return (true, 2 * s.events >= maxEvents || 2 * s.bytes >= maxBytes)
            }
            return (false, true)
        }
        if halfFull { onPressure() }
        if admitted { return true }
        let id = UInt64.random(in: 0...UInt64.max)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resumeWith = state.withLock { s -> Bool? in
                    if Task.isCancelled { return false }
                    if s.waiters.isEmpty && fits(s, events, bytes) {
                        s.events += events
                        s.bytes += bytes
                        return true
                    }
                    s.waiters.append(Waiter(id: id, events: events, bytes: bytes, continuation: continuation))
                    return nil
                }
                if let resumeWith { continuation.resume(returning: resumeWith) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    /// Gives back what `acquire` held and admits the waiters that now fit.
    func release(events: Int, bytes: Int) {
        guard events > 0 || bytes > 0 else { return }
        let admitted = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.events -= events
            s.bytes -= bytes
            var ready: [CheckedContinuation<Bool, Never>] = []
            while let first = s.waiters.first, fits(s, first.events, first.bytes) {
                s.waiters.removeFirst()
                s.events += first.events
                s.bytes += first.bytes
                ready.append(first.continuation)
            }
            return ready
        }
        for continuation in admitted { continuation.resume(returning: true) }
    }

    /// Events and bytes held now.
    var held: (events: Int, bytes: Int) { state.withLock { ($0.events, $0.bytes) } }

    private func fits(_ s: State, _ events: Int, _ bytes: Int) -> Bool {
        if s.events == 0 && s.bytes == 0 { return true }
        return s.events + events <= maxEvents && s.bytes + bytes <= maxBytes
    }
}
