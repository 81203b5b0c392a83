/// What the pipeline asks of an input (a file input, a journald input). An input never
/// commits on its own: the pipeline tells the input's `CheckpointCommitter` what is done.
public protocol LineInput: Sendable {
    /// The input's unique name from the configuration; checkpoints are kept under it.
    var name: String { get }

    /// Reads until the calling task is cancelled, handing lines on in batches.
    /// `deliver` suspends while the consumer is full: that is the backpressure, and the
    /// input must not read ahead while it waits. `ready` is called once, when every
    /// source the input can open is open (the service reports READY=1 after that).
    func run(
        deliver: @escaping @Sendable ([InputLine]) async -> Void,
        ready: @escaping @Sendable () -> Void
    ) async throws
}
