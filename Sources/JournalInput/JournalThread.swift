import Foundation

/// A serial executor that runs every job on one dedicated thread. sd-journal wants a handle
/// used by the very same thread for its whole life; an actor on this executor
/// (`JournalReader`) gets exactly that, and may block that thread in `poll` without
/// holding up Swift's cooperative pool.
final class JournalThread: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable is safe: `jobs` and `stopping` are only read or written with
    // `condition` locked; everything else is immutable.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    /// Starts the thread.
    init(name: String) {
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once the jobs already enqueued have run. Nothing may be
    /// enqueued afterwards: callers shut down only after their last `await` on the actor.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
