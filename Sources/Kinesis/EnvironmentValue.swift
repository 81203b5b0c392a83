extension Optional where Wrapped == String {
    /// The value, unless it is nil or empty: an environment variable set to "" counts as unset.
    var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}
