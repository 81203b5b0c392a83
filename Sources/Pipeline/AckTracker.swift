import Checkpoints
import DequeModule
import Synchronization

/// Knows, for one input, which delivered lines are done and so how far its checkpoints
/// may advance. Lines arrive in groups (one per `deliver` call) in reading order; a group
/// is done when every event made from it is accepted or given up on for good. The
/// committable position is the last checkpoint (per source key) of the longest done
/// prefix of groups: nothing after a line that is not done is ever committed.
///
/// Each group also carries the flow budget its events hold; the budget is handed back
/// with the checkpoints, to be released once they are committed, so that what was read
/// and not yet committed (what a crash would send again) never exceeds the budget.
final class AckTracker: Sendable {
    private let state = Mutex(State())

    private struct Group {
        var remaining: Int
        /// The last checkpoint of each source in the group.
        var checkpoints: [String: Checkpoint]
        var budget: Budget
    }

    /// Flow budget: events and bytes held.
    struct Budget: Sendable, Equatable {
        var events = 0
        var bytes = 0
    }

    /// What became committable: the checkpoints, and the budget to release once they are.
    struct Advance: Sendable {
        var checkpoints: [Checkpoint]
        var budget: Budget
    }

    private struct State {
        /// Sequence number of `groups.first`.
        var headSequence: UInt64 = 0
        var groups: Deque<Group> = []
        /// What the done prefix allows to commit, not yet taken by the committer.
        var advanced: [String: Checkpoint] = [:]
        var advancedBudget = Budget()
    }

    /// Registers the next group of lines, whose `events` events are still to be done,
    /// with the last checkpoint of each of its sources and the flow budget it holds;
    /// returns the group's ticket.
    func register(events: Int, bytes: Int = 0, checkpoints: [String: Checkpoint]) -> UInt64 {
        state.withLock { s in
            // A group with nothing pending behind a done tail can be folded into it.
            if events == 0, var tail = s.groups.last, tail.remaining == 0 {
                tail.checkpoints.merge(checkpoints) { _, new in new }
                s.groups[s.groups.count - 1] = tail
                Self.advanceHead(&s)
                return s.headSequence + UInt64(s.groups.count) - 1
            }
            s.groups.append(Group(remaining: events, checkpoints: checkpoints, budget: Budget(events: events, bytes: bytes)))
            let ticket = s.headSequence + UInt64(s.groups.count) - 1
            Self.advanceHead(&s)
            return ticket
        }
    }

    /// Marks `count` events of group `ticket` done.
    func complete(_ ticket: UInt64, count: Int = 1) {
        state.withLock { s in
            guard ticket >= s.headSequence else { return }
            let index = Int(ticket - s.headSequence)
            guard index < s.groups.count else { return }
            s.groups[index].remaining -= count
            if index == 0 { Self.advanceHead(&s) }
        }
    }

    /// The checkpoints that became committable since the last call, with the budget
    /// their groups held.
    func takeAdvanced() -> Advance {
        state.withLock { s in
            defer {
                s.advanced.removeAll(keepingCapacity: true)
                s.advancedBudget = Budget()
            }
            return Advance(checkpoints: Array(s.advanced.values), budget: s.advancedBudget)
        }
    }

    /// Groups not yet done (for tests and the drain).
    var pendingGroups: Int { state.withLock { s in s.groups.count } }

    private static func advanceHead(_ s: inout State) {
        while let first = s.groups.first, first.remaining <= 0 {
            s.advanced.merge(first.checkpoints) { _, new in new }
            s.advancedBudget.events += first.budget.events
            s.advancedBudget.bytes += first.budget.bytes
            s.groups.removeFirst()
            s.headSequence += 1
        }
    }
}
