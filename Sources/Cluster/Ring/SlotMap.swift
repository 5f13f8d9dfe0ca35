/// Who owns every slot: for each of the 16384 slots, its preference list of up to
/// `replicationFactor` distinct nodes, the first of which is the slot's primary.
///
/// A pure function of the ring nodes (ids and tokens): every node with the same membership view
/// builds the same map. Built in O(T log T + S·RF) for T tokens and S slots.
public struct SlotMap: Sendable, Equatable {
    public static let slotCount = HashSlot.count
    static let none = UInt16.max

    /// The nodes in id order; owners are indices into this array.
    public let nodes: [NodeID]
    public let replicationFactor: Int
    /// `owners[slot * replicationFactor + k]` is the index of the slot's k-th owner, or `none`.
    let owners: [UInt16]

    public init(nodes ringNodes: [RingNode], replicationFactor: Int) {
        precondition(replicationFactor >= 1)
        let members = ringNodes.filter { !$0.tokens.isEmpty }.sorted { $0.id < $1.id }
        precondition(members.count < Int(Self.none), "too many nodes for a slot map")
        nodes = members.map(\.id)
        self.replicationFactor = replicationFactor
        let width = min(replicationFactor, members.count)
        var owners = [UInt16](repeating: Self.none, count: Self.slotCount * replicationFactor)
        guard width > 0 else {
            self.owners = owners
            return
        }
        // Tokens sorted clockwise; a position claimed by two nodes goes to the smaller id first.
        var tokens: [(position: UInt64, node: UInt16)] = []
        for (index, member) in members.enumerated() {
            for token in member.tokens { tokens.append((token, UInt16(index))) }
        }
        tokens.sort { $0.position != $1.position ? $0.position < $1.position : $0.node < $1.node }
        // The preference list that starts at each token: the next `width` distinct nodes.
        var listAtToken = [UInt16](repeating: Self.none, count: tokens.count * width)
        for start in tokens.indices {
            var found = 0
            var step = 0
            while found < width && step < tokens.count {
                let node = tokens[(start + step) % tokens.count].node
                let base = start * width
                if !listAtToken[base..<(base + found)].contains(node) {
                    listAtToken[base + found] = node
                    found += 1
                }
                step += 1
            }
        }
        // Sweep slots and tokens together: a slot belongs to the first token at or after it.
        var tokenIndex = 0
        for slot in 0..<Self.slotCount {
            let point = RingPosition.point(ofSlot: slot)
            while tokenIndex < tokens.count && tokens[tokenIndex].position < point { tokenIndex += 1 }
            let covering = tokenIndex == tokens.count ? 0 : tokenIndex
            for k in 0..<width {
                owners[slot * replicationFactor + k] = listAtToken[covering * width + k]
            }
        }
        self.owners = owners
    }

    public var isEmpty: Bool { nodes.isEmpty }

    public func primaryIndex(of slot: Int) -> Int? {
        let index = owners[slot * replicationFactor]
        return index == Self.none ? nil : Int(index)
    }

    public func primary(of slot: Int) -> NodeID? {
        primaryIndex(of: slot).map { nodes[$0] }
    }

    /// The slot's preference list, primary first.
    public func ownerIndices(of slot: Int) -> [Int] {
        var result: [Int] = []
        for k in 0..<replicationFactor {
            let index = owners[slot * replicationFactor + k]
            if index == Self.none { break }
            result.append(Int(index))
        }
        return result
    }

    public func owners(of slot: Int) -> [NodeID] {
        ownerIndices(of: slot).map { nodes[$0] }
    }

    /// Whether `node` is among the slot's owners.
    public func isOwner(_ nodeIndex: Int, of slot: Int) -> Bool {
        for k in 0..<replicationFactor where owners[slot * replicationFactor + k] == UInt16(nodeIndex) { return true }
        return false
    }

    public func index(of id: NodeID) -> Int? {
        var low = 0
        var high = nodes.count
        while low < high {
            let middle = (low + high) / 2
            if nodes[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low < nodes.count && nodes[low] == id ? low : nil
    }

    /// Primary slots per node, in `nodes` order.
    public func primaryCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: nodes.count)
        for slot in 0..<Self.slotCount {
            if let index = primaryIndex(of: slot) { counts[index] += 1 }
        }
        return counts
    }

    /// Slots held as a non-primary owner, per node.
    public func replicaCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: nodes.count)
        for slot in 0..<Self.slotCount {
            for index in ownerIndices(of: slot).dropFirst() { counts[index] += 1 }
        }
        return counts
    }

    /// The largest primary share over the mean share: 1.0 is perfect balance.
    public func imbalance() -> Double {
        let counts = primaryCounts()
        guard let largest = counts.max(), !counts.isEmpty else { return 1 }
        return Double(largest) / (Double(Self.slotCount) / Double(counts.count))
    }

    /// Maximal runs of consecutive slots with the same preference list, in slot order — what
    /// CLUSTER SLOTS and CLUSTER NODES print.
    public func ranges() -> [SlotRange] {
        var result: [SlotRange] = []
        var start = 0
        for slot in 1...Self.slotCount {
            if slot == Self.slotCount || !sameOwners(slot, start) {
                let owners = ownerIndices(of: start)
                if !owners.isEmpty { result.append(SlotRange(first: start, last: slot - 1, owners: owners)) }
                start = slot
            }
        }
        return result
    }

    private func sameOwners(_ a: Int, _ b: Int) -> Bool {
        for k in 0..<replicationFactor where owners[a * replicationFactor + k] != owners[b * replicationFactor + k] { return false }
        return true
    }
}

/// Consecutive slots `first...last` sharing one preference list (indices into `SlotMap.nodes`).
public struct SlotRange: Equatable, Sendable {
    public let first: Int
    public let last: Int
    public let owners: [Int]
    public var count: Int { last - first + 1 }

    public init(first: Int, last: Int, owners: [Int]) {
        self.first = first
        self.last = last
        self.owners = owners
    }
}
