import Foundation
import Synchronization

/// What a journald input has done so far, for metrics: read `JournalInput.statistics`
/// whenever a scrape asks. Counters only grow.
public struct JournalInputStatistics: Sendable, Equatable {
    /// Entries read and handed on.
    public var entriesRead: UInt64 = 0
    /// Entries skipped because the journal could not read them ("Bad message" and the like).
    public var unreadableEntries: UInt64 = 0
    /// Journal files that could not be opened (corrupt header, no permission), each counted once.
    public var unreadableFiles: UInt64 = 0
    /// Times the checkpoint's entry was gone and reading went on after its time instead.
    public var cursorFallbacks: UInt64 = 0
    /// The realtime timestamp (µs since the epoch) of the newest entry read, if any.
    public var lastEntryRealtime: UInt64?

    public init() {}

    /// How far the reading position is behind `now`: the age of the newest entry read.
    public func cursorAge(at now: Date = Date()) -> Duration? {
        guard let lastEntryRealtime else { return nil }
        let nowMicroseconds = Int64((now.timeIntervalSince1970 * 1_000_000).rounded())
        return .microseconds(nowMicroseconds - Int64(clamping: lastEntryRealtime))
    }
}

/// The statistics shared between the journal thread (which counts) and whoever reads them.
final class JournalInputCounters: Sendable {
    private let state = Mutex(JournalInputStatistics())

    var snapshot: JournalInputStatistics { state.withLock { $0 } }

    func update(_ body: (inout JournalInputStatistics) -> Void) {
        state.withLock { body(&$0) }
    }
}
