import NIOCore
import NIOSSL
import Synchronization

/// A bounded set of pipelined connections to one node, used round-robin and replaced when
/// they break, and the node's circuit breaker. With pipelining, a handful of connections
/// carries any number of tasks.
final class NodePool: Sendable {
    let endpoint: Endpoint
    private let group: any EventLoopGroup
    private let size: Int
    private let connectTimeout: Duration
    private let setup: [[[UInt8]]]
    private let tls: (options: TLSOptions, context: NIOSSLContext)?
    private let slots: Mutex<[RESPConnection?]>
    private let next = Atomic<Int>(0)
    private let breaker: Mutex<CircuitBreaker>

    init(endpoint: Endpoint, group: any EventLoopGroup, size: Int, connectTimeout: Duration, setup: [[[UInt8]]],
         tls: (options: TLSOptions, context: NIOSSLContext)?, breaker: CircuitBreaker) {
        self.tls = tls
        self.breaker = Mutex(breaker)
        self.endpoint = endpoint
        self.group = group
        self.size = max(1, size)
        self.connectTimeout = connectTimeout
        self.setup = setup
        slots = Mutex(Array(repeating: nil, count: max(1, size)))
    }

    func connection() async throws(RingcacheError) -> RESPConnection {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue % size
        if let existing = slots.withLock({ $0[index] }), existing.isActive { return existing }
        let made = try await RESPConnection.connect(to: endpoint, group: group, timeout: connectTimeout, setup: setup, tls: tls)
        let replaced: RESPConnection? = slots.withLock { slots in
            if let racing = slots[index], racing.isActive { return racing }
            slots[index] = made
            return nil
        }
        if let replaced {
            made.close()
            return replaced
        }
        return made
    }

    /// Whether the breaker lets a call go to this node now (see `CircuitBreaker`).
    func breakerAllowsCall(at now: ContinuousClock.Instant) -> Bool {
        breaker.withLock { $0.allowsCall(at: now) }
    }

    /// A call's outcome for the breaker: `failed` for a transient failure (the node may be
    /// down), false for a reply or an error that says nothing about the node's health.
    func recordOutcome(failed: Bool) {
        if failed {
            let now = ContinuousClock.now
            breaker.withLock { $0.recordFailure(at: now) }
        } else {
            breaker.withLock { $0.recordSuccess() }
        }
    }

    func closeAll() {
        let connections = slots.withLock { slots in
            defer { slots = Array(repeating: nil, count: slots.count) }
            return slots.compactMap { $0 }
        }
        for connection in connections { connection.close() }
    }
}
