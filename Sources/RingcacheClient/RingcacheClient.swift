import Cluster
import NIOCore
import NIOPosix
import NIOSSL
import RESP
import Synchronization

/// A cluster-aware async client for Ringcache (and any Redis Cluster or single Redis server).
///
/// It loads the slot table from CLUSTER SLOTS, sends each command to the node that owns its
/// key's slot, follows MOVED (patching the table and refreshing it in the background) and ASK,
/// splits multi-key calls by slot and reassembles the results in order, retries reads with
/// exponential backoff and full jitter (writes only when they were never sent), and keeps a
/// circuit breaker per node so a dead node costs one fast failure rather than a timeout per
/// call. Every call has a timeout and ends promptly when its task is cancelled.
///
///     let cache = try await RingcacheClient(configuration: .init(seeds: [Endpoint(host: "127.0.0.1", port: 7001)]))
///     try await cache.set("greeting", "hello", ttl: .seconds(60))
///     let value = try await cache.get("greeting")   // [UInt8]? — "hello"
public final class RingcacheClient: Sendable {
    public struct Configuration: Sendable {
        /// Nodes to learn the topology from; a DNS name may stand for several.
        public var seeds: [Endpoint]
        public var connectionsPerNode = 2
        public var connectTimeout: Duration = .seconds(1)
        public var commandTimeout: Duration = .seconds(2)
        /// Redirects one call follows (as redis-py's 16). Past the second, each waits a
        /// backoff first: nodes whose views briefly disagree (a slot changing hands) can send
        /// a request back and forth until gossip reaches them both.
        public var maxRedirects = 16
        public var retry = RetryPolicy()
        public var circuitBreaker = CircuitBreaker()
        /// Read from replicas too (the connection sends READONLY), spreading reads.
        public var readFromReplicas = false
        /// `AUTH` password (user `default`), sent in HELLO.
        public var password: String?
        /// Speak RESP3 (HELLO 3); RESP2 otherwise.
        public var resp3 = true
        /// Connect with TLS; nil = plain TCP.
        public var tls: TLSOptions?

        public init(seeds: [Endpoint]) {
            self.seeds = seeds
        }
    }

    public let configuration: Configuration
    let group: any EventLoopGroup
    private let state: Mutex<State>
    private let refreshing = Atomic<Bool>(false)
    let tlsContext: NIOSSLContext?

    private struct State {
        var topology: SlotTopology?
        var pools: [Endpoint: NodePool] = [:]
        var random = SystemRandomNumberGenerator()
        var replicaCursor = 0
    }

    /// Connects to a seed and loads the slot table.
    public init(configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(RingcacheError) {
        self.configuration = configuration
        self.group = group
        state = Mutex(State())
        tlsContext = try configuration.tls?.makeContext()
        try await refreshTopology()
    }

    /// Closes every connection.
    public func close() {
        let pools = state.withLock { Array($0.pools.values) }
        for pool in pools { pool.closeAll() }
    }

    // MARK: Topology

    /// Asks the known nodes (then the seeds) for CLUSTER SLOTS until one answers. A server
    /// without cluster support is a single node serving every slot.
    public func refreshTopology() async throws(RingcacheError) {
        let known = state.withLock { $0.topology?.endpoints.sorted { $0.description < $1.description } ?? [] }
        var lastError = RingcacheError.noNodeForSlot(0)
        for endpoint in known + configuration.seeds.filter({ !known.contains($0) }) {
            do {
                let reply = try await sendOnce([Array("CLUSTER".utf8), Array("SLOTS".utf8)], to: endpoint)
                let topology: SlotTopology
                if case .error(let message) = reply {
                    guard message.contains("cluster support disabled") else { throw RingcacheError.server(message) }
                    topology = .single(endpoint)
                } else if let parsed = SlotTopology(clusterSlots: reply, fallbackHost: endpoint.host), parsed.isComplete {
                    topology = parsed
                } else {
                    throw RingcacheError.server("CLUSTERDOWN \(endpoint) does not serve every slot yet")
                }
                state.withLock { $0.topology = topology }
                return
            } catch let error as RingcacheError {
                lastError = error
            } catch {
                lastError = .protocolViolation("\(error)")
            }
        }
        throw lastError
    }

    /// Refreshes in the background, at most one refresh at a time.
    private func scheduleRefresh() {
        guard refreshing.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        Task {
            defer { refreshing.store(false, ordering: .relaxed) }
            try? await refreshTopology()
        }
    }

    /// The slot table as the client currently believes it.
    public var topology: SlotTopology? { state.withLock { $0.topology } }

    // MARK: Executing

    /// Runs one command. `key` routes it (nil: any node); `isRead` allows replicas (when
    /// configured) and retries even after the request was sent.
    public func execute(_ command: [[UInt8]], key: [UInt8]?, isRead: Bool) async throws(RingcacheError) -> RESPValue {
        let slot = key.map { HashSlot.slot(for: $0) }
        var target = try route(slot: slot, isRead: isRead)
        var redirects = 0
        var attempt = 0
        var asking = false
        while true {
            do throws(RingcacheError) {
                let reply = try await send(asking ? [[Array("ASKING".utf8)], command] : [command], to: target).last!
                if case .error(let message) = reply {
                    if let redirect = Redirect(error: message) {
                        redirects += 1
                        guard redirects <= configuration.maxRedirects else { throw .tooManyRedirects(message) }
                        switch redirect {
                        case let .moved(movedSlot, endpoint):
                            state.withLock { $0.topology?.move(slot: movedSlot, to: endpoint) }
                            scheduleRefresh()
                            if redirects > 2 {
                                let delay = state.withLock { configuration.retry.delay(beforeRetry: redirects - 3, using: &$0.random) }
                                do { try await Task.sleep(for: delay) } catch { throw .cancelled }
                            }
                            target = endpoint
                            asking = false
                        case let .ask(_, endpoint):
                            target = endpoint
                            asking = true
                        }
                        continue
                    }
                    let error = RingcacheError.server(message)
                    guard error.isTransient else { return reply }
                    throw error
                }
                return reply
            } catch {
                guard error.isTransient, isRead || !error.wasSent, attempt + 1 < configuration.retry.maxAttempts else { throw error }
                scheduleRefresh()
                let delay = state.withLock { configuration.retry.delay(beforeRetry: attempt, using: &$0.random) }
                attempt += 1
                do { try await Task.sleep(for: delay) } catch { throw .cancelled }
                target = try route(slot: slot, isRead: isRead)
                asking = false
            }
        }
    }

    /// Runs one command on the node at `endpoint`, whatever slots it owns: for admin tools
    /// that ask each node about itself (INFO, CLUSTER INFO, CLUSTER LEAVE).
    public func execute(_ command: [[UInt8]], on endpoint: Endpoint) async throws(RingcacheError) -> RESPValue {
        try await send([command], to: endpoint).last!
    }

    /// The hash slot of a key, as the cluster computes it (CRC16 with hash tags).
    public static func slot(for key: String) -> Int {
        HashSlot.slot(for: Array(key.utf8))
    }

    /// The node for a slot: its primary, or for reads with `readFromReplicas` any owner in turn.
    private func route(slot: Int?, isRead: Bool) throws(RingcacheError) -> Endpoint {
        let chosen: Endpoint? = state.withLock { state in
            guard let topology = state.topology else { return configuration.seeds.first }
            guard let slot else { return topology.primary(of: 0) ?? configuration.seeds.first }
            guard let primary = topology.primary(of: slot) else { return nil }
            guard isRead && configuration.readFromReplicas else { return primary }
            let owners = [primary] + topology.replicas(of: slot)
            state.replicaCursor &+= 1
            return owners[state.replicaCursor % owners.count]
        }
        guard let chosen else { throw .noNodeForSlot(slot ?? 0) }
        return chosen
    }

    /// Sends through the node's pool, minding its circuit breaker.
    private func send(_ commands: [[[UInt8]]], to endpoint: Endpoint) async throws(RingcacheError) -> [RESPValue] {
        let pool = state.withLock { state -> NodePool in
            if let pool = state.pools[endpoint] { return pool }
            let pool = makePool(endpoint)
            state.pools[endpoint] = pool
            return pool
        }
        guard pool.breakerAllowsCall(at: ContinuousClock.now) else { throw .circuitOpen(endpoint) }
        do {
            let connection = try await pool.connection()
            let replies = try await connection.send(commands, timeout: configuration.commandTimeout)
            pool.recordOutcome(failed: false)
            return replies
        } catch {
            pool.recordOutcome(failed: error.isTransient && error != .cancelled)
            throw error
        }
    }

    private func sendOnce(_ command: [[UInt8]], to endpoint: Endpoint) async throws(RingcacheError) -> RESPValue {
        try await send([command], to: endpoint)[0]
    }

    private func makePool(_ endpoint: Endpoint) -> NodePool {
        var setup: [[[UInt8]]] = []
        var hello: [[UInt8]] = [Array("HELLO".utf8), Array((configuration.resp3 ? "3" : "2").utf8)]
        if let password = configuration.password {
            hello += [Array("AUTH".utf8), Array("default".utf8), Array(password.utf8)]
        }
        setup.append(hello)
        if configuration.readFromReplicas { setup.append([Array("READONLY".utf8)]) }
        let tls = configuration.tls.flatMap { options in tlsContext.map { (options: options, context: $0) } }
        return NodePool(endpoint: endpoint, group: group, size: configuration.connectionsPerNode,
                        connectTimeout: configuration.connectTimeout, setup: setup, tls: tls, breaker: configuration.circuitBreaker)
    }
}
