import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// The sd-journal handle with Swift errors. sd-journal is not thread-safe and wants one
/// handle used by one thread for its whole life: a `Journal` is created, used and closed
/// only by `JournalReader`, whose executor is one dedicated thread. No C pointer leaves it.
final class Journal {
    /// What `process()` saw since the last call.
    enum Change {
        /// Nothing relevant.
        case none
        /// Entries were appended to open files.
        case append
        /// Files were added or removed (rotation, vacuum, a new file): positions still hold.
        case invalidate
    }

    private var handle: OpaquePointer?

    /// Opens a directory of journal files, or the local system journal when `directory` is nil.
    init(directory: String?) throws(JournalError) {
        var opened: OpaquePointer?
        let r: Int32
        if let directory {
            r = sd_journal_open_directory(&opened, directory, 0)
        } else {
            r = sd_journal_open(&opened, Int32(SD_JOURNAL_LOCAL_ONLY))
        }
        guard r >= 0, let opened else {
            throw JournalError(
                operation: directory.map { "open journal directory \($0)" } ?? "open the local system journal", code: r)
        }
        handle = opened
    }

    deinit {
        close()
    }

    /// Closes the handle; later calls fail with EBADF.
    func close() {
        if let handle { sd_journal_close(handle) }
        handle = nil
    }

    private func call(_ operation: @autoclosure () -> String, _ body: (OpaquePointer) -> Int32) throws(JournalError) -> Int32 {
        guard let handle else { throw JournalError(operation: operation(), code: EBADF) }
        let r = body(handle)
        guard r >= 0 else { throw JournalError(operation: operation(), code: r) }
        return r
    }

    /// Whether a single journal file can be opened (its header is sound); the errno if not.
    static func openFailure(file path: String) -> JournalError? {
        var opened: OpaquePointer?
        let r = path.withCString { cPath -> Int32 in
            var paths: [UnsafePointer<CChar>?] = [cPath, nil]
            return sd_journal_open_files(&opened, &paths, 0)
        }
        if let opened { sd_journal_close(opened) }
        return r < 0 ? JournalError(operation: "open journal file \(path)", code: r) : nil
    }

    /// Fields whose whole `NAME=value` is at least this long are only read up to it.
    func setDataThreshold(_ bytes: Int) throws(JournalError) {
        _ = try call("set the data threshold") { sd_journal_set_data_threshold($0, bytes) }
    }

    func addMatch(_ match: JournalMatch) throws(JournalError) {
        let term = match.term
        _ = try call("add match \(term)") { handle in
            term.withCString { sd_journal_add_match(handle, $0, strlen($0)) }
        }
    }

    func addDisjunction() throws(JournalError) {
        _ = try call("add a match disjunction") { sd_journal_add_disjunction($0) }
    }

    /// The inotify descriptor that becomes readable when the journal changes.
    func fileDescriptor() throws(JournalError) -> Int32 {
        try call("get the journal's file descriptor") { sd_journal_get_fd($0) }
    }

    /// The poll events to wait for on `fileDescriptor()`.
    func events() throws(JournalError) -> Int16 {
        Int16(truncatingIfNeeded: try call("get the journal's poll events") { sd_journal_get_events($0) })
    }

    /// When to call `process()` at the latest even without an event (CLOCK_MONOTONIC µs); nil: no limit.
    func timeout() throws(JournalError) -> UInt64? {
        var usec: UInt64 = 0
        _ = try call("get the journal's timeout") { sd_journal_get_timeout($0, &usec) }
        return usec == UInt64.max ? nil : usec
    }

    /// Handles what woke the descriptor up.
    func process() throws(JournalError) -> Change {
        switch try call("process journal changes", { sd_journal_process($0) }) {
        case Int32(SD_JOURNAL_APPEND): return .append
        case Int32(SD_JOURNAL_INVALIDATE): return .invalidate
        default: return .none
        }
    }

    func seekHead() throws(JournalError) {
        _ = try call("seek to the journal's head") { sd_journal_seek_head($0) }
    }

    func seekTail() throws(JournalError) {
        _ = try call("seek to the journal's tail") { sd_journal_seek_tail($0) }
    }

    func seek(cursor: String) throws(JournalError) {
        _ = try call("seek to cursor \(cursor)") { handle in cursor.withCString { sd_journal_seek_cursor(handle, $0) } }
    }

    /// Positions before the first entry whose realtime timestamp is at least `usec`.
    func seek(realtime usec: UInt64) throws(JournalError) {
        _ = try call("seek to realtime \(usec)") { sd_journal_seek_realtime_usec($0, usec) }
    }

    /// Moves to the next entry; false at the end.
    func next() throws(JournalError) -> Bool {
        try call("move to the next journal entry") { sd_journal_next($0) } > 0
    }

    /// Moves to the previous entry; false at the start.
    func previous() throws(JournalError) -> Bool {
        try call("move to the previous journal entry") { sd_journal_previous($0) } > 0
    }

    /// Whether the current entry is the one `cursor` names.
    func test(cursor: String) throws(JournalError) -> Bool {
        try call("test cursor \(cursor)") { handle in cursor.withCString { sd_journal_test_cursor(handle, $0) } } > 0
    }

    /// The current entry's cursor.
    func cursor() throws(JournalError) -> String {
        var text: UnsafeMutablePointer<CChar>?
        _ = try call("get the entry's cursor") { sd_journal_get_cursor($0, &text) }
        guard let text else { throw JournalError(operation: "get the entry's cursor", code: ENODATA) }
        defer { free(text) }
        return String(cString: text)
    }

    /// The current entry's realtime timestamp (µs since the epoch).
    func realtime() throws(JournalError) -> UInt64 {
        var usec: UInt64 = 0
        _ = try call("get the entry's realtime timestamp") { sd_journal_get_realtime_usec($0, &usec) }
        return usec
    }

    /// The current entry's monotonic timestamp (µs) and the boot it belongs to (32 hex digits).
    func monotonic() throws(JournalError) -> (usec: UInt64, bootID: String) {
        var usec: UInt64 = 0
        var boot = sd_id128_t()
        _ = try call("get the entry's monotonic timestamp") { sd_journal_get_monotonic_usec($0, &usec, &boot) }
        return (usec, Self.hex(boot))
    }

    /// Calls `body` with each `NAME=value` field of the current entry, in the entry's order.
    /// The bytes are only valid during the call.
    func forEachField(_ body: (UnsafeRawBufferPointer) -> Void) throws(JournalError) {
        guard let handle else { throw JournalError(operation: "read the entry's fields", code: EBADF) }
        sd_journal_restart_data(handle)
        while true {
            var data: UnsafeRawPointer?
            var length = 0
            let r = sd_journal_enumerate_data(handle, &data, &length)
            guard r >= 0 else { throw JournalError(operation: "read the entry's fields", code: r) }
            guard r > 0, let data else { return }
            body(UnsafeRawBufferPointer(start: data, count: length))
        }
    }

    private static func hex(_ id: sd_id128_t) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return withUnsafeBytes(of: id.bytes) { raw in
            String(unsafeUninitializedCapacity: 32) { out in
                for (i, byte) in raw.enumerated() {
                    out[2 * i] = digits[Int(byte >> 4)]
                    out[2 * i + 1] = digits[Int(byte & 0xF)]
                }
                return 32
            }
        }
    }
}
