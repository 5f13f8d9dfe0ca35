import Cluster
import Testing

@Suite struct RingTests {
    /// Grows a ring one node at a time, each joining node taking the tokens the allocator picks
    /// from the ring it joins.
    static func grow(to count: Int, seed: UInt64, check: (_ before: [RingNode], _ after: [RingNode]) -> Void = { _, _ in }) -> [RingNode] {
        var random = SeededRandom(seed: seed)
        var nodes: [RingNode] = []
        for _ in 0..<count {
            let joining = RingNode(id: .random(using: &random), tokens: TokenAllocator.tokens(joining: nodes))
            let before = nodes
            nodes.append(joining)
            check(before, nodes)
        }
        return nodes
    }

    @Test func oneNodeOwnsEverySlot() {
        let nodes = Self.grow(to: 1, seed: 1)
        let map = SlotMap(nodes: nodes, replicationFactor: 2)
        #expect(map.ranges() == [SlotRange(first: 0, last: 16383, owners: [0])])
        #expect(map.primaryCounts() == [16384])
    }

    @Test func largestShareStaysWithinTenPercentOfTheMeanFromThreeToTwoHundredNodes() {
        var worst = 0.0
        _ = Self.grow(to: 200, seed: 7) { _, after in
            guard after.count >= 3 else { return }
            let imbalance = SlotMap(nodes: after, replicationFactor: 1).imbalance()
            worst = max(worst, imbalance)
            #expect(imbalance <= 1.10, "\(after.count) nodes: largest share \(imbalance)x the mean")
        }
        print("ring balance: worst largest/mean share from 3 to 200 nodes = \(worst)")
        #expect(worst > 1.0)
    }

    @Test func addingANodeMovesAtMostItsShareAndOnlyToIt() {
        _ = Self.grow(to: 200, seed: 11) { before, after in
            guard !before.isEmpty else { return }
            let old = SlotMap(nodes: before, replicationFactor: 1)
            let new = SlotMap(nodes: after, replicationFactor: 1)
            let newcomer = after.last!.id
            var moved = 0
            for slot in 0..<SlotMap.slotCount where old.primary(of: slot) != new.primary(of: slot) {
                moved += 1
                #expect(new.primary(of: slot) == newcomer)
            }
            let bound = 1.1 * Double(SlotMap.slotCount) / Double(after.count)
            #expect(moved > 0)
            #expect(Double(moved) <= bound, "node \(after.count) moved \(moved) slots, bound \(bound)")
        }
    }

    @Test func removingANodeMovesOnlyItsSlots() {
        let nodes = Self.grow(to: 60, seed: 5)
        var random = SeededRandom(seed: 99)
        let full = SlotMap(nodes: nodes, replicationFactor: 2)
        for _ in 0..<20 {
            let removed = nodes[Int(random.next() % UInt64(nodes.count))]
            let rest = nodes.filter { $0.id != removed.id }
            let smaller = SlotMap(nodes: rest, replicationFactor: 2)
            for slot in 0..<SlotMap.slotCount {
                if full.primary(of: slot) == removed.id {
                    #expect(smaller.primary(of: slot) != removed.id)
                } else {
                    #expect(smaller.primary(of: slot) == full.primary(of: slot))
                }
            }
        }
    }

    @Test func preferenceListsHoldDistinctNodesAndTheMapIsAPureFunctionOfTheMembers() {
        let nodes = Self.grow(to: 7, seed: 3)
        let map = SlotMap(nodes: nodes, replicationFactor: 3)
        let shuffled = SlotMap(nodes: nodes.reversed(), replicationFactor: 3)
        #expect(map == shuffled)
        for slot in stride(from: 0, to: SlotMap.slotCount, by: 97) {
            let owners = map.owners(of: slot)
            #expect(owners.count == 3)
            #expect(Set(owners).count == 3)
        }
        let replicas = map.replicaCounts()
        #expect(replicas.reduce(0, +) == 2 * SlotMap.slotCount)
    }

    @Test func fewerNodesThanReplicasGivesShorterLists() {
        let nodes = Self.grow(to: 2, seed: 4)
        let map = SlotMap(nodes: nodes, replicationFactor: 3)
        #expect(map.owners(of: 0).count == 2)
        #expect(map.imbalance() <= 1.01)
    }

    @Test func nodeIDsRoundTripThroughHex() {
        var random = SeededRandom(seed: 8)
        let id = NodeID.random(using: &random)
        #expect(id.hex.count == 40)
        #expect(NodeID(hex: id.hex) == id)
        #expect(NodeID(hex: id.hex.uppercased()) == id)
        #expect(NodeID(hex: "xyz") == nil)
        #expect(NodeID(hex: String(repeating: "g", count: 40)) == nil)
    }
}
