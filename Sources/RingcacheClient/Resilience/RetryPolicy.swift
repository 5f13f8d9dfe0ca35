/// Retries with exponential backoff and full jitter (the AWS Architecture Blog's "Exponential
/// Backoff and Jitter"): attempt n waits a uniformly random time in [0, min(cap, base·2ⁿ)].
///
/// Reads are retried; writes only when the failure happened before the request was sent
/// (connection refused, circuit open), since a write that reached the node may have applied.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(20), maxDelay: Duration = .milliseconds(500)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The delay before retry number `attempt` (0 = the first retry).
    public func delay(beforeRetry attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(attempt, 30)))
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds, using: &random))
    }
}
