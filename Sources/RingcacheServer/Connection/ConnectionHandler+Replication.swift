import CacheEngine
import NIOCore
import RESP

extension ConnectionHandler {
    /// Runs a write on a node with peers: stamps it with a fresh version, queues what it
    /// changed to the slot's other owners, and with `min-replicas-ack N` holds the reply
    /// until N of them acknowledged it (or fails it with NOREPLICAS after
    /// `replica-ack-timeout`). Later requests of this connection wait, so replies keep order.
    func executeReplicatedWrite(_ spec: CommandSpec, _ argv: Argv, now: Int64, replyStart: Int, context: ChannelHandlerContext) {
        var tickets: [ReplicationService.Ticket] = []
        let replication = state.replication
        var aftermath: EngineAftermath?
        let changed = state.engine.withEngine { engine in
            let version = replication.nextVersion(now: now)
            engine.writeVersion = version
            engine.execute(spec, argv, now: now, into: &writer)
            aftermath = collectAftermath(engine, argv, context: context)
            return replication.replicateChanges(of: engine, version: version, now: now, tickets: &tickets)
        }
        settle(aftermath, context: context)
        if executingTransaction {
            // EXEC waits once, for all of its writes (see `exec`).
            transactionTickets += tickets
            transactionChangedData = transactionChangedData || changed
            return
        }
        if !tickets.isEmpty { lastWriteTickets = tickets }
        // A write that changed nothing (SET NX on a present key) has nothing to wait for.
        guard changed else { return }
        let failed = writer.buffer.writerIndex > replyStart && writer.buffer.getInteger(at: replyStart, as: UInt8.self) == UInt8(ascii: "-")
        guard !failed else { return }
        holdReplyForAcknowledgements(from: replyStart, tickets: tickets, context: context)
    }

    /// `min-replicas-ack N`: takes the reply written since `replyStart` back out of the output
    /// and sends it once N peers acknowledged `tickets`, or sends NOREPLICAS instead after
    /// `replica-ack-timeout`. Later requests of this connection wait meanwhile.
    func holdReplyForAcknowledgements(from replyStart: Int, tickets: [ReplicationService.Ticket], context: ChannelHandlerContext) {
        let needed = state.minReplicasAck
        guard needed > 0 else { return }
        let replication = state.replication
        let reply = writer.buffer.getSlice(at: replyStart, length: writer.buffer.writerIndex - replyStart)!
        writer.buffer.moveWriterIndex(to: replyStart)
        awaitingProxy = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        replication.waitForAcknowledgements(tickets, needed: needed, timeout: .milliseconds(Int64(state.replicaAckTimeout)), on: context.eventLoop)
            .whenSuccess { acknowledged in
                let (handler, context) = loopBound.value
                if acknowledged >= needed {
                    var reply = reply
                    handler.writer.buffer.writeBuffer(&reply)
                } else {
                    handler.writer.error("NOREPLICAS Not enough good replicas to write.")
                    handler.batch.noteError(code: "NOREPLICAS")
                }
                handler.resumeAfterProxy(context: context)
            }
    }

    /// WAIT numreplicas timeout: how many peers acknowledged this connection's latest write,
    /// waiting up to `timeout` ms (0 = forever, as in Redis) for `numreplicas` of them.
    func wait(_ argv: Argv, context: ChannelHandlerContext) {
        guard let needed = Int(String(decoding: argv[1], as: UTF8.self)), let timeout = Int64(String(decoding: argv[2], as: UTF8.self)) else {
            writer.error("ERR value is not an integer or out of range")
            return
        }
        guard timeout >= 0 else {
            writer.error("ERR timeout is negative")
            return
        }
        let tickets = lastWriteTickets
        guard !tickets.isEmpty else {
            writer.integer(0)
            return
        }
        awaitingProxy = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let limit: TimeAmount = timeout == 0 ? .hours(24 * 365) : .milliseconds(timeout)
        state.replication.waitForAcknowledgements(tickets, needed: Int(max(needed, 0)), timeout: limit, on: context.eventLoop)
            .whenSuccess { acknowledged in
                let (handler, context) = loopBound.value
                handler.writer.integer(acknowledged)
                handler.resumeAfterProxy(context: context)
            }
    }
}
