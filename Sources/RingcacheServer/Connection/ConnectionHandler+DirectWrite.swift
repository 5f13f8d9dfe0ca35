#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Replies written to the socket by the handler itself, as Redis's `writeToClient` does,
/// instead of through the channel's outbound path.
///
/// Why: at one request per read (`redis-benchmark -P 1`) handing a reply to the channel and
/// flushing it was about a quarter of the server's user CPU per request in `perf`: two
/// traversals of the pipeline, the pending-writes queue, and reference counting all the way
/// down, for what is one `send` of a few bytes. The channel still does all the reading.
///
/// Contract, so replies keep their order and nothing is written to a descriptor NIO closed:
/// - Only a plain TCP connection accepted by `ClientAcceptor`, whose descriptor is known,
///   writes directly; one behind TLS never does.
/// - Replies go to the socket directly only while nothing this handler handed to the channel
///   is still unwritten (`ReplyRoute`). When the socket takes only part of a reply, the rest
///   goes to the channel, which waits for the socket to drain and applies the output limits
///   and read pausing as before; the replies after it follow it there until it is written.
/// - Other connections write to this one, through the channel, only pub/sub messages and
///   MONITOR lines, so a connection that subscribes or becomes a monitor stops writing
///   directly for good, and from then on the channel orders everything it writes.
/// - NIO closes the descriptor only inside `close0`, which fires `channelInactive` before
///   returning to any code of ours that could write, and `channelInactive` forgets the
///   descriptor. (Between the two only write promises complete, and ours just count.)
extension ConnectionHandler {
    /// Writes `writer.buffer` to `descriptor`. Returns true when every byte is on the socket
    /// (or the peer is gone and the connection is closing); false leaves the rest in
    /// `writer.buffer` for the channel.
    func writeDirectly(_ descriptor: CInt, context: ChannelHandlerContext) -> Bool {
        while true {
            let readable = writer.buffer.readableBytes
            let sent = writer.buffer.withUnsafeReadableBytes { bytes in
                // MSG_NOSIGNAL: a peer that went away is an EPIPE here, not a SIGPIPE.
                send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            }
            if sent == readable {
                writer.buffer.clear()
                return true
            }
            if sent > 0 {
                writer.buffer.moveReaderIndex(forwardBy: sent)
                continue
            }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                return false
            default:
                // EPIPE, ECONNRESET: the replies have nowhere to go.
                writer.buffer.clear()
                replyRoute.useChannelOnly()
                context.close(promise: nil)
                return true
            }
        }
    }

    /// Hands `writer.buffer` to the channel; while the socket is a way too, the write is
    /// counted until the channel reports it done.
    func handToChannel(context: ChannelHandlerContext) {
        guard replyRoute.tracksChannelWrites else {
            context.write(wrapOutboundOut(writer.buffer), promise: nil)
            return
        }
        replyRoute.channelWriteStarted()
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.replyRoute.channelWriteFinished()
        }
        context.write(wrapOutboundOut(writer.buffer), promise: written)
    }
}
