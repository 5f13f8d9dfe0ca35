import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RESP
import Synchronization

/// Connections this node keeps to other nodes' client ports for `cluster-routing proxy`: one
/// pipelined connection per endpoint and protocol version, made on first use and replaced
/// when it fails. Replies come back as the raw bytes the owner sent, to be relayed unchanged.
final class ProxyConnections: Sendable {
    struct Key: Hashable, Sendable {
        var host: String
        var port: Int
        var resp3: Bool
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A forwarded request not answered in this time closes its connection, failing it and
    /// everything queued behind it.
    static let timeout = TimeAmount.seconds(5)
    /// The client name a proxy connection announces, so the other node never forwards its
    /// requests a second time.
    static let linkName = "ringcache-proxy-link"

    private let group: EventLoopGroup
    private let channels = Mutex<[Key: EventLoopFuture<Channel>]>([:])

    init(group: EventLoopGroup) {
        self.group = group
    }

    /// Sends one request (a complete RESP command) and returns the owner's reply bytes.
    func send(_ request: ByteBuffer, to key: Key) -> EventLoopFuture<ByteBuffer> {
        let channel = channels.withLock { channels -> EventLoopFuture<Channel> in
            if let existing = channels[key] { return existing }
            let connecting = connect(key)
            channels[key] = connecting
            return connecting
        }
        return channel.flatMap { channel in
            let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
            channel.writeAndFlush(ProxyRequest(bytes: request, promises: [promise]), promise: nil)
            return promise.futureResult
        }.flatMapErrorThrowing { error in
            self.channels.withLock { _ = $0.removeValue(forKey: key) }
            throw error
        }
    }

    private func connect(_ key: Key) -> EventLoopFuture<Channel> {
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ProxyReplyHandler())
                }
            }
        return bootstrap.connect(host: key.host, port: key.port).flatMap { channel in
            channel.closeFuture.whenComplete { _ in self.discard(key) }
            // Name the link, and speak the client's protocol so replies relay unchanged.
            var setup = channel.allocator.buffer(capacity: 96)
            setup.writeString("*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$\(Self.linkName.utf8.count)\r\n\(Self.linkName)\r\n")
            var requests = 1
            if key.resp3 {
                setup.writeString("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
                requests = 2
            }
            let promises = (0..<requests).map { _ in channel.eventLoop.makePromise(of: ByteBuffer.self) }
            channel.writeAndFlush(ProxyRequest(bytes: setup, promises: promises), promise: nil)
            return EventLoopFuture.andAllSucceed(promises.map(\.futureResult), on: channel.eventLoop).map { channel }
        }
    }

    /// Forgets a broken connection so the next request makes a new one.
    func discard(_ key: Key) {
        channels.withLock { _ = $0.removeValue(forKey: key) }
    }
}

/// Bytes holding one or more commands, and a promise for each command's reply.
struct ProxyRequest: Sendable {
    var bytes: ByteBuffer
    var promises: [EventLoopPromise<ByteBuffer>]
}

/// Pipelines requests on one connection and completes their promises in order, each with the
/// raw bytes of one reply.
final class ProxyReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ProxyRequest
    typealias OutboundOut = ByteBuffer

    private var pending = CircularBuffer<EventLoopPromise<ByteBuffer>>()
    private var received: ByteBuffer?
    private var sent = 0
    private var answered = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending.append(contentsOf: request.promises)
        sent += request.promises.count
        let number = sent
        context.write(wrapOutboundOut(request.bytes), promise: promise)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: ProxyConnections.timeout) {
            let (handler, context) = loopBound.value
            if handler.answered < number { context.close(promise: nil) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        if var previous = received {
            previous.writeBuffer(&input)
            input = previous
        }
        received = nil
        while !pending.isEmpty {
            let before = input
            do {
                guard try RESPValue.parse(from: &input) != nil else { break }
            } catch {
                failAll(ProxyConnections.Failure(description: "unparseable reply from the owner: \(error)"))
                context.close(promise: nil)
                return
            }
            // Measured by what the parser consumed; it may hand back a buffer with other indices.
            guard let reply = before.getSlice(at: before.readerIndex, length: before.readableBytes - input.readableBytes) else {
                failAll(ProxyConnections.Failure(description: "lost track of a reply from the owner"))
                context.close(promise: nil)
                return
            }
            answered += 1
            pending.removeFirst().succeed(reply)
        }
        if input.readableBytes > 0 {
            input.discardReadBytes()
            received = input
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ProxyConnections.Failure(description: "connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        while let promise = pending.popFirst() {
            answered += 1
            promise.fail(error)
        }
    }
}
