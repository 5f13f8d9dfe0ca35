import CacheEngine
import Cluster
import RESP

/// Redis Cluster routing (cluster spec, "Redirection and resharding"): a command's keys must
/// share one slot, and that slot must be this node's, or the client is told where to go.
extension ConnectionHandler {
    /// Why this node will not run `argv` here, as the error line to send; nil to run it.
    /// - CROSSSLOT when the keys span slots;
    /// - MOVED to the slot's primary when this node is not it — unless the connection sent
    ///   READONLY, the command only reads, and this node holds a copy of the slot;
    /// - CLUSTERDOWN while the node has not joined a cluster.
    func routingRefusal(_ spec: CommandSpec, _ argv: Argv, view: ClusterView) -> String? {
        let last = spec.lastKey >= 0 ? spec.lastKey : argv.count + spec.lastKey
        var index = spec.firstKey
        var slot = -1
        while index <= last && index < argv.count {
            let keySlot = HashSlot.slot(for: argv[index])
            if slot == -1 {
                slot = keySlot
            } else if keySlot != slot {
                return "CROSSSLOT Keys in request don't hash to the same slot"
            }
            index += max(1, spec.keyStep)
        }
        guard slot >= 0 else { return nil }
        guard view.isJoined, let endpoint = view.primaryEndpoint(of: slot) else {
            return "CLUSTERDOWN Hash slot not served"
        }
        if view.isPrimary(of: slot) { return nil }
        if readOnlyMode && spec.isReadOnly && view.isOwner(of: slot) { return nil }
        return "MOVED \(slot) \(endpoint)"
    }
}
