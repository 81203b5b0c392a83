import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing
@testable import Service

@Suite("WatchdogService")
struct WatchdogServiceTests {
    @Test("WATCHDOG_USEC and WATCHDOG_PID decide whether the watchdog is ours")
    func settings() {
        let pid = getpid()
        #expect(WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "30000000"], pid: pid)?.interval == .seconds(30))
        #expect(WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "30000000"], pid: pid)?.pingPeriod == .seconds(15))
        #expect(
            WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "\(pid)"], pid: pid)?.interval
                == .milliseconds(500))
        #expect(WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "\(pid + 1)"], pid: pid) == nil)
        #expect(WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "0"], pid: pid) == nil)
        #expect(WatchdogSettings.fromEnvironment(["WATCHDOG_USEC": "soon"], pid: pid) == nil)
        #expect(WatchdogSettings.fromEnvironment([:], pid: pid) == nil)
    }

    @Test("pings arrive while the loop runs; none while it is blocked; they resume after")
    func blockedEventLoop() async throws {
        let socket = try NotifySocket()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let settings = WatchdogSettings(interval: .milliseconds(400))
        let watchdog = WatchdogService(
            notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address]), settings: settings,
            eventLoop: loop)
        let running = Task { try await watchdog.run() }

        #expect(try await socket.wait { $0.count >= 3 })

        // Block the event loop for three intervals; record exactly when it was blocked.
        let blocked = Mutex<(start: Duration, end: Duration)?>(nil)
        loop.execute {
            let start = NotifySocket.now()
            usleep(1_200_000)
            blocked.withLock { $0 = (start, NotifySocket.now()) }
        }
        let unblocked = try await socket.wait(for: .seconds(10)) { _ in blocked.withLock { $0 != nil } }
        #expect(unblocked)
        let window = try #require(blocked.withLock { $0 })
        // Pings resume: one that was handed over after the loop came back.
        let resumed = try await socket.wait {
            $0.contains { $0.text == "WATCHDOG=1" && $0.at > window.end + settings.pingPeriod }
        }
        #expect(resumed)
        running.cancel()
        try await running.value
        try await group.shutdownGracefully()

        // The times are the kernel's, when each datagram was queued: no ping during the block.
        let pings = socket.messages(containing: "WATCHDOG=1").map(\.at)
        #expect(pings.filter { $0 > window.start && $0 < window.end }.isEmpty)
        // The six pings handed over during the block ran late and were withheld, not sent in
        // a burst: at most the last of them (less than a period late) and the next regular one.
        #expect(pings.filter { $0 >= window.end && $0 < window.end + .milliseconds(100) }.count <= 2)
        // systemd would have seen a silence longer than the interval.
        let lastBefore = try #require(pings.last { $0 <= window.start })
        let firstAfter = try #require(pings.first { $0 >= window.end })
        #expect(firstAfter - lastBefore > settings.interval)
    }

    @Test("pings stop when a heartbeat stops advancing, and resume when it beats again")
    func staleHeartbeat() async throws {
        let socket = try NotifySocket()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let settings = WatchdogSettings(interval: .milliseconds(400))
        let heartbeat = Heartbeat(name: "pipeline")
        let watchdog = WatchdogService(
            notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address]), settings: settings,
            eventLoop: group.next(), heartbeats: [heartbeat])
        let running = Task { try await watchdog.run() }
        // The beater records when it last beat (just after, so never earlier than the beat),
        // and says when it has noticed it must stop.
        let beating = Atomic(true)
        let lastBeat = Mutex(NotifySocket.now())
        let idle = Atomic(false)
        let beater = Task {
            while !Task.isCancelled {
                if beating.load(ordering: .acquiring) {
                    heartbeat.beat()
                    lastBeat.withLock { $0 = NotifySocket.now() }
                    idle.store(false, ordering: .releasing)
                } else {
                    idle.store(true, ordering: .releasing)
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        #expect(try await socket.wait { $0.count >= 3 })
        beating.store(false, ordering: .releasing)
        #expect(try await socket.wait { _ in idle.load(ordering: .acquiring) })
        let stoppedBeating = lastBeat.withLock { $0 }
        // Wait well past the interval, then beat again.
        try await Task.sleep(for: .milliseconds(1_200))
        let silentUntil = NotifySocket.now()
        beating.store(true, ordering: .releasing)
        let resumed = try await socket.wait { $0.contains { $0.at > silentUntil } }
        #expect(resumed)
        beater.cancel()
        running.cancel()
        try await running.value
        try await group.shutdownGracefully()

        let pings = socket.messages(containing: "WATCHDOG=1").map(\.at)
        // Once the last beat is older than the interval no ping goes out (the slack covers
        // the instructions between the age check and the send).
        let late = pings.filter { $0 > stoppedBeating + settings.interval + .milliseconds(100) && $0 < silentUntil }
        #expect(late.isEmpty)
        // There was a silence: pings went out while the heartbeat was fresh, then stopped.
        #expect(pings.contains { $0 < stoppedBeating })
    }

    @Test("without a watchdog the service waits for graceful shutdown and sends nothing")
    func disabledWaitsForShutdown() async throws {
        let socket = try NotifySocket()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let watchdog = WatchdogService(
            notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address]), settings: nil,
            eventLoop: group.next())
        let serviceGroup = ServiceGroup(services: [watchdog], logger: Logger(label: "test"))
        let running = Task { try await serviceGroup.run() }
        try await Task.sleep(for: .milliseconds(200))
        await serviceGroup.triggerGracefulShutdown()
        try await running.value
        try await group.shutdownGracefully()
        #expect(socket.messages.isEmpty)
    }
}
