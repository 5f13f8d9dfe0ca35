import Cluster

/// An immutable picture of the cluster that connections route by. The bus shell publishes a
/// new one whenever membership changes; a connection takes the current one once per read, so
/// routing a command costs no lock.
final class ClusterView: Sendable {
    let localID: NodeID
    let map: SlotMap
    /// The ring once joiners are filled and leavers gone (see `OwnershipPlan`).
    let nextMap: SlotMap
    /// This node's index in `map.nodes`, if it holds slots.
    let localIndex: Int?
    /// Every slot is this node's: routing can skip computing slots.
    let ownsEverySlot: Bool
    /// Admitted into a cluster and holding a ring (what /ready and cluster_state report).
    let isJoined: Bool
    let members: [MemberSummary]
    /// `host:port` of each node in `map.nodes`, as MOVED names it.
    let endpoints: [String]
    let version: Int

    struct MemberSummary: Sendable {
        var record: MemberRecord
        var isLocal: Bool
        /// Milliseconds since the epoch of the last state change this node saw.
        var changedAt: Int64
    }

    init(localID: NodeID, map: SlotMap, nextMap: SlotMap, isJoined: Bool, members: [MemberSummary], version: Int) {
        self.localID = localID
        self.map = map
        self.nextMap = nextMap
        self.isJoined = isJoined
        self.members = members
        self.version = version
        localIndex = map.index(of: localID)
        ownsEverySlot = isJoined && map.nodes.count == 1 && localIndex == 0
        let byID = Dictionary(members.map { ($0.record.id, $0.record.address) }, uniquingKeysWith: { first, _ in first })
        endpoints = map.nodes.map { id in
            byID[id].map { "\($0.host):\($0.clientPort)" } ?? "?:0"
        }
    }

    func isPrimary(of slot: Int) -> Bool {
        guard let localIndex else { return false }
        return map.primaryIndex(of: slot) == localIndex
    }

    func isOwner(of slot: Int) -> Bool {
        guard let localIndex else { return false }
        return map.isOwner(localIndex, of: slot)
    }

    /// Where a client should send a command for `slot`: `host:port` of its primary.
    func primaryEndpoint(of slot: Int) -> String? {
        map.primaryIndex(of: slot).map { endpoints[$0] }
    }

    var slotsAssigned: Int {
        isJoined ? (0..<SlotMap.slotCount).reduce(0) { $0 + (map.primaryIndex(of: $1) == nil ? 0 : 1) } : 0
    }
}
