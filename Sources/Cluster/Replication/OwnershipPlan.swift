/// Who holds which slot now, who will hold it once the moves under way finish, and what that
/// means for one node: where its writes go, which slots it must be filled with, and from whom.
///
/// `current` is the ring of serving members (requests are routed by it); `next` adds members
/// that are joining and drops members that are leaving (see `MemberPhase`). Data flows from
/// `current` towards `next`: a joiner is filled before it takes its slots, a leaver hands its
/// slots over before it goes, so even with one copy per slot nothing is lost (Dynamo §4.9
/// moves ranges the same way when nodes are added or removed).
///
/// Contract: pure, a function of the two maps and the local id.
public struct OwnershipPlan: Sendable {
    public let localID: NodeID
    public let current: SlotMap
    public let next: SlotMap
    /// Per slot, the other nodes a write to it must reach: every owner in `current` or
    /// `next` but this node.
    public let targets: [[NodeID]]
    /// Slots this node holds data for, now or next.
    public let wanted: [Bool]
    /// Slots this node owns in `next`: what a joining node must hold before it serves.
    public let ownedNext: [Bool]

    public init(localID: NodeID, current: SlotMap, next: SlotMap) {
        self.localID = localID
        self.current = current
        self.next = next
        var interned: [[NodeID]: [NodeID]] = [:]
        var targets: [[NodeID]] = []
        var wanted: [Bool] = []
        var ownedNext: [Bool] = []
        ownedNext.reserveCapacity(SlotMap.slotCount)
        targets.reserveCapacity(SlotMap.slotCount)
        wanted.reserveCapacity(SlotMap.slotCount)
        for slot in 0..<SlotMap.slotCount {
            var owners = current.owners(of: slot)
            let nextOwners = next.owners(of: slot)
            ownedNext.append(nextOwners.contains(localID))
            for id in nextOwners where !owners.contains(id) { owners.append(id) }
            wanted.append(owners.contains(localID))
            let others = owners.filter { $0 != localID }
            // Slots with equal target lists share one array.
            if let shared = interned[others] {
                targets.append(shared)
            } else {
                interned[others] = others
                targets.append(others)
            }
        }
        self.targets = targets
        self.wanted = wanted
        self.ownedNext = ownedNext
    }

    /// Where to fill `slot` from: its current primary, or failing that another current owner
    /// (never this node). Nil when no other node holds it now: there is nothing to copy.
    public func donor(of slot: Int) -> NodeID? {
        current.owners(of: slot).first { $0 != localID }
    }

    /// Whether this node may stream `slot` to `requester`: it holds the slot now, and the
    /// requester owns it now or next.
    public func mayFill(_ slot: Int, to requester: NodeID) -> Bool {
        current.owners(of: slot).contains(localID)
            && (current.owners(of: slot).contains(requester) || next.owners(of: slot).contains(requester))
    }

    /// Slots this node is the current primary of whose next owners include `id` although it
    /// holds none of them now: what a leaving node must hand to `id` before it goes.
    public func handoffs() -> [NodeID: [Int]] {
        var result: [NodeID: [Int]] = [:]
        for slot in 0..<SlotMap.slotCount where current.primary(of: slot) == localID {
            let now = current.owners(of: slot)
            for id in next.owners(of: slot) where id != localID && !now.contains(id) {
                result[id, default: []].append(slot)
            }
        }
        return result
    }

    /// Per peer, the slots this node was the primary of under `previous` (it took their
    /// writes) and still holds, whose writes now go to that peer but did not under
    /// `previous`. The writes taken meanwhile never reached the peer: if the peer held the
    /// slot all along (this node alone had it dead, and it refuted that), its copy lacks them
    /// and nothing else would send them. A peer new to the slot is filled anyway.
    public func targetsGained(since previous: OwnershipPlan) -> [NodeID: [Int]] {
        var result: [NodeID: [Int]] = [:]
        for slot in 0..<SlotMap.slotCount where wanted[slot] && previous.current.primary(of: slot) == localID {
            let before = previous.targets[slot]
            for id in targets[slot] where !before.contains(id) {
                result[id, default: []].append(slot)
            }
        }
        return result
    }

    /// Slots whose primary or owners differ between `current` and `next`: moves under way.
    public var slotsMoving: Int {
        (0..<SlotMap.slotCount).reduce(0) { $0 + (current.owners(of: $1) == next.owners(of: $1) ? 0 : 1) }
    }
}
