import CacheEngine
import Cluster
import NIOCore
import RESP

/// Serves one client connection: parses requests straight out of the read buffer, executes
/// them, and collects every reply of one read in a single output buffer that is written and
/// flushed once, when the read is complete — so a pipeline of thousands of commands costs one
/// write.
///
/// Bytes of a command that is not complete yet are carried to the next read. Memory a client
/// can make the server hold is bounded by `client-query-buffer-limit` on the input side and by
/// pausing reads while the socket is not writable on the output side.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    // Exclusivity: the properties marked `@exclusivity(unchecked)` are touched for every
    // command, and a handler runs only on its channel's event loop, one call at a time, so the
    // runtime's dynamic access checks (swift_beginAccess, several per command, about 5% of
    // the CPU at -P 16) guard nothing the static checks and that confinement do not. The
    // tests run the same code with the checks of the unmarked properties on.
    let state: ServerState
    let commandTable = CommandTable.shared
    var record: ClientRecord?
    @exclusivity(unchecked) var parser = RESPCommandParser()
    @exclusivity(unchecked) var arguments = CommandArguments()
    /// An incomplete command's bytes, carried to the next read.
    @exclusivity(unchecked) var carried: ByteBuffer?
    @exclusivity(unchecked) var writer = RESPWriter(buffer: ByteBuffer())
    /// The buffer handed to the channel by the previous `write`; see `write(context:)`.
    @exclusivity(unchecked) var writtenBuffer = ByteBuffer()
    /// When the current read began (Unix ms), for the client's idle time.
    @exclusivity(unchecked) var readStartedAt: Int64 = 0
    /// Set by QUIT or a protocol error: reply, flush, close.
    var closeAfterFlush = false
    /// Unix ms since when this client's unsent replies have been above the normal soft output
    /// limit; 0 = they are not.
    var aboveSoftOutputLimitSince: Int64 = 0
    @exclusivity(unchecked) var commandsThisRead = 0
    @exclusivity(unchecked) var lastCommandName = "NULL"
    @exclusivity(unchecked) var batch = CommandBatch()
    /// The key of the request after the one being dispatched, when its bytes are here.
    @exclusivity(unchecked) var nextKeyHint: UnsafeRawBufferPointer?
    /// The key of the request after that one.
    @exclusivity(unchecked) var afterNextKeyHint: UnsafeRawBufferPointer?
    /// When the previous command of this read finished (monotonic ns); see `dispatch`.
    @exclusivity(unchecked) var previousCommandEnded: Int64 = 0
    /// Read once per read: whether to time commands, and the SLOWLOG threshold.
    var timing = true
    var slowlogThreshold = 10_000
    /// `latency-monitor-threshold` in microseconds; 0 = off.
    var latencyThreshold = 0
    /// The cluster as of this read; see `ClusterView`.
    var clusterView: ClusterView?
    /// READONLY: reads may be served by any owner of a slot, not only its primary.
    var readOnlyMode = false
    /// `cluster-routing proxy`, as of this read.
    var proxyRouting = false
    /// A proxied command's reply is outstanding: later requests wait in `carried`, so replies
    /// keep the order of requests.
    var awaitingProxy = false
    /// Another node's proxy connection: its requests are never forwarded again, so nodes
    /// whose views briefly disagree answer MOVED instead of bouncing a request between them.
    var isProxyLink = false
    /// Channels and patterns this connection listens to, in subscription order.
    var subscribedChannels: [[UInt8]] = []
    var subscribedPatterns: [[UInt8]] = []
    /// Some connection is in MONITOR mode, as of this read.
    var feedMonitors = false
    /// The ring has other nodes, as of this read: writes are versioned and replicated.
    var replicating = false
    /// See `channelRead`: the node may have been paused past a failover.
    var possiblyStale = false
    /// What this connection's latest write waits for (WAIT, `min-replicas-ack`).
    var lastWriteTickets: [ReplicationService.Ticket] = []
    /// The blocking command this connection waits in (BLPOP…); later requests wait in
    /// `carried`, and reads go on so a disconnect is noticed at once.
    var blocked: BlockedCommand?
    /// While a woken waiter runs its command again: its deadline and timer carry over, and
    /// if it waits again it keeps its place at the front.
    var retryDeadline: Int64?
    var retryTimer: Scheduled<Void>?
    var isRetrying = false
    /// The ACL user this connection is authenticated as (nil: not yet), whether it may do
    /// everything (then no check runs), and the ACL generation the copy is from.
    var user: ACLUser?
    var userUnrestricted = false
    var aclGeneration = -1
    /// `client-rate-limit`'s bucket for this connection.
    var rateBucket = TokenBucket()
    /// MULTI: the commands queued for EXEC; nil outside a transaction.
    var transaction: QueuedTransaction?
    /// WATCH's keys, registered with the engine; nil until the first WATCH.
    var watchedKeys: WatchedKeys?
    /// EXEC is running the queued commands (see ConnectionHandler+Transactions).
    var executingTransaction = false
    var transactionTickets: [ReplicationService.Ticket] = []
    var transactionChangedData = false

    /// Flushes this connection's replies with the others' at the end of the tick; nil:
    /// flush at once (see `FlushCoalescer`).
    let flushCoalescer: FlushCoalescer?
    /// This connection waits in `flushCoalescer` for its flush.
    var flushIsQueued = false
    /// The channel is closed: a queued flush has nothing left to do.
    var isInactive = false
    /// Whether replies go to the socket directly or through the channel (see
    /// ConnectionHandler+DirectWrite).
    @exclusivity(unchecked) var replyRoute: ReplyRoute
    /// The loop's `BusyPoller` watches this connection's socket (see BusyPoller's contract).
    var watchedByBusyPoller = false

    /// Replies above this size are written out before the read completes.
    static let eagerWriteThreshold = 64 * 1024

    init(state: ServerState, flushCoalescer: FlushCoalescer? = nil, directDescriptor: CInt? = nil) {
        self.state = state
        self.flushCoalescer = flushCoalescer
        replyRoute = ReplyRoute(descriptor: directDescriptor)
    }

    func channelActive(context: ChannelHandlerContext) {
        if let descriptor = replyRoute.directDescriptor, let poller = flushCoalescer?.busyPoller {
            watchedByBusyPoller = poller.watch(descriptor)
        }
        writer.buffer = context.channel.allocator.buffer(capacity: 4096)
        writtenBuffer = context.channel.allocator.buffer(capacity: 4096)
        state.stats.totalConnectionsReceived.wrappingAdd(1, ordering: .relaxed)
        if state.clients.count >= state.maxClients.load(ordering: .relaxed) {
            state.stats.rejectedConnections.wrappingAdd(1, ordering: .relaxed)
            writer.error("ERR max number of clients reached")
            closeAfterFlush = true
            flush(context: context)
            return
        }
        let defaultUser = state.acl.user(named: "default")
        if ProtectedMode.denies(peer: context.channel.remoteAddress, enabled: state.protectedMode.load(ordering: .relaxed), defaultUser: defaultUser) {
            writer.error(ProtectedMode.denial)
            closeAfterFlush = true
            flush(context: context)
            return
        }
        authenticateAsDefaultUserIfOpen()
        let record = ClientRecord(id: state.clients.makeID(), channel: context.channel, createdAt: WallClock.milliseconds())
        state.clients.add(record)
        self.record = record
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isInactive = true
        replyRoute.useChannelOnly()
        if watchedByBusyPoller {
            watchedByBusyPoller = false
            flushCoalescer?.busyPoller?.forget()
        }
        abandonBlocked()
        unwatchAll()
        if let record {
            state.clients.remove(id: record.id)
            state.monitors.remove(id: record.id)
        }
        leaveAllSubscriptions()
        record = nil
        carried = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closeAfterFlush else { return }
        var input = unwrapInboundIn(data)
        state.stats.totalNetInputBytes.wrappingAdd(input.readableBytes, ordering: .relaxed)
        if awaitingProxy || blocked != nil {
            if carried == nil { carried = input } else { carried!.writeBuffer(&input) }
            if blocked != nil, let carried, carried.readableBytes > state.clientQueryBufferLimit.load(ordering: .relaxed) {
                context.close(promise: nil)
            }
            return
        }
        if var previous = carried {
            carried = nil
            previous.writeBuffer(&input)
            input = previous
        }
        parser.limits.maxBulkLength = state.protoMaxBulkLength.load(ordering: .relaxed)
        timing = state.latencyTracking.load(ordering: .relaxed)
        slowlogThreshold = state.slowlogThreshold.load(ordering: .relaxed)
        latencyThreshold = state.latencyMonitorThreshold.load(ordering: .relaxed) * 1000
        clusterView = state.cluster.view()
        proxyRouting = state.proxyRouting.load(ordering: .relaxed)
        feedMonitors = state.monitors.isActive
        refreshUser()
        replicating = state.replication.isActive.load(ordering: .relaxed)
        let now = WallClock.milliseconds()
        readStartedAt = now
        // The bus has not ticked for longer than it takes the cluster to declare a node dead:
        // this process was paused, and its slots may have moved on without it. Until the bus
        // has caught up (and fenced the node if so), serve nothing from its data.
        possiblyStale = replicating && now - state.cluster.lastTickAt.load(ordering: .relaxed) > state.cluster.fenceAfter
        process(&input, now: now, context: context)
        if awaitingProxy {
            // Hold further requests until the proxied reply is relayed.
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
        if !closeAfterFlush && input.readableBytes > 0 {
            if input.readableBytes > state.clientQueryBufferLimit.load(ordering: .relaxed) {
                state.logger.warning("Closing client that reached max query buffer length", metadata: ["addr": "\(record?.address ?? "?")", "qbuf": "\(input.readableBytes)"])
                context.close(promise: nil)
                return
            }
            input.discardReadBytes()
            carried = input
        }
        if writer.buffer.readableBytes >= Self.eagerWriteThreshold {
            write(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Merge before flushing: a client that sees its reply must also see it counted.
        state.commandStats.merge(&batch)
        if let flushCoalescer, !closeAfterFlush {
            // Hand the replies to the channel now, flush them with the tick's others; a
            // handler that writes directly keeps them until then.
            if !replyRoute.tracksChannelWrites { write(context: context) }
            if !flushIsQueued {
                flushIsQueued = true
                flushCoalescer.enqueue(self, context: context)
            }
        } else {
            flush(context: context)
        }
        if commandsThisRead > 0 {
            state.stats.totalCommandsProcessed.wrappingAdd(commandsThisRead, ordering: .relaxed)
            let lastCommand = lastCommandName
            let interaction = readStartedAt
            record?.details.withLock { details in
                details.lastInteraction = interaction
                details.lastCommand = lastCommand
            }
            commandsThisRead = 0
        }
        context.fireChannelReadComplete()
    }

    /// Stops reading while the peer is not taking our replies, so a client that pipelines
    /// without reading cannot grow the output without bound.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { aboveSoftOutputLimitSince = 0 }
        context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenComplete { _ in }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A reset by the peer is routine; anything else is worth a line at debug level.
        state.logger.debug("Client connection error", metadata: ["addr": "\(record?.address ?? "?")", "error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Requests

    func process(_ buffer: inout ByteBuffer, now: Int64, context: ChannelHandlerContext) {
        if timing { previousCommandEnded = WallClock.monotonicNanoseconds() }
        while !closeAfterFlush && !awaitingProxy && blocked == nil {
            let frameLength: Int?
            do {
                frameLength = try parser.parse(buffer, into: &arguments)
            } catch {
                // Redis replies to a malformed request once and closes (networking.c).
                writer.error("ERR \(error.message)")
                batch.noteError(code: "ERR")
                closeAfterFlush = true
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                return
            }
            guard let frameLength else { return }
            if arguments.count > 0 {
                commandsThisRead += 1
                buffer.withUnsafeReadableBytes { frame in
                    // The keys of the next two requests, if they are here: while this one
                    // runs, the table lines of the one after next start loading, and the entry
                    // of the next one (its lines loaded during the previous request), so a
                    // pipeline's lookups overlap instead of each waiting on memory in turn
                    // (see `Keyspace.prefetch`). Valid during `dispatch` only.
                    let next = RESPCommandParser.peekRequest(UnsafeRawBufferPointer(rebasing: frame[frameLength...]))
                    nextKeyHint = next.key
                    if let nextLength = next.length {
                        afterNextKeyHint = RESPCommandParser.peekRequest(UnsafeRawBufferPointer(rebasing: frame[(frameLength + nextLength)...])).key
                    }
                    arguments.withArgv(frame: frame) { argv in
                        dispatch(argv, now: now, context: context)
                    }
                    nextKeyHint = nil
                    afterNextKeyHint = nil
                }
            }
            buffer.moveReaderIndex(forwardBy: frameLength)
        }
    }

    func dispatch(_ argv: Argv, now: Int64, context: ChannelHandlerContext) {
        guard let spec = commandTable.lookup(argv[0]) else {
            writer.error(Self.unknownCommandError(argv))
            batch.noteError(code: "ERR")
            transaction?.refused = true
            return
        }
        lastCommandName = spec.name
        guard spec.accepts(argumentCount: argv.count) else {
            transaction?.refused = true
            writer.error(ErrorReply.wrongArity(spec.name))
            batch.note(spec.command, .rejected, microseconds: 0)
            batch.noteError(code: "ERR")
            return
        }
        if !userUnrestricted, let denial = accessError(spec, argv) {
            transaction?.refused = true
            writer.error(denial)
            batch.note(spec.command, .rejected, microseconds: 0)
            batch.noteError(code: String(denial.prefix { $0 != " " }))
            return
        }
        // A transaction's commands were counted when they were queued.
        if !executingTransaction && !withinRateLimit(now: now) {
            transaction?.refused = true
            writer.error("RATELIMIT client-rate-limit exceeded: this connection runs at most \(state.clientRateLimit.load(ordering: .relaxed)) commands per second")
            batch.note(spec.command, .rejected, microseconds: 0)
            batch.noteError(code: "RATELIMIT")
            return
        }
        if writer.version == .v2 && !(subscribedChannels.isEmpty && subscribedPatterns.isEmpty) && !Self.allowedWhileSubscribed(spec.command) {
            let name = Self.fullName(spec, argv)
            transaction?.refused = true
            writer.error("ERR Can't execute '\(name)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
            batch.noteError(code: "ERR")
            return
        }
        if feedMonitors && spec.command != .hello {
            // HELLO may carry a password, which Redis keeps out of MONITOR too.
            state.monitors.feed((0..<argv.count).map { Array(argv[$0]) }, clientAddress: record?.address ?? "?",
                                senderID: record?.id ?? -1, microseconds: WallClock.microseconds())
        }
        if spec.firstKey > 0, let clusterView, !clusterView.ownsEverySlot,
           routeAway(spec, argv, view: clusterView, context: context) {
            transaction?.refused = true
            return
        }
        if spec.isWrite && state.minReplicasAck > 0 && spec.firstKey > 0 && argv.count > spec.firstKey,
           state.replication.replicaCount(ofSlot: HashSlot.slot(for: argv[spec.firstKey])) < state.minReplicasAck {
            // Refused before it runs, as Redis's min-replicas-to-write does: a node cut off
            // from its replicas must not change data that the others never see.
            writer.error("NOREPLICAS Not enough good replicas to write.")
            batch.note(spec.command, .rejected, microseconds: 0)
            batch.noteError(code: "NOREPLICAS")
            transaction?.refused = true
            return
        }
        if transaction != nil && !Self.runsInsideMulti(spec.command) {
            queue(spec, argv)
            return
        }
        let replyStart = writer.buffer.writerIndex
        switch spec.executor {
        case .engine:
            if spec.isWrite && replicating {
                executeReplicatedWrite(spec, argv, now: now, replyStart: replyStart, context: context)
            } else {
                let aftermath = state.engine.withEngine { engine in
                    engine.execute(spec, argv, now: now, into: &writer)
                    if let nextKeyHint { engine.keyspace.prefetchEntry(nextKeyHint) }
                    if let afterNextKeyHint { engine.keyspace.prefetch(afterNextKeyHint) }
                    return collectAftermath(engine, argv, context: context)
                }
                settle(aftermath, context: context)
            }
        case .server:
            executeServerCommand(spec, argv, now: now, context: context)
        }
        // One clock read per command: a command's time runs from the end of the one before
        // it in this read (or the start of the read), so it includes its own parsing.
        var microseconds = 0
        if timing {
            let ended = WallClock.monotonicNanoseconds()
            microseconds = Int((ended - previousCommandEnded) / 1000)
            previousCommandEnded = ended
        }
        let failed = writer.buffer.writerIndex > replyStart && writer.buffer.getInteger(at: replyStart, as: UInt8.self) == UInt8(ascii: "-")
        batch.note(spec.command, failed ? .failed : .succeeded, microseconds: microseconds)
        if failed { batch.noteError(code: errorCode(at: replyStart)) }
        if timing && slowlogThreshold >= 0 && microseconds >= slowlogThreshold {
            recordSlow(argv, microseconds: microseconds)
        }
        if timing && latencyThreshold > 0 && microseconds >= latencyThreshold {
            state.latencyMonitor.record(spec.isFast ? "fast-command" : "command", milliseconds: microseconds / 1000,
                                        timestamp: WallClock.milliseconds() / 1000)
        }
    }

    /// A command's name as Redis's errors give it: a container's subcommand is named too,
    /// e.g. 'pubsub|numpat'.
    static func fullName(_ spec: CommandSpec, _ argv: Argv) -> String {
        subcommandContainers.contains(spec.command) && argv.count > 1
            ? "\(spec.name)|\(String(decoding: argv[1], as: UTF8.self).lowercased())" : spec.name
    }

    /// The commands whose first argument is a subcommand. All are run by the server, not the
    /// engine.
    static let subcommandContainers: Set<Command> = [.pubsub, .client, .config, .cluster, .command, .memory, .object, .slowlog, .latency, .acl]

    /// The code of the error reply written at `offset`: the word after `-`.
    private func errorCode(at offset: Int) -> String {
        let length = Swift.min(32, writer.buffer.writerIndex - offset - 1)
        guard length > 0, let bytes = writer.buffer.getBytes(at: offset + 1, length: length) else { return "ERR" }
        return String(decoding: bytes.prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }, as: UTF8.self)
    }

    private func recordSlow(_ argv: Argv, microseconds: Int) {
        let arguments = (0..<argv.count).map { Array(argv[$0]) }
        let name = record?.details.withLock { $0.name } ?? ""
        let maxLength = state.configuration.withLock { $0.slowlogMaxLength }
        state.slowLog.record(arguments: arguments, microseconds: microseconds, timestamp: WallClock.milliseconds() / 1000,
                             clientAddress: record?.address ?? "?", clientName: name, maxLength: maxLength)
    }

    static func unknownCommandError(_ argv: Argv) -> String {
        // Redis quotes arguments until the quoted list reaches 128 bytes (server.c).
        var quoted: [String] = []
        var length = 0
        var index = 1
        while index < argv.count && length < 128 {
            let argument = String(String(decoding: argv[index], as: UTF8.self).prefix(128 - length))
            quoted.append(argument)
            length += argument.utf8.count + 3
            index += 1
        }
        return ErrorReply.unknownCommand(String(decoding: argv[0], as: UTF8.self), arguments: quoted)
    }

    /// The proxied reply is written: serve the requests that arrived meanwhile, flush, and
    /// read again.
    func resumeAfterProxy(context: ChannelHandlerContext) {
        awaitingProxy = false
        if var input = carried {
            carried = nil
            process(&input, now: WallClock.milliseconds(), context: context)
            if !closeAfterFlush && input.readableBytes > 0 {
                input.discardReadBytes()
                carried = input
            }
        }
        state.commandStats.merge(&batch)
        flush(context: context)
        if !awaitingProxy && context.channel.isWritable {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }

    // MARK: Replies

    func write(context: ChannelHandlerContext) {
        guard writer.buffer.readableBytes > 0 else { return }
        state.stats.totalNetOutputBytes.wrappingAdd(writer.buffer.readableBytes, ordering: .relaxed)
        if let descriptor = replyRoute.directDescriptor, writeDirectly(descriptor, context: context) { return }
        handToChannel(context: context)
        // Double buffering: the buffer just handed over stays shared with the channel until
        // it is on the socket, so clearing it would allocate new storage, a malloc and a free
        // per read. The one handed over by the previous write has normally been written by
        // now and is ours alone again, so it is reused; if it is still queued, `clear`
        // allocates as before.
        swap(&writer.buffer, &writtenBuffer)
        writer.buffer.clear()
    }

    /// The end of the tick in which this connection queued its flush.
    func flushQueued(context: ChannelHandlerContext) {
        flushIsQueued = false
        guard !isInactive else { return }
        flush(context: context)
    }

    func flush(context: ChannelHandlerContext) {
        write(context: context)
        if closeAfterFlush {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                channel.close(promise: nil)
            }
        } else if replyRoute.channelNeedsFlush {
            context.flush()
            // Past the write buffer's high-water mark the socket is not taking replies as fast
            // as they come: the only time the output limits can be exceeded.
            if !context.channel.isWritable { enforceOutputLimits(context: context) }
        }
    }

    /// `client-output-buffer-limit normal <hard> <soft> <soft-seconds>`, as Redis applies it:
    /// a client with more unsent reply bytes than the hard limit, or above the soft limit for
    /// the soft time, is closed. Checked whenever replies are added while the socket lags.
    func enforceOutputLimits(context: ChannelHandlerContext) {
        let limits = state.normalOutputLimits
        guard limits.hard.load(ordering: .relaxed) > 0 || limits.soft.load(ordering: .relaxed) > 0,
              let pending = try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes) else { return }
        let (exceeded, since) = limits.judge(pending: pending, aboveSoftSince: aboveSoftOutputLimitSince, now: WallClock.milliseconds())
        aboveSoftOutputLimitSince = since
        guard exceeded else { return }
        state.logger.notice("Client closed for overcoming of output buffer limits", metadata: [
            "addr": "\(record?.address ?? "?")", "pending": "\(pending)",
        ])
        context.close(promise: nil)
    }
}
