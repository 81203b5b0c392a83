/// The version `--version` prints and the .deb carries.
enum LKForwarderVersion {
    static let current = "0.1.0"
}
