import ArgumentParser
import Config
import Foundation
import JSON
import LKEvent
import Logging
import Sinks

/// `lk-forwarder dispatch`: the lk-dispatch call from a shell. Puts one event on the
/// configured sink, waits until it is accepted, and prints it as published (one JSON line).
struct DispatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Put one lk event on the configured sink and print it as published.",
        discussion: """
            Exit codes: 0 accepted, 1 invalid input or configuration, 2 not accepted (unreachable \
            endpoint, refused credentials, retries exhausted).
            """
    )

    @OptionGroup var config: ConfigOption

    @Argument(help: "The event type, e.g. order-created.")
    var type: String

    @Option(name: .long, help: "The event's data: one JSON value (default {}).")
    var data: String?

    @Option(name: .customLong("user-id"), help: "source.userId (default null).")
    var userId: String?

    @Option(name: .customLong("partition-key"), help: "The Kinesis partition key, 1 to 256 characters (default: a fresh UUID v4).")
    var partitionKey: String?

    func run() async throws {
        try await reportingFailures {
            let eventData = try parseData()
            let configuration = try ConfigurationLoading.configuration(path: config.path)
            let event: LKEvent
            do throws(LKEventError) {
                event = try LKEvent(
                    type: type, data: eventData, timestamp: Date(), userId: userId, producerId: configuration.producerId,
                    partitionKey: partitionKey)
            } catch {
                throw Failure.invalid(error.description)
            }

            var logger = Logger(label: "lk-forwarder", factory: { StreamLogHandler.standardError(label: $0) })
            logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
            let sink: any EventSink
            do throws(SinkError) {
                sink = try makeSink(configuration.sink, logger: logger)
            } catch {
                let message = "sink: \(error.message)"
                throw error.code == SinkError.invalidConfiguration ? Failure.invalid(message) : Failure.runtime(message)
            }
            do throws(SinkError) {
                try await Dispatcher(sink: sink, producerId: configuration.producerId, logger: logger).publish(event)
            } catch {
                await sink.shutdown()
                throw Failure.runtime("the event was not accepted: \(error)")
            }
            await sink.shutdown()
            // The stdout sink has printed the event already, as published.
            if configuration.sink.type != .stdout {
                FileHandle.standardOutput.write(Data(event.encoded() + [UInt8(ascii: "\n")]))
            }
        }
    }

    /// `--data` as one JSON value; `{}` when absent.
    func parseData() throws -> RawJSON {
        guard let data else { return .emptyObject }
        do throws(JSONError) {
            return try RawJSON(validating: Array(data.utf8))
        } catch {
            throw Failure.invalid("--data is not valid JSON: \(error.message) at byte \(error.offset)")
        }
    }
}
