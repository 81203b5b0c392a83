import Synchronization

/// Wakes one waiting loop early: `wait(timeout:)` returns after the timeout or at the
/// first `poke()`, whichever comes first; a poke with nobody waiting is kept for the next
/// wait.
final class Wakeup: Sendable {
    private let state = Mutex<(poked: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func poke() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.poked = true
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait(timeout: Duration) async {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.poke()
        }
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Bool in
                if s.poked {
                    s.poked = false
                    return true
                }
                s.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
        state.withLock { $0.poked = false }
    }
}
