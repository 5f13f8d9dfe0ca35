import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Accepts client connections on every `bind` address until graceful shutdown; then stops
/// accepting, lets each connection finish the replies it is writing, and closes it.
struct ClientListener: Service {
    let state: ServerState
    let group: MultiThreadedEventLoopGroup

    func run() async throws {
        let configuration = state.configuration.withLock { $0 }
        let state = self.state
        let bootstrap = Self.bootstrap(group: group, backlog: configuration.tcpBacklog, state: state, tls: nil)
        var listeners = try await bootstrap.bindAll(addresses: configuration.bind, port: configuration.port, describing: "server TCP")
        state.logger.notice("Ready to accept connections tcp", metadata: [
            "port": "\(configuration.port)", "bind": "\(configuration.bind.joined(separator: " "))",
            "io-threads": "\(configuration.ioThreads)",
        ])
        if configuration.tlsPort > 0 {
            // The same connection handler behind a TLS handshake; the context was checked at
            // start-up, so a bad file has already stopped the process with one line.
            let context = try ServerTLS.makeContext(configuration)
            let tlsBootstrap = Self.bootstrap(group: group, backlog: configuration.tcpBacklog, state: state, tls: context)
            listeners += try await tlsBootstrap.bindAll(addresses: configuration.bind, port: configuration.tlsPort, describing: "server TLS")
            state.logger.notice("Ready to accept connections tls", metadata: [
                "port": "\(configuration.tlsPort)", "auth-clients": "\(configuration.tlsAuthClients)",
            ])
        }
        state.ready.store(true, ordering: .relaxed)
        try? await gracefulShutdown()
        state.ready.store(false, ordering: .relaxed)
        state.logger.notice("Shutting down: no longer accepting connections")
        for listener in listeners { try? await listener.close() }
        // A close submitted to a connection's event loop runs after the reads already queued
        // there, so replies being written are flushed first.
        for client in state.clients.all() {
            try? await client.channel.close()
        }
    }

    /// A listener's bootstrap: every connection gets a `ConnectionHandler`, behind a TLS
    /// handshake when `tls` is given.
    static func bootstrap(group: MultiThreadedEventLoopGroup, backlog: Int, state: ServerState, tls: NIOSSLContext?) -> ServerBootstrap {
        let coalescers = FlushCoalescer.perLoop(of: group)
        return ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(backlog))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(state: state, flushCoalescer: coalescers[ObjectIdentifier(channel.eventLoop)]))
                }
            }
    }
}

struct StartupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
