public enum JSONValue: Sendable, Equatable {}
