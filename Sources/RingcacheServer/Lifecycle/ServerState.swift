import CacheEngine
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// What every connection and background service of one node shares.
///
/// The engine is one keyspace behind one lock. With the default `io-threads 1` every connection
/// lives on the same event loop, so the lock is never contended and costs a few nanoseconds;
/// with more threads it serialises keyspace access the way Redis's single thread does, while
/// parsing and reply encoding run in parallel.
public final class ServerState: Sendable {
    let engine: LockedEngine
    let configuration: Mutex<ServerConfiguration>
    let clients = ClientRegistry()
    let stats = ServerStats()
    let snapshots: SnapshotManager
    let commandStats = CommandStatistics()
    let slowLog = SlowLog()
    let monitors = MonitorFeed()
    let pubsub = PubSubHub()
    let blocking = BlockingRegistry()
    let acl = ACLStore()
    /// `protected-mode`, `client-rate-limit` (ops per second, burst), as of the last CONFIG SET.
    let protectedMode: Atomic<Bool>
    let clientRateLimit: Atomic<Int>
    let clientRateBurst: Atomic<Int>
    let latencyMonitor = LatencyMonitor()
    /// This node's place in the cluster: membership, the ring, the bus.
    let cluster: ClusterNode
    /// Replication, fills and hand-offs between the owners of each slot.
    let replication: ReplicationService
    /// `min-replicas-ack` and `replica-ack-timeout` (ms).
    let minReplicasAck: Int
    let replicaAckTimeout: Int
    /// Connections to other nodes for `cluster-routing proxy`.
    let proxies = ProxyConnections(group: MultiThreadedEventLoopGroup.singleton)
    /// Set once the client listener accepts connections (the admin port's /ready).
    let ready = Atomic<Bool>(false)
    /// What to do about a snapshot when the process stops: see `FinalSave`.
    let finalSave = Atomic<Int>(FinalSave.ifSavePoints.rawValue)
    /// BGSAVE SCHEDULE asked for a save while one was running.
    let saveScheduled = Atomic<Bool>(false)
    let logger: Logger
    let startTime: Int64
    /// 40 hex digits identifying this run of the process (INFO's `run_id`).
    let runID: String

    static func makeRunID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<20).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }.joined()
    }

    /// Configuration read on every request, kept in atomics so connections need no lock.
    let protoMaxBulkLength: Atomic<Int>
    let clientQueryBufferLimit: Atomic<Int>
    let maxClients: Atomic<Int>
    /// `client-output-buffer-limit normal`, for the connection handlers.
    let normalOutputLimits = OutputLimits()
    /// `maxblockedclients`: clients that may wait in blocking commands at once (0 = no cap).
    let maxBlockedClients: Atomic<Int>
    let slowlogThreshold: Atomic<Int>
    let latencyTracking: Atomic<Bool>
    let proxyRouting: Atomic<Bool>
    let latencyMonitorThreshold: Atomic<Int>

    init(configuration: ServerConfiguration, cluster: ClusterNode, linkTLS: LinkTLS?, logger: Logger, now: Int64, seed: UInt64, runID: String) {
        self.cluster = cluster
        engine = LockedEngine(Engine(seed: seed, configuration: configuration.engineConfiguration))
        replication = ReplicationService(localID: cluster.localID, configuration: configuration, linkTLS: linkTLS, engine: engine, logger: logger,
                                         setPhase: { [cluster] phase in cluster.setPhase(phase) })
        minReplicasAck = configuration.minReplicasAck
        replicaAckTimeout = configuration.replicaAckTimeout
        self.configuration = Mutex(configuration)
        self.logger = logger
        snapshots = SnapshotManager(now: now)
        startTime = now
        self.runID = runID
        protoMaxBulkLength = Atomic(configuration.protoMaxBulkLength)
        clientQueryBufferLimit = Atomic(configuration.clientQueryBufferLimit)
        maxClients = Atomic(configuration.maxClients)
        maxBlockedClients = Atomic(configuration.maxBlockedClients)
        slowlogThreshold = Atomic(configuration.slowlogThreshold)
        latencyTracking = Atomic(configuration.latencyTracking)
        proxyRouting = Atomic(configuration.clusterRouting == .proxy)
        latencyMonitorThreshold = Atomic(configuration.latencyMonitorThreshold)
        protectedMode = Atomic(configuration.protectedMode)
        clientRateLimit = Atomic(configuration.clientRateLimit)
        clientRateBurst = Atomic(configuration.clientRateBurst)
        if !configuration.requirePass.isEmpty { acl.setDefaultPassword(configuration.requirePass) }
        applyOutputLimits(configuration)
    }

    private func applyOutputLimits(_ configuration: ServerConfiguration) {
        pubsub.outputLimits.set(configuration.outputBufferLimits["pubsub"] ?? [0, 0, 0])
        normalOutputLimits.set(configuration.outputBufferLimits["normal"] ?? [0, 0, 0])
    }

    /// Applies CONFIG SET to the configuration and to everything that caches parts of it.
    func update(_ body: (inout ServerConfiguration) throws(ConfigurationError) -> Void) throws(ConfigurationError) {
        let previousPassword = configuration.withLock { $0.requirePass }
        let updated = try configuration.withLock { configuration throws(ConfigurationError) -> ServerConfiguration in
            var candidate = configuration
            try body(&candidate)
            configuration = candidate
            return candidate
        }
        protoMaxBulkLength.store(updated.protoMaxBulkLength, ordering: .relaxed)
        clientQueryBufferLimit.store(updated.clientQueryBufferLimit, ordering: .relaxed)
        maxClients.store(updated.maxClients, ordering: .relaxed)
        slowlogThreshold.store(updated.slowlogThreshold, ordering: .relaxed)
        latencyTracking.store(updated.latencyTracking, ordering: .relaxed)
        proxyRouting.store(updated.clusterRouting == .proxy, ordering: .relaxed)
        latencyMonitorThreshold.store(updated.latencyMonitorThreshold, ordering: .relaxed)
        protectedMode.store(updated.protectedMode, ordering: .relaxed)
        applyOutputLimits(updated)
        maxBlockedClients.store(updated.maxBlockedClients, ordering: .relaxed)
        clientRateLimit.store(updated.clientRateLimit, ordering: .relaxed)
        clientRateBurst.store(updated.clientRateBurst, ordering: .relaxed)
        if updated.requirePass != previousPassword { acl.setDefaultPassword(updated.requirePass) }
        engine.withEngine { $0.configuration = updated.engineConfiguration }
    }
}

/// Whether the process writes a snapshot on its way out (Redis's SHUTDOWN semantics: by
/// default only when save points are configured).
enum FinalSave: Int {
    case ifSavePoints = 0
    case always = 1
    case never = 2
}

/// Process-wide counters with Redis's INFO names. Connections add to them once per read, not
/// once per command, so counting costs the hot path almost nothing.
final class ServerStats: Sendable {
    let totalConnectionsReceived = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
    let totalCommandsProcessed = Atomic<Int>(0)
    let totalNetInputBytes = Atomic<Int>(0)
    let totalNetOutputBytes = Atomic<Int>(0)
    /// Commands per second over the last sampling window, kept by the maintenance service.
    let instantaneousOpsPerSecond = Atomic<Int>(0)

    /// CONFIG RESETSTAT.
    func reset() {
        totalConnectionsReceived.store(0, ordering: .relaxed)
        rejectedConnections.store(0, ordering: .relaxed)
        totalCommandsProcessed.store(0, ordering: .relaxed)
        totalNetInputBytes.store(0, ordering: .relaxed)
        totalNetOutputBytes.store(0, ordering: .relaxed)
    }
}
