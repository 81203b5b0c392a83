/// What `GET /health` answers: 200 `ok` when healthy, 503 with the reason when not.
public enum HealthStatus: Sendable, Equatable {
    case healthy
    case unhealthy(reason: String)
}
