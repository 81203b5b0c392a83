import ArgumentParser
import Config
import Foundation
import Logging
import NIOPosix
import Pipeline
import Service
import ServiceLifecycle

/// `lk-forwarder run`: the agent, until SIGTERM/SIGINT; SIGHUP reloads the configuration.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: follow every input, apply the rules, deliver, checkpoint.",
        discussion: """
            Runs until SIGTERM or SIGINT: then it stops reading, waits up to sink.drain_timeout \
            for what is in flight, commits the checkpoints and exits 0. SIGHUP reloads the \
            configuration; a configuration that does not load is refused and the running one stays. \
            Under systemd (Type=notify) it reports READY=1 once the inputs are open, STATUS= \
            summaries, and WATCHDOG=1 pings while its loops are alive.
            """
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await reportingFailures {
            let path = options.path
            let (configuration, _) = try ConfigurationLoading.load(path: path, quotingTheLine: false)
            // The loader accepts only swift-log's level names.
            let logLevel = LoggingBootstrap.bootstrap(level: LoggingBootstrap.level(named: configuration.logLevel) ?? .info)
            let logger = Logger(label: "lk-forwarder")
            let registry = MetricsBootstrap.bootstrap()
            let health = Health()
            let notifier = SystemdNotifier()
            let heartbeat = Heartbeat(name: "pipeline")

            var services: [any Service] = [
                WatchdogService(
                    notifier: notifier, settings: WatchdogSettings.fromEnvironment(),
                    eventLoop: MultiThreadedEventLoopGroup.singleton.next(), heartbeats: [heartbeat], logger: logger)
            ]
            if let listen = configuration.metricsListen {
                do {
                    let address = try ListenAddress(parsing: listen)
                    services.append(
                        try await MetricsServer.bind(
                            address, registry: registry,
                            health: { health.problem.map { .unhealthy(reason: $0) } ?? .healthy }, logger: logger))
                } catch {
                    throw Failure.runtime("\(error)")
                }
            }
            services.append(
                Agent(
                    configPath: path, configuration: configuration, health: health,
                    events: AgentEvents(
                        ready: { notifier.ready(status: "forwarding") },
                        reloading: { notifier.reloading() },
                        reloaded: { logLevel.level = LoggingBootstrap.level(named: $0.logLevel) ?? .info },
                        stopping: { notifier.stopping() },
                        status: { notifier.status($0) },
                        heartbeat: { heartbeat.beat() }),
                    logger: logger))
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            do {
                try await group.run()
            } catch {
                throw Failure.runtime("\(error)")
            }
        }
    }
}
