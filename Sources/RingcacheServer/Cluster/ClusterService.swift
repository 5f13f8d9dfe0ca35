import ServiceLifecycle

/// Runs the cluster bus and the replication links for the life of the process; on graceful
/// shutdown the node tells the cluster it is leaving, so its slots move at once instead of
/// after a failure timeout.
struct ClusterService: Service {
    let node: ClusterNode
    let replication: ReplicationService

    func run() async throws {
        try await node.start()
        try await replication.start()
        node.attach(replication)
        try? await gracefulShutdown()
        await node.stop()
        await replication.stop()
    }
}

/// Listed after the client listener, so on SIGTERM it runs first, while clients are still
/// served: the node hands every slot it is the primary of to the slot's next owners, leaves
/// the cluster, and keeps answering (with MOVED) while the news spreads.
struct HandoffService: Service {
    let state: ServerState

    func run() async throws {
        try? await gracefulShutdown()
        await state.replication.handOff(timeout: .seconds(60))
        if state.cluster.leave() {
            // Gossip needs a few protocol periods to reach everyone; clients that still come
            // here meanwhile are redirected.
            try? await Task.sleep(for: .milliseconds(Int64(state.cluster.gossipSpread)))
        }
    }
}
