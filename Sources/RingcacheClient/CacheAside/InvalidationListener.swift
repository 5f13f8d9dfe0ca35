import NIOCore
import NIOPosix
import NIOSSL
import RESP
import Synchronization

/// A subscriber connection on the invalidation channel: every key published there is
/// dropped from the near cache. PUBLISH reaches subscribers on every node, so one connection
/// to any node hears writes made through any other. While disconnected, the near cache is
/// emptied and the listener reconnects (with backoff), since messages may have been missed.
final class InvalidationListener: Sendable {
    let channelName: String
    private let nearCache: NearCache
    private let endpoints: @Sendable () -> [Endpoint]
    private let group: any EventLoopGroup
    private let tls: (options: TLSOptions, context: NIOSSLContext)?
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// Set once the SUBSCRIBE is confirmed (tests wait for it).
    let isSubscribed = Atomic<Bool>(false)

    init(channel: String, nearCache: NearCache, group: any EventLoopGroup, tls: (options: TLSOptions, context: NIOSSLContext)?,
         endpoints: @escaping @Sendable () -> [Endpoint]) {
        self.tls = tls
        channelName = channel
        self.nearCache = nearCache
        self.endpoints = endpoints
        self.group = group
    }

    func start() {
        let runner = Task { [self] in
            var attempt = 0
            var random = SystemRandomNumberGenerator()
            while !Task.isCancelled {
                for endpoint in endpoints() where !Task.isCancelled {
                    await listen(at: endpoint)
                }
                nearCache.removeAll()
                isSubscribed.store(false, ordering: .relaxed)
                let delay = RetryPolicy(maxAttempts: .max, baseDelay: .milliseconds(50), maxDelay: .seconds(2)).delay(beforeRetry: attempt, using: &random)
                attempt += 1
                try? await Task.sleep(for: delay)
            }
        }
        task.withLock { $0 = runner }
    }

    func stop() {
        task.withLock { $0?.cancel() }
    }

    /// Subscribes at `endpoint` and handles messages until the connection ends.
    private func listen(at endpoint: Endpoint) async {
        let closed = group.any().makePromise(of: Void.self)
        let handler = SubscriberHandler(channel: Array(channelName.utf8), onSubscribed: { [self] in
            isSubscribed.store(true, ordering: .relaxed)
        }, onMessage: { [nearCache] key in
            nearCache.remove(key)
        })
        let tls = self.tls
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(1))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try tls.options.handler(context: tls.context, host: endpoint.host))
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        guard let channel = try? await bootstrap.connect(host: endpoint.host, port: endpoint.port).get() else { return }
        channel.closeFuture.cascade(to: closed)
        var request = channel.allocator.buffer(capacity: 64)
        RESPConnection.encode([Array("SUBSCRIBE".utf8), Array(channelName.utf8)], into: &request)
        channel.writeAndFlush(request, promise: nil)
        await withTaskCancellationHandler {
            try? await closed.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// Reads a subscribed connection's pushes: the subscribe confirmation, then messages.
final class SubscriberHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let channel: [UInt8]
    let onSubscribed: @Sendable () -> Void
    let onMessage: @Sendable (String) -> Void
    private let received = Mutex<ByteBuffer?>(nil)

    init(channel: [UInt8], onSubscribed: @escaping @Sendable () -> Void, onMessage: @escaping @Sendable (String) -> Void) {
        self.channel = channel
        self.onSubscribed = onSubscribed
        self.onMessage = onMessage
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        received.withLock { previous in
            if var carried = previous {
                carried.writeBuffer(&input)
                input = carried
            }
            previous = nil
        }
        while let value = try? RESPValue.parse(from: &input) {
            guard let parts = value.elements, let kind = parts.first?.string else { continue }
            if kind == "subscribe" {
                onSubscribed()
            } else if kind == "message", parts.count == 3, let key = parts[2].string {
                onMessage(key)
            }
        }
        if input.readableBytes > 0 {
            input.discardReadBytes()
            received.withLock { $0 = input }
        }
    }
}
