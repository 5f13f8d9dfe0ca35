/// A per-node circuit breaker (closed → open → half-open), so a dead node costs one fast
/// failure instead of a timeout per call. Pure: time is passed in.
///
/// - closed: calls go through; `failureThreshold` consecutive failures open it.
/// - open: calls fail at once until `openDuration` has passed, then one trial call is let
///   through (half-open).
/// - half-open: the trial's success closes the breaker; its failure opens it again.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(since: ContinuousClock.Instant)
        case halfOpen
    }

    public var failureThreshold: Int
    public var openDuration: Duration
    public private(set) var state: State = .closed(consecutiveFailures: 0)

    public init(failureThreshold: Int = 3, openDuration: Duration = .seconds(1)) {
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
    }

    /// Whether a call may go out now. In the open state after `openDuration`, this admits one
    /// trial and moves to half-open.
    public mutating func allowsCall(at now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed:
            return true
        case .open(let since):
            guard now - since >= openDuration else { return false }
            state = .halfOpen
            return true
        case .halfOpen:
            // One trial at a time.
            return false
        }
    }

    public mutating func recordSuccess() {
        state = .closed(consecutiveFailures: 0)
    }

    public mutating func recordFailure(at now: ContinuousClock.Instant) {
        switch state {
        case .closed(let failures):
            state = failures + 1 >= failureThreshold ? .open(since: now) : .closed(consecutiveFailures: failures + 1)
        case .open:
            break
        case .halfOpen:
            state = .open(since: now)
        }
    }
}
