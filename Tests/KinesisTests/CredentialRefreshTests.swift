import AsyncHTTPClient
import Foundation
import Testing

@testable import Kinesis

/// Temporary credentials are renewed before they expire, behind the callers' backs, from a
/// real endpoint (the harness's ECS endpoint, which issues a new generation per fetch:
/// ASIATEST1, ASIATEST2, ...). The provider's clock is moved by hand; the endpoint's
/// expiries are real.
@Suite struct CredentialRefreshTests {
    let metadata: MetadataPeer
    let clock = ManualClock()

    init() async throws {
        metadata = try await MetadataPeer()
    }

    /// Runs `body` with a refreshing provider over the ECS endpoint.
    func withProvider(_ body: (RefreshingCredentialProvider) async throws -> Void) async throws {
        try await withHTTPClient { http in
            let source = ContainerCredentialProvider(url: metadata.url + "/ecs/credentials", token: .none, httpClient: http)
            try await body(RefreshingCredentialProvider(source, clock: clock.function))
        }
    }

    func fetches() async throws -> Int { try await metadata.stats()["ecs_credentials"] ?? -1 }

    @Test func renewedAheadOfExpiryWithoutHoldingCallers() async throws {
        try await withProvider { provider in
            let first = try await provider.credentials()
            #expect(first.accessKeyId == "ASIATEST1")
            let expiration = try #require(first.expiration)

            for _ in 0..<20 { #expect(try await provider.credentials() == first) }
            #expect(try await fetches() == 1)

            // Four minutes left: the current credentials come back at once although the
            // endpoint now takes a second to answer; the renewal runs in the background.
            // (The next generation lives two hours, so it is far from its own renewal.)
            try await metadata.configure(#"{"delay": 1.0, "lifetime": 7200}"#)
            clock.set(expiration.addingTimeInterval(-240))
            let started = ContinuousClock.now
            #expect(try await provider.credentials() == first)
            #expect(try await provider.credentials() == first)
            #expect(ContinuousClock.now - started < .milliseconds(500))
            let renewed = await eventually { (try? await provider.credentials())?.accessKeyId == "ASIATEST2" }
            #expect(renewed)
            #expect(try await fetches() == 2)

            // Thirty seconds left: the caller waits for fresh credentials.
            try await metadata.configure(#"{"delay": 0}"#)
            let second = try await provider.credentials()
            clock.set(try #require(second.expiration).addingTimeInterval(-30))
            #expect(try await provider.credentials().accessKeyId == "ASIATEST3")
            #expect(try await fetches() == 3)
        }
    }

    @Test func concurrentCallersShareOneFetch() async throws {
        try await metadata.configure(#"{"delay": 0.3}"#)
        try await withProvider { provider in
            let keys = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 { group.addTask { try await provider.credentials().accessKeyId } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(keys == ["ASIATEST1"])
            #expect(try await fetches() == 1)
        }
    }

    @Test func aFailedRenewalKeepsTheCurrentCredentialsUntilTheyExpire() async throws {
        try await withProvider { provider in
            let first = try await provider.credentials()
            let expiration = try #require(first.expiration)
            try await metadata.configure(#"{"fail": 100}"#)

            clock.set(expiration.addingTimeInterval(-240))
            #expect(try await provider.credentials() == first)
            #expect(await eventually { (try? await self.metadata.stats()["failed"]) == 1 })

            clock.set(expiration.addingTimeInterval(-30))
            #expect(try await provider.credentials() == first)

            clock.set(expiration.addingTimeInterval(1))
            await #expect {
                try await provider.credentials()
            } throws: { error in
                (error as? CredentialError)?.provider == "container endpoint" && "\(error)".contains("HTTP 500")
            }

            try await metadata.configure(#"{"fail": 0}"#)
            #expect(try await provider.credentials().accessKeyId == "ASIATEST2")
        }
    }

    @Test func longTermCredentialsAreFetchedOnce() async throws {
        try await metadata.configure(
            #"{"lifetime": null, "credentials": {"AccessKeyId": "AKIDLONGTERM", "SecretAccessKey": "s", "Token": null}}"#)
        try await withProvider { provider async throws in
            clock.set(Date().addingTimeInterval(10 * 365 * 86400))
            for _ in 0..<5 { #expect(try await provider.credentials().accessKeyId == "AKIDLONGTERM") }
            #expect(try await fetches() == 1)
        }
    }
}
