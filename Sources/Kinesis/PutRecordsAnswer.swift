import JSON

/// Reads the JSON answer of PutRecords with the JSON module's parser: one pass over the
/// bytes and no `Codable` machinery, since an answer of 500 entries comes back for every
/// batch the agent sends (`JSONDecoder` took about a seventh of the agent's CPU time).
enum PutRecordsAnswer {
    /// The entries of `{"Records":[{"SequenceNumber","ShardId"} | {"ErrorCode","ErrorMessage"}, ...]}`,
    /// in order; nil when the answer is not that shape (each field a string or null, or absent).
    static func entries(_ answer: [UInt8]) -> [PutRecordsResultEntry]? {
        var entries: [PutRecordsResultEntry] = []
        let count = walk(answer) { view, entry, failure in
            if let failure {
                entries.append(.failure(code: failure.code, message: failure.message))
                return true
            }
            guard let shard = optionalString(view, entry, "ShardId"),
                let sequence = optionalString(view, entry, "SequenceNumber")
            else { return false }
            entries.append(.success(shardId: shard ?? "", sequenceNumber: sequence ?? ""))
            return true
        }
        return count == nil ? nil : entries
    }

    /// How many entries the answer has and which of them failed; nil when it is not the
    /// shape `entries` reads. Accepted entries are only counted: their shard id and
    /// sequence number are not made into strings.
    static func failures(_ answer: [UInt8]) -> (count: Int, failed: [PutRecordsFailure])? {
        var failed: [PutRecordsFailure] = []
        let count = walk(answer) { _, _, failure in
            if let failure { failed.append(failure) }
            return true
        }
        return count.map { ($0, failed) }
    }

    /// Calls `visit` for each entry of the `Records` array, in order, with the entry's
    /// failure when it has a non-empty `ErrorCode`; returns the number of entries, or nil
    /// when the answer is not the expected shape or `visit` says an entry is not.
    private static func walk(
        _ answer: [UInt8], _ visit: (JSONView, _ entry: Int, _ failure: PutRecordsFailure?) -> Bool
    ) -> Int? {
        guard let document = try? JSONDocument(parsing: answer) else { return nil }
        return document.withView { view -> Int? in
            let root = JSONDocument.rootIndex
            guard view.kind(at: root) == .object, let list = member(view, root, "Records"), view.kind(at: list) == .array
            else { return nil }
            guard let (first, end) = view.elementRange(of: list) else { return 0 }
            var index = first
            var position = 0
            while index < end {
                guard view.kind(at: index) == .object, let code = optionalString(view, index, "ErrorCode") else { return nil }
                var failure: PutRecordsFailure?
                if let code, !code.isEmpty {
                    guard let message = optionalString(view, index, "ErrorMessage") else { return nil }
                    failure = PutRecordsFailure(index: position, code: code, message: message ?? "")
                }
                guard visit(view, index, failure) else { return nil }
                index = view.indexAfter(index)
                position += 1
            }
            return position
        }
    }

    /// `.some(nil)` for a member that is absent or null, `.some(text)` for a string, nil
    /// (not the expected shape) for anything else.
    private static func optionalString(_ view: JSONView, _ object: Int, _ key: StaticString) -> String?? {
        guard let index = member(view, object, key) else { return .some(nil) }
        switch view.kind(at: index) {
        case .null: return .some(nil)
        case .string: return .some(view.string(at: index))
        default: return nil
        }
    }

    private static func member(_ view: JSONView, _ object: Int, _ key: StaticString) -> Int? {
        key.withUTF8Buffer { view.member(of: object, key: $0) }
    }
}
