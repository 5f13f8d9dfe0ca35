import Cluster
import NIOCore

/// The accepting side of a replication link: challenges the peer to prove it knows the
/// cluster secret, then applies its batches in order and acknowledges each one.
final class ReplicationInboundHandler: ChannelInboundHandler {
    typealias InboundIn = ReplicationFrame
    let service: ReplicationService
    private var nonce: [UInt8] = []
    private var peer: NodeID?

    init(service: ReplicationService) {
        self.service = service
    }

    func channelActive(context: ChannelHandlerContext) {
        var generator = SystemRandomNumberGenerator()
        nonce = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var buffer = context.channel.allocator.buffer(capacity: 32)
        ReplicationCodec.encode(.challenge(nonce: nonce), into: &buffer)
        context.writeAndFlush(NIOAny(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .hello(let id, let proof):
            guard peer == nil, HMACSHA256.equal(proof, service.proof(nonce: nonce, id: id)) else {
                service.authenticationFailures.wrappingAdd(1, ordering: .relaxed)
                service.logger.warning("Replication link refused: bad proof of the cluster secret",
                                       metadata: ["peer": "\(context.channel.remoteAddress?.description ?? "?")"])
                context.close(promise: nil)
                return
            }
            peer = id
        case .batch(let firstSequence, let ops):
            guard let peer else {
                context.close(promise: nil)
                return
            }
            service.applyBatch(ops, from: peer)
            if !ops.isEmpty && firstSequence > 0 {
                var buffer = context.channel.allocator.buffer(capacity: 16)
                ReplicationCodec.encode(.ack(sequence: firstSequence + UInt64(ops.count) - 1), into: &buffer)
                context.writeAndFlush(NIOAny(buffer), promise: nil)
            }
        case .challenge, .ack:
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        service.logger.debug("Replication link error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
