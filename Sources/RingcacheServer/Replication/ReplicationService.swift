import CacheEngine
import Cluster
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

typealias Atomic = Synchronization.Atomic

/// The I/O shell of replication and rebalancing (issue 6): the TCP side of the cluster bus.
///
/// - Writes: a write command on a node stamps its keys with a hybrid-logical-clock version and
///   queues each key's new state to the slot's other owners, now and next (`OwnershipPlan`).
/// - Fills: a node that will own slots it does not hold asks a current owner to stream them
///   (`fillRequest` → `fillBegin`, the keys, `fillEnd`); a joining node takes its slots only
///   once every one is filled, and a leaving node goes only once it has handed its slots over.
/// - Everything is applied by version, last writer wins, so replays, fills racing live writes
///   and the two sides of a healed partition all converge.
///
/// It runs on an event loop of its own. Lock order: engine, then plan, then a link.
final class ReplicationService: Sendable {
    let localID: NodeID
    let logger: Logger
    let engine: LockedEngine
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let hmac: HMACSHA256
    /// TLS for the links under `tls-replication` / `tls-cluster`; nil = plain TCP (still
    /// HMAC-authenticated).
    let linkTLS: LinkTLS?
    private let bindHost: String
    private let busPort: Int
    private let clock: Mutex<HybridLogicalClock>
    private let routing = Mutex<Routing?>(nil)
    let fill = Mutex<FillState>(FillState())
    /// Fills being received, by donor: a donor may stream several at once (a fill asked in one
    /// tick, a recheck or more slots in a later one), over disjoint slots.
    let merges = Mutex<[NodeID: [(slots: SlotRanges, merge: SlotMerge)]]>([:])
    private let listener = Mutex<Channel?>(nil)
    /// Set while the ring has other nodes: writes are versioned and replicated.
    let isActive = Atomic<Bool>(false)
    let authenticationFailures = Atomic<Int>(0)
    let migrationBytesPerSecond: Atomic<Int>
    let statistics = Statistics()
    /// How this node changes its phase (the membership lives in `ClusterNode`).
    let setPhase: @Sendable (MemberPhase) -> Void

    final class Statistics: Sendable {
        let keysApplied = Atomic<Int>(0)
        let keysStreamed = Atomic<Int>(0)
        let bytesStreamed = Atomic<Int>(0)
        let fillsServed = Atomic<Int>(0)
        let slotsFilled = Atomic<Int>(0)
        let keysPurged = Atomic<Int>(0)
        let slotsIdentical = Atomic<Int>(0)
        let slotsRechecked = Atomic<Int>(0)
    }

    /// The plan and the links it routes writes over, replaced together on every ring change.
    struct Routing {
        var plan: OwnershipPlan
        var links: [NodeID: ReplicationLink]
        /// Per slot, the links a write goes to (shared arrays for equal target lists).
        var targets: [[ReplicationLink]]
        var localPhase: MemberPhase
    }

    /// One acknowledgement a write waits for: WAIT and `min-replicas-ack`.
    struct Ticket: Sendable {
        let link: ReplicationLink
        let sequence: UInt64
    }

    init(localID: NodeID, configuration: ServerConfiguration, linkTLS: LinkTLS?, engine: LockedEngine, logger: Logger,
         setPhase: @escaping @Sendable (MemberPhase) -> Void) {
        self.localID = localID
        self.linkTLS = linkTLS
        self.logger = logger
        self.engine = engine
        self.setPhase = setPhase
        hmac = HMACSHA256(key: Array(configuration.clusterSecret.utf8))
        bindHost = configuration.bind.first.map { $0 == "*" ? "0.0.0.0" : ($0.hasPrefix("-") ? String($0.dropFirst()) : $0) } ?? "127.0.0.1"
        busPort = configuration.effectiveClusterPort
        clock = Mutex(HybridLogicalClock(nodeID: localID))
        migrationBytesPerSecond = Atomic(configuration.migrationMaxBytesPerSecond)
        if configuration.clusterSeeds.isEmpty {
            // A node that founds its cluster holds every slot it starts with, empty or loaded
            // from its snapshot: there is nobody to fill it from.
            fill.withLock { $0.filled = [Bool](repeating: true, count: HashSlot.count) }
        }
    }

    func proof(nonce: [UInt8], id: NodeID) -> [UInt8] {
        hmac.authenticate(nonce + ReplicationCodec.idBytes(id))
    }

    // MARK: Lifecycle

    func start() async throws {
        let service = self
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [linkTLS] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let linkTLS {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: linkTLS.accepting))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ReplicationFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(ReplicationInboundHandler(service: service))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: bindHost, port: busPort).get()
            listener.withLock { $0 = channel }
        } catch {
            throw StartupError("can't bind the replication link listener to \(bindHost):\(busPort) (TCP): \(error)")
        }
        group.next().scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            service.maintain(now: WallClock.milliseconds())
        }
    }

    func stop() async {
        let links = routing.withLock { $0?.links.values.map { $0 } ?? [] }
        for link in links { link.close() }
        if let channel = listener.withLock({ $0 }) { try? await channel.close() }
        try? await group.shutdownGracefully()
    }

    // MARK: Ring changes

    /// Adopts the ring `view` describes: new links for new peers, closed links for peers that
    /// left both rings, and a new routing table for writes.
    func viewChanged(_ view: ClusterView, now: Int64) {
        let plan = OwnershipPlan(localID: localID, current: view.map, next: view.nextMap)
        let addresses = Dictionary(view.members.map { ($0.record.id, $0.record.address) }, uniquingKeysWith: { first, _ in first })
        let localPhase = view.members.first(where: \.isLocal)?.record.phase ?? .serving
        let previous = routing.withLock { $0?.plan }
        let closed: [ReplicationLink] = routing.withLock { routing in
            var links: [NodeID: ReplicationLink] = [:]
            var peers = Set(plan.current.nodes)
            peers.formUnion(plan.next.nodes)
            peers.remove(localID)
            for id in peers {
                if let existing = routing?.links[id], existing.address == addresses[id] {
                    links[id] = existing
                } else if let address = addresses[id] {
                    links[id] = ReplicationLink(peer: id, address: address, service: self)
                }
            }
            var interned: [[NodeID]: [ReplicationLink]] = [:]
            let targets = plan.targets.map { ids in
                if let shared = interned[ids] { return shared }
                let resolved = ids.compactMap { links[$0] }
                interned[ids] = resolved
                return resolved
            }
            let closed = (routing?.links ?? [:]).filter { links[$0.key] !== $0.value }.map(\.value)
            // Ahead of anything sent by the new plan, so a fill served by it reaches the peer
            // after the recheck (which the peer then ignores, the slot not being filled yet).
            if let previous = routing?.plan, localPhase == .serving {
                owePeersTheirSlots(gained: plan.targetsGained(since: previous), over: links)
            }
            routing = Routing(plan: plan, links: links, targets: targets, localPhase: localPhase)
            return closed
        }
        for link in closed { link.close() }
        if let previous { logTakeover(from: previous, to: plan) }
        let active = !(plan.current.nodes.count <= 1 && plan.next.nodes.count <= 1)
        if active && !isActive.load(ordering: .relaxed) {
            // From the first peer on, every entry carries a version (a lone node saves the
            // eight bytes per key).
            engine.withEngine { $0.versioning = true }
        }
        isActive.store(active, ordering: .relaxed)
        fill.withLock { $0.planChanged(now: now, joined: view.isJoined) }
        group.next().execute { self.maintain(now: WallClock.milliseconds()) }
    }

    /// Tells each peer this node now writes to for slots it did not before which slots those
    /// are: a peer that held them all along (only this node had it dead) rechecks them. Only a
    /// serving node sends it: one joining, or fenced and refilling, took no writes since, and
    /// its own fills' merges send back what it wrote before.
    private func owePeersTheirSlots(gained: [NodeID: [Int]], over links: [NodeID: ReplicationLink]) {
        for (peer, slots) in gained {
            links[peer]?.enqueue(.recheck(SlotRanges(slots: slots)))
        }
    }

    /// One log line per member whose slots this node became primary of because it is gone
    /// (died or left): the failover, as it happens.
    private func logTakeover(from previous: OwnershipPlan, to plan: OwnershipPlan) {
        var taken: [NodeID: Int] = [:]
        let remaining = Set(plan.current.nodes)
        for slot in 0..<HashSlot.count where plan.current.primary(of: slot) == localID {
            if let former = previous.current.primary(of: slot), former != localID, !remaining.contains(former) {
                taken[former, default: 0] += 1
            }
        }
        for (former, slots) in taken {
            logger.notice("Failover: primary now of the slots of a member that is gone", metadata: ["former": "\(former.short)", "slots": "\(slots)"])
        }
    }

    func currentRouting() -> Routing? {
        routing.withLock { $0 }
    }

    func link(to peer: NodeID) -> ReplicationLink? {
        routing.withLock { $0?.links[peer] }
    }

    // MARK: Writes

    /// A version for the write about to run. Call with the engine lock held.
    func nextVersion(now: Int64) -> UInt64 {
        clock.withLock { $0.next(now: now) }
    }

    /// Queues the keys the last write changed to their slots' other owners. Call with the
    /// engine lock held, right after the write, so the queue order is the write order.
    /// Returns whether the write changed anything.
    @discardableResult
    func replicateChanges(of engine: Engine, version: UInt64, now: Int64, tickets: inout [Ticket]) -> Bool {
        let keys = engine.takeChangedKeys()
        guard !keys.isEmpty else { return false }
        guard let targets = routing.withLock({ $0?.targets }) else { return true }
        for key in keys {
            let links = targets[HashSlot.slot(for: key)]
            guard !links.isEmpty else { continue }
            let record = engine.replicatedState(of: key, deletedVersion: version, now: now)
            for link in links {
                tickets.append(Ticket(link: link, sequence: link.enqueue(.write(record))))
            }
        }
        return true
    }

    /// How many other nodes a write to `slot` would reach: its other owners in the current
    /// and the next ring, as this node sees them. A node cut off from the others sees no
    /// owners but itself once it has declared them dead.
    func replicaCount(ofSlot slot: Int) -> Int {
        routing.withLock { $0?.targets[slot].count ?? 0 }
    }

    /// Sends the keys that expired here, for slots this node is the primary of, to their
    /// other owners as tombstones (they expire them at the same instant on their own; the
    /// tombstone settles it if clocks differ). Called from the background cycle.
    func replicateExpirations(now: Int64) {
        guard isActive.load(ordering: .relaxed), let routing = currentRouting() else { return }
        engine.withEngine { engine in
            for record in engine.takeExpirations(now: now) {
                let slot = HashSlot.slot(for: record.key)
                guard routing.plan.current.primary(of: slot) == localID else { continue }
                for link in routing.targets[slot] { link.enqueue(.write(record)) }
            }
        }
    }

    /// Calls `done` with how many distinct peers acknowledged every ticket, once `needed` of
    /// them have or `timeout` passes, on `eventLoop`.
    func waitForAcknowledgements(_ tickets: [Ticket], needed: Int, timeout: TimeAmount, on eventLoop: EventLoop) -> EventLoopFuture<Int> {
        // The last ticket per peer covers the earlier ones: acknowledgements are cumulative.
        var latest: [NodeID: Ticket] = [:]
        for ticket in tickets { latest[ticket.link.peer] = ticket }
        let promise = eventLoop.makePromise(of: Int.self)
        let waited = Array(latest.values)
        let count: @Sendable () -> Int = { waited.filter { $0.link.isAcknowledged($0.sequence) }.count }
        if count() >= needed || latest.count < needed {
            promise.succeed(count())
            return promise.futureResult
        }
        let finished = NIOLockedValueBox(false)
        let finish: @Sendable () -> Void = {
            let first = finished.withLockedValue { done in
                defer { done = true }
                return !done
            }
            if first { promise.succeed(count()) }
        }
        let timer = eventLoop.scheduleTask(in: timeout) { finish() }
        for ticket in latest.values {
            ticket.link.whenAcknowledged(ticket.sequence) {
                if count() >= needed {
                    timer.cancel()
                    finish()
                }
            }
        }
        return promise.futureResult
    }

    // MARK: Reporting

    /// CLUSTER INFO and INFO cluster: where moves stand and what replication holds.
    func infoFields(_ view: ClusterView) -> [(String, String)] {
        let routing = currentRouting()
        let links = routing.map { Array($0.links.values) } ?? []
        let (filling, filled, streaming, purging) = fill.withLock { state in
            (state.slotsFilling, state.filled.reduce(0) { $0 + ($1 ? 1 : 0) }, state.streaming, state.purge.count + state.purging)
        }
        let phase = view.members.first(where: \.isLocal)?.record.phase ?? .serving
        return [
            ("cluster_node_phase", "\(phase)"),
            ("cluster_slots_moving", String(routing?.plan.slotsMoving ?? 0)),
            ("cluster_slots_filling", String(filling)),
            ("cluster_slots_held", String(filled)),
            ("cluster_fills_streaming", String(streaming)),
            ("cluster_migration_keys_sent", String(statistics.keysStreamed.load(ordering: .relaxed))),
            ("cluster_migration_bytes_sent", String(statistics.bytesStreamed.load(ordering: .relaxed))),
            ("cluster_migration_slots_received", String(statistics.slotsFilled.load(ordering: .relaxed))),
            ("cluster_replication_links", String(links.count)),
            ("cluster_replication_links_up", String(links.filter(\.isConnected).count)),
            ("cluster_replication_pending_ops", String(links.reduce(0) { $0 + $1.pendingCount })),
            ("cluster_replication_keys_applied", String(statistics.keysApplied.load(ordering: .relaxed))),
            ("cluster_replication_tombstones", String(engine.withEngine { $0.tombstoneCount })),
            ("cluster_replication_auth_failed", String(authenticationFailures.load(ordering: .relaxed))),
            ("cluster_keys_purged", String(statistics.keysPurged.load(ordering: .relaxed))),
            ("cluster_slots_purge_pending", String(purging)),
            ("cluster_migration_slots_identical", String(statistics.slotsIdentical.load(ordering: .relaxed))),
            ("cluster_slots_rechecked", String(statistics.slotsRechecked.load(ordering: .relaxed))),
        ]
    }

    // MARK: Receiving

    /// Applies one batch from `peer`, in order. Writes for slots a fill from `peer` is
    /// merging count towards that merge.
    func applyBatch(_ ops: [ReplicationOp], from peer: NodeID) {
        var writes: [ReplicatedKey] = []
        func flushWrites() {
            guard !writes.isEmpty else { return }
            let now = WallClock.milliseconds()
            let newest = writes.map(\.version).max() ?? 0
            let applied = merges.withLock { merges in
                engine.withEngine { engine in
                    clock.withLock { $0.observe(newest) }
                    var applied = 0
                    for record in writes {
                        let changed: Bool
                        let slot = HashSlot.slot(for: record.key)
                        if let index = merges[peer]?.firstIndex(where: { $0.merge.slots[slot] }) {
                            changed = engine.apply(record, merging: &merges[peer]![index].merge, now: now)
                        } else {
                            changed = engine.apply(record, now: now)
                        }
                        if changed { applied += 1 }
                    }
                    return applied
                }
            }
            statistics.keysApplied.wrappingAdd(applied, ordering: .relaxed)
            noteStrayWrites(writes)
            writes.removeAll(keepingCapacity: true)
        }
        for op in ops {
            if case .write(let record) = op {
                writes.append(record)
                continue
            }
            flushWrites()
            switch op {
            case .write: break
            case .fillRequest(let slots, let digests): serveFill(slots, digests: digests, to: peer)
            case .fillBegin(let slots, let clock): beginFill(slots, clock: clock, from: peer)
            case .fillEnd(let slots, let keys): endFill(slots, keys: keys, from: peer)
            case .fillRefused(let slots): fill.withLock { $0.refused(slots, by: peer, now: WallClock.milliseconds()) }
            case .resync: resync(from: peer)
            case .recheck(let slots): fill.withLock { $0.recheck(slots, against: peer, now: WallClock.milliseconds()) }
            }
        }
        flushWrites()
    }

    /// A peer routing by an older table may still send writes for slots this node no longer
    /// wants. Those slots are marked, so `maintain` purges them rather than keeping the keys
    /// for good. (A purge spares slots wanted again by the time it runs: the writes may have
    /// come from a peer that learned of a ring change before this node did.)
    private func noteStrayWrites(_ writes: [ReplicatedKey]) {
        guard let wanted = currentRouting()?.plan.wanted else { return }
        var stray: [Int] = []
        for record in writes {
            let slot = HashSlot.slot(for: record.key)
            if !wanted[slot] { stray.append(slot) }
        }
        if !stray.isEmpty { fill.withLock { $0.keysArrived(inSlots: stray) } }
    }
}
