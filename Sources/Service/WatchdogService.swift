import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The systemd watchdog as systemd hands it to a service: `WATCHDOG_USEC` (the interval
/// after which a silent service is killed and restarted) and `WATCHDOG_PID` (the process
/// that must ping; when it names another process the watchdog is not ours).
public struct WatchdogSettings: Sendable, Equatable {
    /// The interval systemd waits for a ping.
    public let interval: Duration

    public init(interval: Duration) {
        self.interval = interval
    }

    /// How often to ping: half the interval, as sd_watchdog_enabled(3) advises.
    public var pingPeriod: Duration { interval / 2 }

    /// The settings from the environment, or nil when the watchdog is off or not for
    /// this process.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        pid: Int32 = getpid()
    ) -> WatchdogSettings? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty {
            guard Int32(owner) == pid else { return nil }
        }
        return WatchdogSettings(interval: .microseconds(Int64(clamping: usec)))
    }
}

/// Pings the systemd watchdog (`WATCHDOG=1`) only while the agent is alive, so that a hung
/// agent is restarted. Each period the ping is handed to the agent's event loop and is
/// sent only if that loop runs it promptly (a blocked event loop sends nothing) and every
/// heartbeat was renewed within the watchdog interval (a stuck pipeline sends nothing).
/// The period itself is timed on Swift's cooperative pool, so a starved pool sends nothing
/// either. With no watchdog configured it just waits for shutdown.
///
/// Put it in the `ServiceGroup` before the services it watches: services stop in reverse
/// order, so it keeps pinging while they drain.
public struct WatchdogService: Service {
    private let notifier: SystemdNotifier
    private let settings: WatchdogSettings?
    private let eventLoop: any EventLoop
    private let heartbeats: [Heartbeat]
    private let logger: Logger
    private let state = PingState()

    /// - Parameters:
    ///   - settings: from `WatchdogSettings.fromEnvironment()`; nil turns the service into
    ///     a no-op that waits for shutdown.
    ///   - eventLoop: the loop whose liveness the ping proves (by default one of NIO's shared
    ///     event loops, which AsyncHTTPClient and the metrics server also run on).
    ///   - heartbeats: the parts that must have beaten within `settings.interval`.
    public init(
        notifier: SystemdNotifier, settings: WatchdogSettings?,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
        heartbeats: [Heartbeat] = [], logger: Logger = Logger(label: "lk-forwarder.watchdog")
    ) {
        self.notifier = notifier
        self.settings = settings
        self.eventLoop = eventLoop
        self.heartbeats = heartbeats
        self.logger = logger
    }

    public func run() async throws {
        guard let settings else {
            try? await gracefulShutdown()
            return
        }
        logger.debug("watchdog on", metadata: ["interval": "\(settings.interval)"])
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.tick(settings)
                try await Task.sleep(for: settings.pingPeriod)
            }
        }
    }

    /// Hands one ping to the event loop, stamped with when it was handed over.
    private func tick(_ settings: WatchdogSettings) {
        let handedOver = NIODeadline.now()
        eventLoop.execute {
            let delay = NIODeadline.now() - handedOver
            if delay > TimeAmount(settings.pingPeriod) {
                self.withhold("the event loop ran the ping \(delay.nanoseconds / 1_000_000) ms late")
                return
            }
            if let stale = self.heartbeats.first(where: { $0.age > settings.interval }) {
                self.withhold("\(stale.name) has not made progress for \(stale.age)")
                return
            }
            self.notifier.watchdog()
            if self.state.set(withheld: false) { self.logger.notice("watchdog pings resumed") }
        }
    }

    /// Skips a ping, logging the first of a run of skipped pings.
    private func withhold(_ reason: String) {
        if state.set(withheld: true) { logger.error("watchdog ping withheld", metadata: ["reason": "\(reason)"]) }
    }
}

/// Whether the watchdog is currently withholding pings, so that only changes are logged.
private final class PingState: Sendable {
    private let withheld = Atomic(false)

    /// Sets the state; true when it changed.
    func set(withheld value: Bool) -> Bool {
        withheld.exchange(value, ordering: .relaxed) != value
    }
}
