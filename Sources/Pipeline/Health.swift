import Synchronization

/// What `GET /health` reports: healthy unless the sink has refused every request since
/// the last delivery (a fatal answer such as a missing stream or denied access), or an
/// input could not be run.
public final class Health: Sendable {
    private let state = Mutex<(sink: String?, inputs: [String: String])>((nil, [:]))

    public init() {}

    func delivered() {
        state.withLock { $0.sink = nil }
    }

    func failed(_ reason: String) {
        state.withLock { $0.sink = reason }
    }

    func inputFailed(_ input: String, _ reason: String) {
        state.withLock { $0.inputs[input] = reason }
    }

    func inputRecovered(_ input: String) {
        _ = state.withLock { $0.inputs.removeValue(forKey: input) }
    }

    /// nil when healthy, else why not.
    public var problem: String? {
        state.withLock { s in
            var reasons: [String] = []
            if let sink = s.sink { reasons.append("sink: \(sink)") }
            for (input, reason) in s.inputs.sorted(by: { $0.key < $1.key }) { reasons.append("input \(input): \(reason)") }
            return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
        }
    }
}
