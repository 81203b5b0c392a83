import Foundation
import Logging

/// Caches the credentials of a provider that fetches temporary ones (STS, the container
/// endpoint, instance metadata) and renews them ahead of their expiry so that sends are
/// not held up: once less than `prefetch` remains, the cached credentials keep being
/// returned while one fetch runs in the background; only when less than `stale` remains
/// (or there are none yet) does a caller wait for the fetch. Concurrent callers share one
/// fetch. Credentials without an expiry are fetched once.
public actor RefreshingCredentialProvider: CredentialProvider {
    public nonisolated let name: String
    let source: any CredentialProvider
    let prefetch: TimeInterval
    let stale: TimeInterval
    let retryAfterFailure: TimeInterval
    let clock: @Sendable () -> Date
    let logger: Logger

    private var current: AWSCredentials?
    private var inFlight: Task<Result<AWSCredentials, CredentialError>, Never>?
    private var lastBackgroundFailure: Date?

    /// - Parameters:
    ///   - prefetch: renew in the background when less than this is left (SDKs: 5 minutes).
    ///   - stale: below this, callers wait for fresh credentials (SDKs: 1 minute).
    ///   - retryAfterFailure: after a failed background renewal, wait this long before the next.
    public init(
        _ source: any CredentialProvider, prefetch: Duration = .seconds(300), stale: Duration = .seconds(60),
        retryAfterFailure: Duration = .seconds(10), clock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "lk-forwarder.credentials")
    ) {
        self.name = source.name
        self.source = source
        self.prefetch = prefetch.seconds
        self.stale = stale.seconds
        self.retryAfterFailure = retryAfterFailure.seconds
        self.clock = clock
        self.logger = logger
    }

    public func credentials() async throws(CredentialError) -> AWSCredentials {
        let now = clock()
        if let current {
            guard let expiration = current.expiration else { return current }
            let remaining = expiration.timeIntervalSince(now)
            if remaining > prefetch { return current }
            if remaining > stale {
                let mayRetry = lastBackgroundFailure.map { now.timeIntervalSince($0) >= retryAfterFailure } ?? true
                if inFlight == nil, mayRetry { _ = startFetch() }
                return current
            }
        }
        let result = await startFetch().value
        switch result {
        case .success(let fresh):
            return fresh
        case .failure(let error):
            if let current, let expiration = current.expiration, expiration > clock() {
                logger.warning(
                    "could not renew credentials; using the current ones until they expire",
                    metadata: ["provider": "\(name)", "error": "\(error)", "expires": "\(expiration)"])
                return current
            }
            throw error
        }
    }

    private func startFetch() -> Task<Result<AWSCredentials, CredentialError>, Never> {
        if let inFlight { return inFlight }
        let source = self.source
        let task = Task {
            let result: Result<AWSCredentials, CredentialError>
            do throws(CredentialError) {
                result = .success(try await source.credentials())
            } catch {
                result = .failure(error)
            }
            self.finish(result)
            return result
        }
        inFlight = task
        return task
    }

    private func finish(_ result: Result<AWSCredentials, CredentialError>) {
        inFlight = nil
        switch result {
        case .success(let fresh):
            current = fresh
            lastBackgroundFailure = nil
            logger.debug(
                "credentials fetched",
                metadata: [
                    "provider": "\(name)", "accessKeyId": "\(fresh.accessKeyId)",
                    "expires": "\(fresh.expiration.map { "\($0)" } ?? "never")",
                ])
        case .failure(let error):
            lastBackgroundFailure = clock()
            if current != nil {
                logger.warning("renewing credentials failed", metadata: ["provider": "\(name)", "error": "\(error)"])
            }
        }
    }
}
