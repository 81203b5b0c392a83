import Config
import Foundation
import Kinesis
import Logging

/// Makes the sink a configuration asks for: `kinesis` (a client of its own, shut down
/// with the sink), `file` or `stdout`. A configuration that cannot work (no stream, an
/// unknown region, a file that cannot be opened, broken credentials settings) is a
/// `fatal` error with code `InvalidConfiguration`.
public func makeSink(
    _ config: SinkConfig, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment
) throws(SinkError) -> any EventSink {
    switch config.type {
    case .kinesis:
        guard let stream = config.stream, !stream.isEmpty else {
            throw SinkError(kind: .fatal, code: SinkError.invalidConfiguration, message: "sink.stream is required for a kinesis sink")
        }
        let configuration = KinesisClient.Configuration(
            region: config.region, endpoint: config.endpoint, profile: config.profile, roleArn: config.roleArn,
            maxConnections: max(1, config.maxInFlight), environment: environment)
        let client: KinesisClient
        do {
            client = try KinesisClient(configuration: configuration, logger: logger)
        } catch {
            throw SinkError(error)
        }
        logger.debug(
            "kinesis sink",
            metadata: ["stream": "\(stream)", "endpoint": "\(client.endpoint)", "credentials": "\(client.credentialSource)"])
        return KinesisSink(client: client, stream: stream, maxRecordBytes: config.maxRecordBytes, ownsClient: true)
    case .file:
        guard let path = config.path, !path.isEmpty else {
            throw SinkError(kind: .fatal, code: SinkError.invalidConfiguration, message: "sink.path is required for a file sink")
        }
        return try FileSink(path: path)
    case .stdout:
        return StdoutSink()
    }
}
