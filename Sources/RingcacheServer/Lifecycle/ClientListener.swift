import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Accepts client connections on every `bind` address until graceful shutdown (plain TCP
/// through `ClientAcceptor`, TLS through NIO's `ServerBootstrap`); then stops
/// accepting, lets each connection finish the replies it is writing, and closes it.
struct ClientListener: Service {
    let state: ServerState
    let group: MultiThreadedEventLoopGroup

    func run() async throws {
        let configuration = state.configuration.withLock { $0 }
        let state = self.state
        let coalescers = FlushCoalescer.perLoop(of: group, busyPollMicroseconds: configuration.busyPollMicroseconds)
        let acceptor = try ClientAcceptor(addresses: configuration.bind, port: configuration.port,
                                          backlog: configuration.tcpBacklog, describing: "server TCP")
        let group = self.group
        acceptor.start(logger: state.logger) { descriptor in
            Self.adopt(descriptor, group: group, state: state, coalescers: coalescers)
        }
        var listeners: [any Channel] = []
        state.logger.notice("Ready to accept connections tcp", metadata: [
            "port": "\(configuration.port)", "bind": "\(configuration.bind.joined(separator: " "))",
            "io-threads": "\(configuration.ioThreads)",
        ])
        if configuration.tlsPort > 0 {
            // The same connection handler behind a TLS handshake; the context was checked at
            // start-up, so a bad file has already stopped the process with one line.
            let context = try ServerTLS.makeContext(configuration)
            let tlsBootstrap = Self.tlsBootstrap(group: group, backlog: configuration.tcpBacklog, state: state, tls: context, coalescers: coalescers)
            do {
                listeners += try await tlsBootstrap.bindAll(addresses: configuration.bind, port: configuration.tlsPort, describing: "server TLS")
            } catch {
                acceptor.stop()
                throw error
            }
            state.logger.notice("Ready to accept connections tls", metadata: [
                "port": "\(configuration.tlsPort)", "auth-clients": "\(configuration.tlsAuthClients)",
            ])
        }
        state.ready.store(true, ordering: .relaxed)
        try? await gracefulShutdown()
        state.ready.store(false, ordering: .relaxed)
        state.logger.notice("Shutting down: no longer accepting connections")
        acceptor.stop()
        for listener in listeners { try? await listener.close() }
        // A close submitted to a connection's event loop runs after the reads already queued
        // there, so replies being written are flushed first.
        for client in state.clients.all() {
            try? await client.channel.close()
        }
    }

    /// Hands a plain-TCP connection accepted by `ClientAcceptor` to the next event loop. Its
    /// handler knows the descriptor, and so writes its replies to the socket directly.
    static func adopt(_ descriptor: CInt, group: MultiThreadedEventLoopGroup, state: ServerState,
                      coalescers: [ObjectIdentifier: FlushCoalescer]) {
        let loop = group.next()
        ClientBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ConnectionHandler(state: state, flushCoalescer: coalescers[ObjectIdentifier(channel.eventLoop)],
                                                    directDescriptor: descriptor)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .withConnectedSocket(descriptor)
            .whenFailure { error in
                // NIO owns the descriptor once it is handed over, and closes it on failure.
                state.logger.debug("Could not adopt an accepted connection", metadata: ["error": "\(error)"])
            }
    }

    /// The TLS listener's bootstrap: every connection gets a `ConnectionHandler` behind a TLS
    /// handshake, and its replies go through the channel.
    static func tlsBootstrap(group: MultiThreadedEventLoopGroup, backlog: Int, state: ServerState, tls: NIOSSLContext,
                             coalescers: [ObjectIdentifier: FlushCoalescer]) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(backlog))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
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
