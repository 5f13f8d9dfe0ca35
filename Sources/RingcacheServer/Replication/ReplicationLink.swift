import Cluster
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The outbound half of replication to one peer: an ordered, numbered queue of ops, a TCP
/// connection that carries them, and what the peer has acknowledged.
///
/// Everything not acknowledged stays queued. While the peer is unreachable the queue is the
/// hinted handoff of Dynamo (§4.6): it is replayed when the peer comes back. It is bounded by
/// `maxQueuedOps` and `maxQueuedBytes`; past that the queue is dropped and the peer is told to
/// resynchronise (`ReplicationOp.resync`) when it returns, so it refills instead of missing
/// writes silently.
///
/// `@unchecked Sendable`: all mutable state is guarded by `lock`; the channel is only written
/// to on its own event loop.
final class ReplicationLink: @unchecked Sendable {
    let peer: NodeID
    let address: MemberAddress
    private let service: ReplicationService
    private let lock = NIOLock()
    private var queue: [(sequence: UInt64, op: ReplicationOp, bytes: Int)] = []
    private var queueHead = 0
    private var queuedBytes = 0
    /// Ops from `queue[queueHead]` up to this index have been written on the current channel.
    private var sentIndex = 0
    private var nextSequence: UInt64 = 1
    private(set) var acknowledged: UInt64 = 0
    private var channel: Channel?
    private var connecting = false
    private var flushScheduled = false
    private var overflowed = false
    private var closed = false
    /// A connection existed before: what is queued at the next one are hints to replay.
    private var everConnected = false
    private var reconnectDelay: Int64 = 50
    private var waiters: [(sequence: UInt64, callback: @Sendable () -> Void)] = []
    /// Counters for INFO: ops sent, ops dropped by overflow.
    private(set) var opsSent = 0
    private(set) var opsDropped = 0

    static let maxQueuedOps = 200_000
    static let maxQueuedBytes = 128 * 1024 * 1024
    static let maxBatchOps = 2_000
    static let maxBatchBytes = 1024 * 1024

    init(peer: NodeID, address: MemberAddress, service: ReplicationService) {
        self.peer = peer
        self.address = address
        self.service = service
    }

    var eventLoop: EventLoop { service.group.next() }

    /// Queues `op` and returns its sequence number. Safe from any thread.
    @discardableResult
    func enqueue(_ op: ReplicationOp) -> UInt64 {
        let size = Self.estimatedSize(op)
        let (sequence, schedule): (UInt64, Bool) = lock.withLock {
            let sequence = nextSequence
            nextSequence += 1
            guard !closed else { return (sequence, false) }
            queue.append((sequence, op, size))
            queuedBytes += size
            if queue.count - queueHead > Self.maxQueuedOps || queuedBytes > Self.maxQueuedBytes {
                dropQueueLocked()
            }
            let schedule = channel != nil && !flushScheduled
            if schedule { flushScheduled = true }
            return (sequence, schedule)
        }
        if schedule {
            eventLoop.execute { self.flush() }
        } else if lock.withLock({ channel == nil && !connecting && !closed }) {
            eventLoop.execute { self.connect() }
        }
        return sequence
    }

    private func dropQueueLocked() {
        opsDropped += queue.count - queueHead
        queue.removeAll()
        queueHead = 0
        sentIndex = 0
        queuedBytes = 0
        overflowed = true
        // Writes that were never delivered can never be acknowledged.
        acknowledged = nextSequence - 1
        let ready = waiters
        waiters.removeAll()
        for waiter in ready { eventLoop.execute { waiter.callback() } }
    }

    /// The highest sequence handed out so far (what a WAIT after the latest write waits for).
    var lastSequence: UInt64 { lock.withLock { nextSequence - 1 } }

    var isConnected: Bool { lock.withLock { channel != nil } }

    /// Ops queued and not yet acknowledged: the hints held for the peer.
    var pendingCount: Int { lock.withLock { queue.count - queueHead } }

    /// Calls `callback` (on the link's event loop) once `sequence` is acknowledged, or the op
    /// can no longer be (the queue was dropped, the link closed).
    func whenAcknowledged(_ sequence: UInt64, _ callback: @escaping @Sendable () -> Void) {
        let done = lock.withLock { () -> Bool in
            if acknowledged >= sequence || closed { return true }
            waiters.append((sequence, callback))
            return false
        }
        if done { eventLoop.execute { callback() } }
    }

    func isAcknowledged(_ sequence: UInt64) -> Bool {
        lock.withLock { acknowledged >= sequence }
    }

    // MARK: Connection

    private func connect() {
        let proceed = lock.withLock { () -> Bool in
            guard channel == nil, !connecting, !closed else { return false }
            connecting = true
            return true
        }
        guard proceed else { return }
        let link = self
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(500))
            .channelInitializer { [linkTLS = service.linkTLS] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let linkTLS {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: linkTLS.connecting, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ReplicationFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(ReplicationOutboundHandler(link: link))
                }
            }
        bootstrap.connect(host: address.host, port: Int(address.busPort)).whenFailure { _ in
            link.connectionEnded(nil)
        }
    }

    /// The peer proved itself and sent its challenge: answer it and start sending.
    func handshake(nonce: [UInt8], on channel: Channel) {
        var buffer = channel.allocator.buffer(capacity: 64)
        let id = service.localID
        ReplicationCodec.encode(.hello(id: id, proof: service.proof(nonce: nonce, id: id)), into: &buffer)
        channel.write(buffer, promise: nil)
        let (resync, backlog) = lock.withLock { () -> (Bool, Int) in
            self.channel = channel
            connecting = false
            reconnectDelay = 50
            sentIndex = queueHead
            flushScheduled = true
            defer {
                overflowed = false
                everConnected = true
            }
            return (overflowed, everConnected ? queue.count - queueHead : 0)
        }
        if backlog > 0 {
            service.logger.notice("Replaying hints to a peer that is back", metadata: ["peer": "\(peer.short)", "ops": "\(backlog)"])
        }
        if resync {
            var buffer = channel.allocator.buffer(capacity: 64)
            ReplicationCodec.encode(.batch(firstSequence: 0, ops: [.resync]), into: &buffer)
            channel.write(buffer, promise: nil)
        }
        flush()
    }

    func connectionEnded(_ ended: Channel?) {
        let retry = lock.withLock { () -> Bool in
            if let ended, channel !== ended { return false }
            channel = nil
            connecting = false
            flushScheduled = false
            sentIndex = queueHead
            reconnectDelay = min(reconnectDelay * 2, 1_000)
            return !closed
        }
        guard retry else { return }
        let delay = lock.withLock { reconnectDelay }
        eventLoop.scheduleTask(in: .milliseconds(delay)) { [self] in
            if lock.withLock({ !closed && queue.count > queueHead }) { connect() }
        }
    }

    /// The peer applied everything up to `sequence`.
    func acknowledge(_ sequence: UInt64) {
        let ready: [@Sendable () -> Void] = lock.withLock {
            guard sequence > acknowledged else { return [] }
            acknowledged = sequence
            var removed = 0
            while queueHead < queue.count && queue[queueHead].sequence <= sequence {
                queuedBytes -= queue[queueHead].bytes
                queueHead += 1
                removed += 1
            }
            if queueHead > 4096 && queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                sentIndex -= queueHead
                queueHead = 0
            }
            sentIndex = max(sentIndex, queueHead)
            var ready: [@Sendable () -> Void] = []
            waiters.removeAll { waiter in
                guard waiter.sequence <= sequence else { return false }
                ready.append(waiter.callback)
                return true
            }
            return ready
        }
        for callback in ready { callback() }
    }

    /// Writes what is queued and not yet sent, in batches.
    func flush() {
        guard let channel = lock.withLock({ () -> Channel? in
            flushScheduled = false
            return self.channel
        }) else { return }
        var wrote = false
        while true {
            let batch: (UInt64, [ReplicationOp])? = lock.withLock {
                guard sentIndex < queue.count else { return nil }
                let first = queue[sentIndex].sequence
                var ops: [ReplicationOp] = []
                var bytes = 0
                while sentIndex < queue.count && ops.count < Self.maxBatchOps && bytes < Self.maxBatchBytes {
                    ops.append(queue[sentIndex].op)
                    bytes += queue[sentIndex].bytes
                    sentIndex += 1
                }
                opsSent += ops.count
                return (first, ops)
            }
            guard let (first, ops) = batch else { break }
            var buffer = channel.allocator.buffer(capacity: 4096)
            ReplicationCodec.encode(.batch(firstSequence: first, ops: ops), into: &buffer)
            channel.write(buffer, promise: nil)
            wrote = true
        }
        if wrote { channel.flush() }
    }

    /// The peer left the plan for good: stop, and release whoever waits.
    func close() {
        let (channel, ready) = lock.withLock { () -> (Channel?, [@Sendable () -> Void]) in
            closed = true
            let ready = waiters.map(\.callback)
            waiters.removeAll()
            return (self.channel, ready)
        }
        channel?.close(promise: nil)
        for callback in ready { eventLoop.execute { callback() } }
    }

    static func estimatedSize(_ op: ReplicationOp) -> Int {
        switch op {
        case .write(let record): 32 + record.key.count + (record.value?.count ?? 0)
        default: 16
        }
    }
}

/// Splits the byte stream of a replication link into frames.
struct ReplicationFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ReplicationFrame

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try ReplicationCodec.decode(&buffer) else { return .needMoreData }
        context.fireChannelRead(NIOAny(frame))
        return .continue
    }
}

/// The connecting side of a link: answers the challenge, then only reads acknowledgements.
final class ReplicationOutboundHandler: ChannelInboundHandler {
    typealias InboundIn = ReplicationFrame
    let link: ReplicationLink

    init(link: ReplicationLink) {
        self.link = link
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .challenge(let nonce): link.handshake(nonce: nonce, on: context.channel)
        case .ack(let sequence): link.acknowledge(sequence)
        case .hello, .batch: context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        link.connectionEnded(context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
