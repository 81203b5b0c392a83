import Foundation
import Testing
@testable import Service

@Suite("SystemdNotifier")
struct SystemdNotifierTests {
    @Test("READY=1 with STATUS= arrives on a socket path")
    func readyOnPath() async throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        #expect(notifier.isEnabled)
        notifier.ready(status: "following 3 files")
        let arrived = try await socket.wait { !$0.isEmpty }
        #expect(arrived)
        #expect(socket.messages.map(\.text) == ["READY=1\nSTATUS=following 3 files"])
    }

    @Test("an abstract socket (@name) works")
    func abstractSocket() async throws {
        let socket = try NotifySocket(abstract: true)
        #expect(socket.address.hasPrefix("@"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        notifier.status("draining")
        notifier.watchdog()
        let arrived = try await socket.wait { $0.count == 2 }
        #expect(arrived)
        #expect(socket.messages.map(\.text) == ["STATUS=draining", "WATCHDOG=1"])
    }

    @Test("RELOADING=1 carries MONOTONIC_USEC; STOPPING=1; a status stays on one line")
    func reloadingAndStopping() async throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let before = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        notifier.reloading()
        notifier.stopping(status: "stopping:\nwaiting for 12 records")
        let arrived = try await socket.wait { $0.count == 2 }
        #expect(arrived)
        let reload = socket.messages[0].text.split(separator: "\n").map(String.init)
        #expect(reload.count == 2)
        #expect(reload.first == "RELOADING=1")
        let stamp = reload.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil }
        #expect(stamp.map { $0 >= before } == true)
        #expect(socket.messages[1].text == "STOPPING=1\nSTATUS=stopping: waiting for 12 records")
    }

    @Test("without NOTIFY_SOCKET nothing is sent and nothing fails")
    func disabled() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        try notifier.send("READY=1")
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).isEnabled)
    }

    @Test("a relative path, an over-long path and a missing socket are errors naming the socket")
    func errors() throws {
        #expect(throws: SystemdNotifyError.self) {
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative.sock"]).send("READY=1")
        }
        let long = "/" + String(repeating: "x", count: 200)
        let error = #expect(throws: SystemdNotifyError.self) {
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": long]).send("READY=1")
        }
        #expect(error?.description.contains("longer than") == true)
        let missing = NSTemporaryDirectory() + "lk-no-such-\(UUID().uuidString).sock"
        let refused = #expect(throws: SystemdNotifyError.self) {
            try SystemdNotifier(environment: ["NOTIFY_SOCKET": missing]).send("READY=1")
        }
        #expect(refused?.description.contains(missing) == true)
    }
}
