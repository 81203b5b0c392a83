import ArgumentParser
import Foundation

/// A failure that ends a command with one clear line on stderr and the spec's exit code:
/// 1 for invalid input or configuration, 2 for a runtime failure.
struct Failure: Error, CustomStringConvertible {
    enum Kind {
        case invalidInput
        case runtime
    }

    let kind: Kind
    let message: String

    static func invalid(_ message: String) -> Failure { Failure(kind: .invalidInput, message: message) }
    static func runtime(_ message: String) -> Failure { Failure(kind: .runtime, message: message) }

    var description: String { message }

    /// Prints the message and exits with the code for its kind.
    func exit() -> Never {
        FileHandle.standardError.write(Data("lk-forwarder: \(message)\n".utf8))
        Foundation.exit(kind == .invalidInput ? 1 : 2)
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning a `Failure` into its line on stderr and its exit code.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as Failure {
            failure.exit()
        }
    }
}
