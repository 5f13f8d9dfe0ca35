/// One node's instance of the membership protocol: SWIM failure detection with suspicion,
/// piggybacked infection-style dissemination, periodic push-pull, and the Lifeguard
/// refinements (local health multiplier, nacks, suspicion timeouts that shrink with
/// independent confirmations).
///
/// A pure state machine: it reads no clock and touches no socket. The owner calls `tick(now:)`
/// regularly and `receive(_:from:now:)` for each message, then sends what `takeOutgoing()`
/// returns and handles `takeEvents()`. Time is whatever the owner says it is — wall time in the
/// server, virtual time in `MembershipSimulator` — so the protocol can be tested exactly.
///
/// Contract: calls are serialised by the owner (the class is not thread-safe).
public final class Membership {
    public let configuration: MembershipConfiguration
    public internal(set) var local: MemberRecord
    /// Every other member known, including dead and departed ones until they are reaped.
    var members: [NodeID: MemberEntry] = [:]
    var random: SeededRandom
    /// Ids of the alive and suspect members, for sampling in O(1).
    var live: [NodeID] = []
    var livePosition: [NodeID: Int] = [:]
    /// Ids of the suspect members, whose suspicion timers run.
    var suspects: Set<NodeID> = []
    /// Where to ask to join while not admitted yet.
    public var seeds: [BusAddress]
    /// Admitted into a cluster (or founded one): only then does the node probe and gossip.
    public internal(set) var isJoined: Bool
    var isLeaving = false
    /// Lifeguard's local health multiplier, 0 (healthy) to `maxLocalHealth`.
    public internal(set) var localHealth = 0
    /// Bumped whenever the set of slot-holding members or their tokens change.
    public internal(set) var ringVersion = 0
    public internal(set) var statistics = Statistics()

    var outbox: [OutgoingMessage] = []
    var events: [MembershipEvent] = []
    var broadcasts = BroadcastQueue()
    var probe: Probe?
    var probeOrder: [NodeID] = []
    var probeCursor = 0
    var sequence: UInt32 = 0
    /// Indirect probes this node runs for others: our ping's sequence → the requester's.
    var relays: [UInt32: Relay] = [:]
    var forgotten: [NodeID: Int64] = [:]
    var nextProbeAt: Int64 = 0
    var nextGossipAt: Int64 = 0
    var nextPushPullAt: Int64
    var nextJoinAt: Int64 = 0

    public struct Statistics: Sendable, Equatable {
        /// Messages by kind, indexed like `SWIMMessage.kindNames`.
        public var sent = [Int](repeating: 0, count: SWIMMessage.kindNames.count)
        public var received = [Int](repeating: 0, count: SWIMMessage.kindNames.count)
        public var failedProbes = 0
        public var refutations = 0
    }

    /// Starts a member. Without seeds it founds a one-node cluster that owns every slot
    /// (taking `TokenAllocator.initialTokens()` unless it kept tokens from an earlier run);
    /// with seeds it asks them to admit it on the first tick.
    public init(local: MemberRecord, seeds: [BusAddress], configuration: MembershipConfiguration = .init(), seed: UInt64, now: Int64) {
        self.configuration = configuration
        var local = local
        local.state = .alive
        let others = seeds.filter { $0 != local.address.bus }
        if others.isEmpty && local.tokens.isEmpty {
            local.tokens = TokenAllocator.initialTokens()
        }
        self.local = local
        self.seeds = others
        self.isJoined = others.isEmpty
        random = SeededRandom(seed: seed)
        // Spread the first push-pull so members started together do not sync in lockstep.
        nextPushPullAt = now + Int64(random.next() % UInt64(max(1, configuration.pushPullInterval)))
        if isJoined { ringVersion = 1 }
    }

    // MARK: Views

    /// Every member this node knows, itself included.
    public var allMembers: [MemberRecord] {
        [local] + members.values.map(\.record).sorted { $0.id < $1.id }
    }

    public func member(_ id: NodeID) -> MemberRecord? {
        id == local.id ? local : members[id]?.record
    }

    /// When the member's state last changed (for CLUSTER NODES and status tables).
    public func lastChange(of id: NodeID) -> Int64? {
        members[id]?.changedAt
    }

    /// The members that hold slots now, for building the `SlotMap` requests are routed by.
    public var ringNodes: [RingNode] {
        var nodes: [RingNode] = []
        if isJoined && !isLeaving && local.holdsSlotsNow { nodes.append(local.ringNode) }
        for entry in members.values where entry.record.holdsSlotsNow {
            nodes.append(entry.record.ringNode)
        }
        return nodes
    }

    /// The members that will hold slots once joiners are filled and leavers have handed off:
    /// the ring data moves towards.
    public var futureRingNodes: [RingNode] {
        var nodes: [RingNode] = []
        if isJoined && !isLeaving && local.holdsSlotsNext { nodes.append(local.ringNode) }
        for entry in members.values where entry.record.holdsSlotsNext {
            nodes.append(entry.record.ringNode)
        }
        return nodes
    }

    /// Changes this node's phase and tells the cluster (a new incarnation, gossiped).
    public func setPhase(_ phase: MemberPhase) {
        guard local.phase != phase else { return }
        local.phase = phase
        local.incarnation += 1
        ringVersion += 1
        broadcasts.enqueue(MemberUpdate(record: local, reporter: local.id))
        events.append(MembershipEvent(kind: .phaseChanged, member: local))
    }

    /// Members other than this one that are alive or suspect.
    public var hasPeers: Bool { !live.isEmpty }

    /// This node plus the alive and suspect members.
    var liveCount: Int { 1 + live.count }

    // MARK: Driving

    public func takeOutgoing() -> [OutgoingMessage] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    public func takeEvents() -> [MembershipEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// Advances timers: joining, probing, suspicion timeouts, gossip, push-pull, reaping.
    public func tick(now: Int64) {
        guard !isLeaving else { return }
        guard isJoined else {
            if now >= nextJoinAt {
                for seed in seeds { send(.join(local), to: seed) }
                nextJoinAt = now + configuration.joinRetryInterval
            }
            return
        }
        expireRelays(now: now)
        advanceProbe(now: now)
        expireSuspicions(now: now)
        if now >= nextGossipAt {
            gossip()
            nextGossipAt = now + configuration.gossipInterval
        }
        if now >= nextPushPullAt {
            pushPull()
            reap(now: now)
            nextPushPullAt = now + configuration.pushPullInterval
        }
    }

    /// Handles one message that arrived from `source` (the datagram's sender address).
    public func receive(_ envelope: Envelope, from source: BusAddress, now: Int64) {
        guard envelope.sender != local.id, !isLeaving else { return }
        statistics.received[envelope.message.kindIndex] += 1
        switch envelope.message {
        case let .ping(sequence, target, updates):
            apply(updates, now: now)
            guard target == local.id else { return }
            send(.ack(sequence: sequence, updates: piggyback()), to: source)
        case let .pingRequest(sequence, target, address, updates):
            apply(updates, now: now)
            let relayed = nextSequence()
            relays[relayed] = Relay(requester: source, sequence: sequence, deadline: now + configuration.probeTimeout * 4 / 5)
            send(.ping(sequence: relayed, target: target, updates: piggyback()), to: address)
        case let .ack(sequence, updates):
            apply(updates, now: now)
            if probe?.sequence == sequence {
                if probe?.acknowledged == false { adjustHealth(-1) }
                probe?.acknowledged = true
            } else if let relay = relays.removeValue(forKey: sequence) {
                send(.ack(sequence: relay.sequence, updates: piggyback()), to: relay.requester)
            }
        case let .nack(sequence):
            if probe?.sequence == sequence { probe?.nacks += 1 }
        case let .gossip(updates):
            apply(updates, now: now)
        case let .join(record):
            admit(record, from: source, now: now)
        case let .joinAccepted(tokens, incarnation):
            acceptAdmission(tokens: tokens, incarnation: incarnation, now: now)
        case let .sync(records, wantsReply):
            for record in records { apply(MemberUpdate(record: record, reporter: envelope.sender), now: now) }
            if wantsReply { sendState(to: source, wantsReply: false) }
        }
    }

    /// Graceful departure: tells every live member this node is leaving, then stops taking part.
    public func leave() {
        guard isJoined, !isLeaving else { return }
        local.state = .left
        let update = MemberUpdate(record: strippedForGossip(local), reporter: local.id)
        for id in live {
            if let record = members[id]?.record { send(.gossip(updates: [update]), to: record.address.bus) }
        }
        isLeaving = true
        ringVersion += 1
    }

    /// CLUSTER MEET: exchange member lists with the node at `address` (or ask it to admit us).
    public func meet(_ address: BusAddress) {
        if isJoined {
            sendState(to: address, wantsReply: true)
        } else {
            seeds.append(address)
            send(.join(local), to: address)
        }
    }

    /// CLUSTER FORGET: drops a member and ignores news of it for `forgetBanTime`.
    /// Returns false for this node itself or an unknown id.
    public func forget(_ id: NodeID, now: Int64) -> Bool {
        guard let entry = members.removeValue(forKey: id) else { return false }
        updateLiveIndex(id, holdsSlots: false)
        suspects.remove(id)
        forgotten[id] = now + configuration.forgetBanTime
        broadcasts.remove(id)
        if entry.record.state.holdsSlots { ringVersion += 1 }
        events.append(MembershipEvent(kind: .forgotten, member: entry.record))
        return true
    }

    // MARK: Sending

    func send(_ message: SWIMMessage, to destination: BusAddress) {
        statistics.sent[message.kindIndex] += 1
        outbox.append(OutgoingMessage(destination: destination, envelope: Envelope(sender: local.id, message: message)))
    }

    func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    func adjustHealth(_ delta: Int) {
        localHealth = min(configuration.maxLocalHealth, max(0, localHealth + delta))
    }

    /// Up to `count` distinct live members other than this one and `excluding`, at random,
    /// in O(count) expected time however large the cluster.
    func randomLiveMembers(_ count: Int, excluding: NodeID? = nil) -> [MemberRecord] {
        let available = live.count - (excluding.map { livePosition[$0] != nil ? 1 : 0 } ?? 0)
        let wanted = min(count, available)
        guard wanted > 0 else { return [] }
        if wanted * 2 >= live.count {
            // Small cluster: shuffle the candidates.
            var candidates = live.filter { $0 != excluding }
            candidates.shuffle(using: &random)
            return candidates.prefix(wanted).compactMap { members[$0]?.record }
        }
        var chosen: [NodeID] = []
        while chosen.count < wanted {
            let id = live[Int(random.next() % UInt64(live.count))]
            if id != excluding && !chosen.contains(id) { chosen.append(id) }
        }
        return chosen.compactMap { members[$0]?.record }
    }

    /// Keeps `live` (the ids of alive and suspect members) in step with a member's state.
    func updateLiveIndex(_ id: NodeID, holdsSlots: Bool) {
        if holdsSlots {
            guard livePosition[id] == nil else { return }
            livePosition[id] = live.count
            live.append(id)
        } else if let position = livePosition.removeValue(forKey: id) {
            let last = live.removeLast()
            if position < live.count {
                live[position] = last
                livePosition[last] = position
            }
        }
    }
}

/// What this node keeps about another member. A class, so that the many lookups a message
/// causes share the entry instead of copying its record (strings, arrays, a set) each time.
final class MemberEntry {
    var record: MemberRecord
    var changedAt: Int64
    var suspicion: Suspicion?
    /// When this member last came back from dead (a healed partition, a false death).
    var revivedAt = Int64.min

    init(record: MemberRecord, changedAt: Int64, suspicion: Suspicion? = nil) {
        self.record = record
        self.changedAt = changedAt
        self.suspicion = suspicion
    }
}

struct Probe {
    var target: NodeID
    var sequence: UInt32
    var sentAt: Int64
    var acknowledged = false
    var indirectSent = false
    var expectedNacks = 0
    var nacks = 0
}

struct Relay {
    var requester: BusAddress
    var sequence: UInt32
    var deadline: Int64
}

extension SWIMMessage {
    public static let kindNames = ["ping", "ping-req", "ack", "nack", "gossip", "join", "join-accepted", "sync"]

    var kindIndex: Int {
        switch self {
        case .ping: 0
        case .pingRequest: 1
        case .ack: 2
        case .nack: 3
        case .gossip: 4
        case .join: 5
        case .joinAccepted: 6
        case .sync: 7
        }
    }
}
