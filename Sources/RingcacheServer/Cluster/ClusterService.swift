import ServiceLifecycle

/// Runs the cluster bus for the life of the process; on graceful shutdown the node tells the
/// cluster it is leaving, so its slots move at once instead of after a failure timeout.
struct ClusterService: Service {
    let node: ClusterNode

    func run() async throws {
        try await node.start()
        try? await gracefulShutdown()
        await node.stop()
    }
}
