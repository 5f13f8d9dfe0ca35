import Cluster
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// The I/O shell around the pure `Membership` instance: a UDP socket on the cluster bus port,
/// a timer that drives the protocol, seed resolution, and publication of the `ClusterView`
/// that connections route by. It runs on an event loop of its own, so gossip keeps its timing
/// while client connections keep the other threads busy.
final class ClusterNode: Sendable {
    let localID: NodeID
    let logger: Logger
    let codec: BusCodec
    let replicationFactor: Int
    let seeds: [ClusterSeed]
    let identityPath: String
    let busPort: Int
    let bindHost: String
    private let membership: LockedMembership
    private let published: Mutex<ClusterView>
    private let channel = Mutex<Channel?>(nil)
    private let resolved = Mutex<[BusAddress: SocketAddress]>([:])
    private let lastSeedResolution = Atomic<Int64>(0)
    /// When the bus last ticked. A gap far longer than the tick means the process was paused
    /// (SIGSTOP, a VM freeze): the cluster may have declared it dead and moved on meanwhile.
    let lastTickAt = Atomic<Int64>(0)
    let fenceAfter: Int64
    /// Replication reacts to every ring change; set once, after both exist.
    let replication = Mutex<ReplicationService?>(nil)
    /// Serialises view publication, so views are adopted and published in order.
    private let publication = Mutex<Void>(())
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Bus counters for CLUSTER INFO.
    let bytesSent = Atomic<Int>(0)
    let bytesReceived = Atomic<Int>(0)
    let datagramsSent = Atomic<Int>(0)
    let datagramsReceived = Atomic<Int>(0)
    let unauthenticatedDropped = Atomic<Int>(0)
    let malformedDropped = Atomic<Int>(0)
    /// Times the bus socket was bound again after SwiftNIO closed it on a send error.
    let busReopenings = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)

    init(configuration: ServerConfiguration, logger: Logger, now: Int64) throws {
        guard configuration.effectiveClusterPort <= 65535 else {
            throw StartupError("the cluster bus port would be \(configuration.effectiveClusterPort) (port + 10000): set cluster-port to a free UDP port")
        }
        var generator = SystemRandomNumberGenerator()
        identityPath = configuration.directory + "/" + configuration.effectiveClusterConfigFile
        let identity = try ClusterIdentity.load(path: identityPath, generator: &generator)
        localID = identity.id
        var logger = logger
        logger[metadataKey: "node"] = "\(identity.id.short)"
        self.logger = logger
        codec = BusCodec(secret: configuration.clusterSecret)
        replicationFactor = configuration.clusterReplicas + 1
        seeds = configuration.clusterSeeds.compactMap(ClusterSeed.init)
        busPort = configuration.effectiveClusterPort
        let announce = configuration.clusterAnnounceIP.isEmpty ? Self.announceAddress(for: configuration.bind) : configuration.clusterAnnounceIP
        bindHost = configuration.bind.first.map { $0 == "*" ? "0.0.0.0" : $0 } ?? "127.0.0.1"
        // A node that joins through seeds holds no data yet: it is filled before it serves.
        let local = MemberRecord(
            id: identity.id,
            address: MemberAddress(host: announce, clientPort: UInt16(configuration.port), busPort: UInt16(busPort)),
            incarnation: identity.incarnation + 1, state: .alive, tokens: identity.tokens,
            phase: configuration.clusterSeeds.isEmpty ? .serving : .joining)
        var protocolConfiguration = MembershipConfiguration()
        let interval = Int64(configuration.clusterProbeInterval)
        protocolConfiguration.probeInterval = interval
        protocolConfiguration.probeTimeout = interval / 2
        protocolConfiguration.gossipInterval = interval
        protocolConfiguration.pushPullInterval = interval * 50
        protocolConfiguration.joinRetryInterval = max(interval * 5, 200)
        // Past the quickest a peer could be declared dead: probe timeout plus the smallest
        // suspicion timeout, with margin.
        fenceAfter = max(1_000, interval * 5)
        let seedAddresses = seeds.flatMap { Self.resolve(host: $0.host, port: $0.busPort) }
        let instance = Membership(local: local, seeds: seedAddresses, configuration: protocolConfiguration, seed: generator.next(), now: now)
        published = Mutex(Self.makeView(instance, previous: nil, replicationFactor: configuration.clusterReplicas + 1))
        membership = LockedMembership(instance)
        try persistIdentity()
    }

    /// The address peers and clients should use: the first bind address unless it is a
    /// wildcard, then loopback (set `cluster-announce-ip` for anything else).
    static func announceAddress(for bind: [String]) -> String {
        let first = bind.first ?? "127.0.0.1"
        if first == "*" || first == "0.0.0.0" { return "127.0.0.1" }
        if first == "::" || first == "::*" { return "::1" }
        return first.hasPrefix("-") ? String(first.dropFirst()) : first
    }

    // MARK: Views

    func view() -> ClusterView {
        published.withLock { $0 }
    }

    func withMembership<Result>(_ body: (Membership) -> Result) -> Result {
        membership.withLock { body($0) }
    }

    static func makeView(_ membership: Membership, previous: ClusterView?, replicationFactor: Int) -> ClusterView {
        let map: SlotMap
        let nextMap: SlotMap
        if let previous, previous.version == membership.ringVersion {
            map = previous.map
            nextMap = previous.nextMap
        } else {
            map = SlotMap(nodes: membership.ringNodes, replicationFactor: replicationFactor)
            let next = membership.futureRingNodes
            nextMap = next == membership.ringNodes ? map : SlotMap(nodes: next, replicationFactor: replicationFactor)
        }
        let localID = membership.local.id
        let members = membership.allMembers.map { record in
            ClusterView.MemberSummary(record: record, isLocal: record.id == localID, changedAt: membership.lastChange(of: record.id) ?? 0)
        }
        return ClusterView(localID: localID, map: map, nextMap: nextMap, isJoined: membership.isJoined, members: members, version: membership.ringVersion)
    }

    // MARK: Running

    func start() async throws {
        let bound: Channel
        do {
            bound = try await openBus().get()
        } catch {
            throw StartupError("can't bind the cluster bus to \(bindHost):\(busPort) (UDP): \(error)")
        }
        let view = self.view()
        logger.notice("Cluster bus ready", metadata: [
            "id": "\(localID.hex)", "bus": "\(bindHost):\(busPort)/udp",
            "seeds": "\(seeds.map { "\($0.host):\($0.port)" }.joined(separator: ","))",
            "state": "\(view.isJoined ? "founded a one-node cluster" : "joining")",
        ])
        let node = self
        let tick = TimeAmount.milliseconds(Int64(max(5, withMembership { $0.configuration.probeInterval } / 10)))
        bound.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: tick) { _ in
            node.tick()
        }
    }

    /// Binds the bus socket and keeps it bound: SwiftNIO closes a datagram channel on most
    /// send errors (EPERM from a firewall rule, ENETUNREACH while a route is gone), and a node
    /// whose bus closed would never hear the cluster again, so a closed bus is bound anew.
    private func openBus() -> EventLoopFuture<Channel> {
        let node = self
        return DatagramBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4 * 1024 * 1024)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(BusHandler(node: node))
                }
            }
            .bind(host: bindHost, port: busPort)
            .map { bound in
                node.channel.withLock { $0 = bound }
                bound.closeFuture.whenComplete { _ in node.busClosed(bound) }
                return bound
            }
    }

    private func busClosed(_ closed: Channel) {
        let current = channel.withLock { current in
            if current === closed { current = nil }
            return current
        }
        guard current == nil, !stopping.load(ordering: .relaxed) else { return }
        busReopenings.wrappingAdd(1, ordering: .relaxed)
        logger.warning("Cluster bus socket closed after a send error; binding it again", metadata: ["bus": "\(bindHost):\(busPort)/udp"])
        reopenBus()
    }

    private func reopenBus() {
        let node = self
        openBus().whenFailure { error in
            node.logger.warning("Can't bind the cluster bus again; retrying", metadata: ["error": "\(error)"])
            node.group.next().scheduleTask(in: .milliseconds(100)) { node.reopenBus() }
        }
    }

    /// Says goodbye to the cluster and closes the bus.
    func stop() async {
        stopping.store(true, ordering: .relaxed)
        let outgoing = membership.withLock { membership in
            membership.leave()
            return membership.takeOutgoing()
        }
        if let bound = channel.withLock({ $0 }) {
            send(outgoing, on: bound)
            try? await bound.close()
        }
        try? await group.shutdownGracefully()
    }

    private func tick() {
        let now = WallClock.milliseconds()
        let previousTick = lastTickAt.load(ordering: .relaxed)
        if previousTick > 0 && now - previousTick > fenceAfter && view().isJoined && withMembership({ $0.hasPeers }) {
            // Fence first, then mark the tick: connections refuse to serve until both are done.
            replication.withLock { $0 }?.fence(reason: "the process did not run for \(now - previousTick) ms")
        }
        lastTickAt.store(now, ordering: .relaxed)
        let (outgoing, events, needsSeeds) = membership.withLock { membership in
            membership.tick(now: now)
            return (membership.takeOutgoing(), membership.takeEvents(), !membership.isJoined || !membership.hasPeers)
        }
        if needsSeeds && !seeds.isEmpty && now - lastSeedResolution.load(ordering: .relaxed) >= 5_000 {
            // Seeds given by DNS name are looked up again while the node has nobody to talk to.
            lastSeedResolution.store(now, ordering: .relaxed)
            let addresses = seeds.flatMap { Self.resolve(host: $0.host, port: $0.busPort) }
            if !addresses.isEmpty { membership.withLock { $0.seeds = addresses } }
        }
        if let bound = channel.withLock({ $0 }) { send(outgoing, on: bound) }
        handle(events)
    }

    func received(_ bytes: [UInt8], from source: SocketAddress) {
        bytesReceived.wrappingAdd(bytes.count, ordering: .relaxed)
        datagramsReceived.wrappingAdd(1, ordering: .relaxed)
        let envelope: Envelope
        do {
            envelope = try codec.decode(bytes)
        } catch .unauthenticated {
            unauthenticatedDropped.wrappingAdd(1, ordering: .relaxed)
            return
        } catch {
            malformedDropped.wrappingAdd(1, ordering: .relaxed)
            return
        }
        guard let host = source.ipAddress, let port = source.port else { return }
        let now = WallClock.milliseconds()
        let (outgoing, events) = membership.withLock { membership in
            membership.receive(envelope, from: BusAddress(host: host, port: UInt16(port)), now: now)
            return (membership.takeOutgoing(), membership.takeEvents())
        }
        if let bound = channel.withLock({ $0 }) { send(outgoing, on: bound) }
        handle(events)
    }

    /// Leaves the cluster now (after a hand-off): returns whether this node had peers to tell.
    func leave() -> Bool {
        let (outgoing, events, hadPeers) = membership.withLock { membership in
            let hadPeers = membership.hasPeers
            membership.leave()
            return (membership.takeOutgoing(), membership.takeEvents(), hadPeers)
        }
        if let bound = channel.withLock({ $0 }) { send(outgoing, on: bound) }
        handle(events)
        republish()
        return hadPeers
    }

    /// How long news takes to reach every member, about: a few gossip periods.
    var gossipSpread: Int {
        Int(withMembership { $0.configuration.gossipInterval }) * 5
    }

    /// Builds the view from membership and publishes it. Replication adopts it first: a
    /// connection that routes a write by the new view must find the new write targets.
    private func republish() {
        publication.withLock { _ in
            let view = membership.withLock { Self.makeView($0, previous: self.view(), replicationFactor: replicationFactor) }
            replication.withLock { $0 }?.viewChanged(view, now: WallClock.milliseconds())
            published.withLock { $0 = view }
        }
    }

    /// Moves this node between joining, serving and leaving, and tells the cluster.
    func setPhase(_ phase: MemberPhase) {
        let (outgoing, events) = membership.withLock { membership in
            membership.setPhase(phase)
            return (membership.takeOutgoing(), membership.takeEvents())
        }
        if let bound = channel.withLock({ $0 }) { send(outgoing, on: bound) }
        handle(events)
    }

    /// Hands the first view to replication once it exists.
    func attach(_ service: ReplicationService) {
        replication.withLock { $0 = service }
        service.viewChanged(view(), now: WallClock.milliseconds())
    }

    /// CLUSTER MEET.
    func meet(host: String, busPort: Int) -> Bool {
        let addresses = Self.resolve(host: host, port: busPort)
        guard !addresses.isEmpty else { return false }
        let outgoing = membership.withLock { membership in
            for address in addresses { membership.meet(address) }
            return membership.takeOutgoing()
        }
        if let bound = channel.withLock({ $0 }) { send(outgoing, on: bound) }
        return true
    }

    /// CLUSTER FORGET.
    func forget(_ id: NodeID) -> Bool {
        let (forgotten, events) = membership.withLock { membership in
            (membership.forget(id, now: WallClock.milliseconds()), membership.takeEvents())
        }
        handle(events)
        return forgotten
    }

    private func handle(_ events: [MembershipEvent]) {
        guard !events.isEmpty else { return }
        for event in events {
            let metadata: Logger.Metadata = [
                "member": "\(event.member.id.short)", "address": "\(event.member.address)",
                "incarnation": "\(event.member.incarnation)",
            ]
            switch event.kind {
            case .joined: logger.notice("Cluster member joined", metadata: metadata)
            case .admitted: logger.notice("Joined the cluster", metadata: metadata)
            case .dead: logger.notice("Cluster member marked dead", metadata: metadata)
            case .left: logger.notice("Cluster member left", metadata: metadata)
            case .forgotten: logger.notice("Cluster member forgotten", metadata: metadata)
            case .suspected: logger.info("Cluster member suspected", metadata: metadata)
            // A member back from dead (a restart, a healed partition) is worth a line, as
            // Redis's "Clear FAIL state" is; a refuted suspicion is routine.
            case .recovered: logger.notice("Cluster member alive again, \(event.member.phase)", metadata: metadata)
            case .refuted: logger.info("Refuted a suspicion of this node", metadata: metadata)
            case .declaredDead: logger.warning("The cluster declared this node dead; rejoining", metadata: metadata)
            case .outvotedAccusation:
                logger.notice("A member on the minority side of a healed partition declared this node dead; refuted, serving on", metadata: metadata)
            case .phaseChanged: logger.notice("Cluster member is \(event.member.phase)", metadata: metadata)
            }
        }
        republish()
        if events.contains(where: { $0.kind == .declaredDead }) {
            replication.withLock { $0 }?.fence(reason: "the cluster declared this node dead")
        }
        if events.contains(where: { $0.kind == .admitted || $0.kind == .refuted }) {
            do { try persistIdentity() } catch { logger.warning("Can't save the cluster identity", metadata: ["error": "\(error)"]) }
        }
    }

    private func persistIdentity() throws {
        let local = membership.withLock { $0.local }
        try ClusterIdentity(id: local.id, incarnation: local.incarnation, tokens: local.tokens).save(path: identityPath)
    }

    // MARK: Sending

    private func send(_ messages: [OutgoingMessage], on channel: Channel) {
        guard !messages.isEmpty else { return }
        for message in messages {
            guard let address = socketAddress(message.destination) else { continue }
            let bytes = codec.encode(message.envelope)
            bytesSent.wrappingAdd(bytes.count, ordering: .relaxed)
            datagramsSent.wrappingAdd(1, ordering: .relaxed)
            let buffer = channel.allocator.buffer(bytes: bytes)
            channel.write(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        }
        channel.flush()
    }

    private func socketAddress(_ address: BusAddress) -> SocketAddress? {
        if let cached = resolved.withLock({ $0[address] }) { return cached }
        let socketAddress = (try? SocketAddress(ipAddress: address.host, port: Int(address.port)))
            ?? (try? SocketAddress.makeAddressResolvingHost(address.host, port: Int(address.port)))
        if let socketAddress { resolved.withLock { $0[address] = socketAddress } }
        return socketAddress
    }

    /// Every address `host` resolves to (a seed's DNS name may stand for several nodes).
    static func resolve(host: String, port: Int) -> [BusAddress] {
        if (try? SocketAddress(ipAddress: host, port: port)) != nil { return [BusAddress(host: host, port: UInt16(port))] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [BusAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr {
                var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                if getnameinfo(raw, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                    let text = String(cString: buffer)
                    let address = BusAddress(host: text, port: UInt16(port))
                    if !addresses.contains(address) { addresses.append(address) }
                }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}

/// Hands datagrams from the bus socket to the node.
final class BusHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let node: ClusterNode

    init(node: ClusterNode) {
        self.node = node
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        node.received(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port unreachable for a dead peer surfaces here; it is not fatal.
        node.logger.debug("Cluster bus error", metadata: ["error": "\(error)"])
    }
}
