import Cluster
import Testing

/// Single protocol steps on hand-driven instances, messages passed by the test.
@Suite struct MembershipTests {
    static func record(_ index: Int, tokens: [UInt64] = []) -> MemberRecord {
        var random = SeededRandom(seed: UInt64(index))
        return MemberRecord(id: .random(using: &random), address: MemberAddress(host: "10.0.0.\(index)", clientPort: 7000, busPort: 17000),
                            incarnation: 1, state: .alive, tokens: tokens)
    }

    /// Delivers every pending message between `nodes` until none is left (bounded).
    static func exchange(_ nodes: [Membership], now: Int64) {
        for _ in 0..<50 {
            var delivered = false
            for node in nodes {
                for message in node.takeOutgoing() {
                    guard let target = nodes.first(where: { $0.local.address.bus == message.destination }) else { continue }
                    target.receive(message.envelope, from: node.local.address.bus, now: now)
                    delivered = true
                }
            }
            if !delivered { return }
        }
    }

    @Test func aNodeWithoutSeedsFoundsAClusterAndAdmitsJoinersWithAllocatedTokens() {
        let founder = Membership(local: Self.record(1), seeds: [], seed: 1, now: 0)
        #expect(founder.isJoined)
        #expect(founder.local.tokens == TokenAllocator.initialTokens())
        let joiner = Membership(local: Self.record(2), seeds: [founder.local.address.bus], seed: 2, now: 0)
        #expect(!joiner.isJoined)
        joiner.tick(now: 0)
        Self.exchange([founder, joiner], now: 0)
        #expect(joiner.isJoined)
        #expect(!joiner.local.tokens.isEmpty)
        #expect(founder.member(joiner.local.id)?.tokens == joiner.local.tokens)
        #expect(joiner.member(founder.local.id)?.state == .alive)
        let map = SlotMap(nodes: founder.ringNodes, replicationFactor: 1)
        #expect(map == SlotMap(nodes: joiner.ringNodes, replicationFactor: 1))
        #expect(map.primaryCounts().sorted() == [8192, 8192])
        #expect(joiner.takeEvents().map(\.kind).contains(.admitted))
    }

    @Test func nodesNamingEachOtherAsSeedsDoNotWaitForever() {
        let a = Membership(local: Self.record(1), seeds: [Self.record(2).address.bus], seed: 1, now: 0)
        let b = Membership(local: Self.record(2), seeds: [Self.record(1).address.bus], seed: 2, now: 0)
        a.tick(now: 0)
        b.tick(now: 0)
        Self.exchange([a, b], now: 0)
        #expect(a.isJoined && b.isJoined)
        #expect(SlotMap(nodes: a.ringNodes, replicationFactor: 1).nodes.count == 2)
    }

    @Test func aSuspectedNodeRefutesWithAHigherIncarnation() {
        let founder = Membership(local: Self.record(1), seeds: [], seed: 1, now: 0)
        let other = Membership(local: Self.record(2, tokens: [5]), seeds: [], seed: 2, now: 0)
        var accusation = other.local
        accusation.state = .suspect
        other.receive(Envelope(sender: founder.local.id, message: .gossip(updates: [MemberUpdate(record: accusation, reporter: founder.local.id)])), from: founder.local.address.bus, now: 10)
        #expect(other.local.incarnation == 2)
        #expect(other.localHealth == 1, "Lifeguard: being suspected counts against local health")
        #expect(other.takeEvents().map(\.kind) == [.refuted])
    }

    /// A restarted node joined through one seed at incarnation 3, and a second seed, admitting
    /// it a moment later, gossiped it at 4 (see `admit`). Its phase change to serving must
    /// still be news to the others, and a stale phase at its own incarnation is outbid.
    @Test func aNodeAdoptsAHigherIncarnationOthersHoldSoItsPhaseChangesAreNews() {
        let node = Membership(local: Self.record(3, tokens: [5]), seeds: [], seed: 3, now: 0)
        let peer = Membership(local: Self.record(2, tokens: [9]), seeds: [], seed: 2, now: 0)
        node.setPhase(.joining)
        var admitted = node.local
        admitted.incarnation = node.local.incarnation + 2
        // The second seed's news, as it reaches the peer and the node itself.
        let secondSeed = Self.record(4)
        let fromSecondSeed = Envelope(sender: secondSeed.id, message: .gossip(updates: [MemberUpdate(record: admitted, reporter: secondSeed.id)]))
        peer.receive(fromSecondSeed, from: secondSeed.address.bus, now: 10)
        node.receive(fromSecondSeed, from: secondSeed.address.bus, now: 10)
        #expect(peer.member(node.local.id)?.phase == .joining)
        #expect(node.local.incarnation == admitted.incarnation, "adopted, nothing to correct")

        node.setPhase(.serving)
        let serving = Envelope(sender: node.local.id, message: .gossip(updates: [MemberUpdate(record: node.local, reporter: node.local.id)]))
        peer.receive(serving, from: node.local.address.bus, now: 20)
        #expect(peer.member(node.local.id)?.phase == .serving, "the phase change is news to the peer")

        // A stale record: the node's own incarnation, but joining. The node outbids it.
        var stale = node.local
        stale.phase = .joining
        node.receive(Envelope(sender: peer.local.id, message: .gossip(updates: [MemberUpdate(record: stale, reporter: peer.local.id)])),
                     from: peer.local.address.bus, now: 30)
        #expect(node.local.incarnation == stale.incarnation + 1 && node.local.phase == .serving)
    }

    @Test func stalerNewsIsIgnoredAndLeavingWins() {
        let node = Membership(local: Self.record(1), seeds: [], seed: 1, now: 0)
        var peer = Self.record(2, tokens: [9])
        peer.incarnation = 5
        let reporter = peer.id
        node.receive(Envelope(sender: reporter, message: .gossip(updates: [MemberUpdate(record: peer, reporter: reporter)])), from: peer.address.bus, now: 0)
        #expect(node.member(peer.id)?.state == .alive)
        var stale = peer
        stale.incarnation = 4
        stale.state = .dead
        node.receive(Envelope(sender: reporter, message: .gossip(updates: [MemberUpdate(record: stale, reporter: reporter)])), from: peer.address.bus, now: 1)
        #expect(node.member(peer.id)?.state == .alive)
        var left = peer
        left.state = .left
        node.receive(Envelope(sender: reporter, message: .gossip(updates: [MemberUpdate(record: left, reporter: reporter)])), from: peer.address.bus, now: 2)
        #expect(node.member(peer.id)?.state == .left)
        #expect(node.ringNodes.map(\.id) == [node.local.id])
        var revived = peer
        revived.incarnation = 6
        node.receive(Envelope(sender: reporter, message: .gossip(updates: [MemberUpdate(record: revived, reporter: reporter)])), from: peer.address.bus, now: 3)
        #expect(node.member(peer.id)?.state == .alive, "a restart with a higher incarnation rejoins")
    }

    @Test func forgetBansAMemberFromGossipForAWhile() {
        let node = Membership(local: Self.record(1), seeds: [], seed: 1, now: 0)
        let peer = Self.record(2, tokens: [9])
        let update = Envelope(sender: peer.id, message: .gossip(updates: [MemberUpdate(record: peer, reporter: peer.id)]))
        node.receive(update, from: peer.address.bus, now: 0)
        #expect(node.forget(peer.id, now: 0))
        #expect(!node.forget(peer.id, now: 0))
        node.receive(update, from: peer.address.bus, now: 1_000)
        #expect(node.member(peer.id) == nil)
        node.receive(update, from: peer.address.bus, now: node.configuration.forgetBanTime + 1)
        #expect(node.member(peer.id) != nil)
    }

    /// A node cut off from four others: both sides declare the other dead; after the heal only
    /// the cut-off node fences itself (it refills before serving), the four shrug off its
    /// accusation, and none of the four is declared dead on its stale word.
    @Test func onlyTheMinorityOfAHealedPartitionFencesItself() {
        var configuration = MembershipConfiguration()
        configuration.pushPullInterval = 2_000
        let simulator = MembershipSimulator(count: 5, configuration: configuration, seed: 11)
        simulator.run(until: 1_000)
        simulator.partition { $0 == 4 ? 1 : 0 }
        let split = simulator.run(until: {
            simulator.everyone(sees: 4, as: .dead) && (0..<4).allSatisfy { simulator.state(of: $0, seenBy: 4) == .dead }
        }, limit: 30_000)
        #expect(split != nil)
        let healedAt = simulator.now
        simulator.heal()
        let converged = simulator.run(until: { (0..<5).allSatisfy { simulator.everyone(sees: $0, as: .alive) } },
                                      limit: healedAt + 8 * configuration.pushPullInterval)
        #expect(converged != nil)
        let afterHeal = simulator.events.filter { $0.time > healedAt }
        #expect(Set(afterHeal.filter { $0.event.kind == .declaredDead }.map(\.node)) == [4])
        #expect(afterHeal.contains { $0.event.kind == .outvotedAccusation && $0.node < 4 })
        let majority = Set((0..<4).map { simulator.nodes[$0].local.id })
        #expect(!afterHeal.contains { $0.node < 4 && $0.event.kind == .dead && majority.contains($0.event.member.id) })
    }

    /// The same node declared dead by its own side (a false death, say) still fences: its slots
    /// were failed over and written to without it.
    @Test func aNodeDeclaredDeadByItsOwnSideStillFences() {
        let simulator = MembershipSimulator(count: 3, seed: 5)
        simulator.run(until: 1_000)
        let accuser = simulator.nodes[1]
        let accused = simulator.nodes[0]
        var obituary = accused.local
        obituary.state = .dead
        accused.receive(Envelope(sender: accuser.local.id, message: .gossip(updates: [MemberUpdate(record: obituary, reporter: accuser.local.id)])),
                        from: accuser.local.address.bus, now: simulator.now)
        #expect(accused.takeEvents().map(\.kind).contains(.declaredDead))
    }
}
