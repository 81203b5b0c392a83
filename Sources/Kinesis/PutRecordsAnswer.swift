import JSON

/// Reads the JSON answer of PutRecords with the JSON module's parser: one pass over the
/// bytes and no `Codable` machinery, since an answer of 500 entries comes back for every
/// batch the agent sends (`JSONDecoder` took about a seventh of the agent's CPU time).
enum PutRecordsAnswer {
    /// The entries of `{"Records":[{"SequenceNumber","ShardId"} | {"ErrorCode","ErrorMessage"}, ...]}`,
    /// in order; nil when the answer is not that shape (each field a string or null, or absent).
    static func entries(_ answer: [UInt8]) -> [PutRecordsResultEntry]? {
        guard let document = try? JSONDocument(parsing: answer) else { return nil }
        return document.withView { view -> [PutRecordsResultEntry]? in
            let root = JSONDocument.rootIndex
            guard view.kind(at: root) == .object, let list = member(view, root, "Records"), view.kind(at: list) == .array
            else { return nil }
            var entries: [PutRecordsResultEntry] = []
            entries.reserveCapacity(view.count(at: list))
            guard let (first, end) = view.elementRange(of: list) else { return entries }
            var index = first
            while index < end {
                guard view.kind(at: index) == .object,
                    let code = optionalString(view, index, "ErrorCode"),
                    let message = optionalString(view, index, "ErrorMessage"),
                    let shard = optionalString(view, index, "ShardId"),
                    let sequence = optionalString(view, index, "SequenceNumber")
                else { return nil }
                if let code, !code.isEmpty {
                    entries.append(.failure(code: code, message: message ?? ""))
                } else {
                    entries.append(.success(shardId: shard ?? "", sequenceNumber: sequence ?? ""))
                }
                index = view.indexAfter(index)
            }
            return entries
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
