import CacheEngine
import NIOCore
import RESP

/// A blocking command this connection waits in.
struct BlockedCommand {
    /// The command as it arrived, re-encoded, to run again when woken.
    var request: ByteBuffer
    var keys: [[UInt8]]
    /// Unix milliseconds; nil = forever. Kept across wake-ups that find nothing.
    var deadline: Int64?
    var timer: Scheduled<Void>?
    /// BLMOVE and BRPOPLPUSH time out with a null bulk string, the others with a null array.
    var timesOutWithNullBulk: Bool
}

/// What a command executed by the engine left for the server to do once the engine lock is
/// released: keyspace notifications to publish and keys whose waiters to wake.
struct EngineAftermath {
    var events: [KeyspaceEvent] = []
    var readyKeys: [[UInt8]] = []
}

extension ConnectionHandler {
    /// Collects what the command just executed left behind; a blocking command that found
    /// nothing is registered as a waiter here, under the engine lock (see BlockingRegistry).
    func collectAftermath(_ engine: Engine, _ argv: Argv, context: ChannelHandlerContext) -> EngineAftermath? {
        guard engine.leftAftermath else { return nil }
        engine.aftermathTaken()
        var aftermath = EngineAftermath()
        if engine.hasKeyspaceEvents { aftermath.events = engine.takeKeyspaceEvents() }
        if engine.hasWaiters { aftermath.readyKeys = engine.takeReadyKeys() }
        if let request = engine.takeBlockRequest() {
            let cap = state.maxBlockedClients.load(ordering: .relaxed)
            if executingTransaction {
                // Inside EXEC nothing blocks: the command answers as if its timeout had
                // passed, as in Redis.
                engine.stopWaiting(on: request.keys)
                if Self.timesOutWithNullBulk(argv) { writer.null() } else { writer.nullArray() }
            } else if cap > 0 && blocked == nil && state.blocking.count >= cap {
                writer.error("ERR max number of blocked clients reached")
            } else {
                registerWaiter(request, argv, context: context)
            }
        }
        return aftermath
    }

    /// Publishes notifications and wakes waiters, outside the engine lock.
    func settle(_ aftermath: EngineAftermath?, context: ChannelHandlerContext) {
        guard let aftermath else { return }
        state.publishKeyspaceEvents(aftermath.events)
        state.blocking.signal(aftermath.readyKeys)
        if var blocked, blocked.timer == nil, let deadline = blocked.deadline {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let delay = max(0, deadline - WallClock.milliseconds())
            blocked.timer = context.eventLoop.scheduleTask(in: .milliseconds(delay)) {
                let (handler, context) = loopBound.value
                handler.blockTimedOut(context: context)
            }
            self.blocked = blocked
        }
    }

    /// BLMOVE and BRPOPLPUSH time out with a null bulk string, the other blocking commands with
    /// a null array.
    static func timesOutWithNullBulk(_ argv: Argv) -> Bool {
        let name = String(decoding: argv[0], as: UTF8.self).lowercased()
        return name == "blmove" || name == "brpoplpush"
    }

    private func registerWaiter(_ request: BlockRequest, _ argv: Argv, context: ChannelHandlerContext) {
        guard let id = record?.id else { return }
        var encoded = context.channel.allocator.buffer(capacity: 64)
        encoded.writeString("*\(argv.count)\r\n")
        for index in 0..<argv.count {
            encoded.writeString("$\(argv[index].count)\r\n")
            encoded.writeBytes(argv[index])
            encoded.writeString("\r\n")
        }
        let deadline = retryDeadline ?? request.timeout.map { WallClock.milliseconds() + $0 }
        blocked = BlockedCommand(request: encoded, keys: request.keys, deadline: deadline, timer: retryTimer,
                                 timesOutWithNullBulk: Self.timesOutWithNullBulk(argv))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        state.blocking.add(BlockingRegistry.Waiter(id: id, keys: request.keys) { key in
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.wokenUp(by: key, context: context)
            }
        }, atFront: retryDeadline != nil || retryTimer != nil || isRetrying)
    }

    /// A key this connection waited on received elements: run the command again. If it
    /// finds nothing (another client was faster) it waits again, in its old place.
    func wokenUp(by key: [UInt8], context: ChannelHandlerContext) {
        guard let blocked, context.channel.isActive else {
            // Gone or already answered: hand the wake-up to the next waiter.
            state.blocking.signal([key])
            return
        }
        self.blocked = nil
        state.engine.withEngine { $0.stopWaiting(on: blocked.keys) }
        retryDeadline = blocked.deadline
        retryTimer = blocked.timer
        isRetrying = true
        var request = blocked.request
        process(&request, now: WallClock.milliseconds(), context: context)
        isRetrying = false
        retryDeadline = nil
        retryTimer = nil
        if self.blocked == nil {
            blocked.timer?.cancel()
            if !awaitingProxy { resumeAfterProxy(context: context) }
        }
    }

    func blockTimedOut(context: ChannelHandlerContext) {
        guard let blocked, let id = record?.id else { return }
        self.blocked = nil
        state.engine.withEngine { engine in
            engine.stopWaiting(on: blocked.keys)
            state.blocking.remove(id: id)
        }
        if blocked.timesOutWithNullBulk { writer.null() } else { writer.nullArray() }
        resumeAfterProxy(context: context)
    }

    /// The connection closed while blocked: stop waiting, so no element is handed to it.
    func abandonBlocked() {
        guard let blocked, let id = record?.id else { return }
        self.blocked = nil
        blocked.timer?.cancel()
        state.engine.withEngine { engine in
            engine.stopWaiting(on: blocked.keys)
            state.blocking.remove(id: id)
        }
    }
}

extension ServerState {
    /// Publishes keyspace notifications on this node (as Redis Cluster does: events are local
    /// to the node that holds the key).
    func publishKeyspaceEvents(_ events: [KeyspaceEvent]) {
        for event in events {
            let eventBytes = Array(event.event.utf8)
            pubsub.publish(channel: Array("__keyspace@0__:".utf8) + event.key, message: eventBytes)
            pubsub.publish(channel: Array("__keyevent@0__:".utf8) + eventBytes, message: event.key)
        }
    }
}
