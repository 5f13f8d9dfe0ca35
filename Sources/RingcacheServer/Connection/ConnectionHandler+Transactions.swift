import CacheEngine
import Cluster
import NIOCore
import RESP

/// MULTI's queue: the commands' arguments, copied, and whether a command was refused while
/// queuing (an unknown command, a wrong arity, a refused permission or slot), which makes
/// EXEC answer EXECABORT.
struct QueuedTransaction {
    var commands: [[[UInt8]]] = []
    var refused = false
}

/// Transactions as Redis has them (https://redis.io/docs/latest/develop/interact/transactions/,
/// multi.c): MULTI queues commands, EXEC runs them one after another with no other client's
/// command in between, DISCARD drops them, and WATCH makes EXEC fail (a null reply) when a
/// watched key changed first.
///
/// What "no other command in between" rests on: the queued commands run back to back inside
/// one call on this connection's event loop, and with `io-threads 1` (the default) every
/// client and the background cycle share that loop. With more I/O threads the engine lock is
/// taken per command, so another thread's command can come between two of a transaction's;
/// WATCH still sees every change.
///
/// In a cluster a transaction runs on the primary of its slot: every key of every queued
/// command must hash to one slot the node serves (MOVED or CROSSSLOT otherwise, checked when
/// a command is queued and again at EXEC), and the proxy mode does not forward it. With
/// `min-replicas-ack N`, EXEC's reply waits once, for the acknowledgements of all its writes.
extension ConnectionHandler {
    /// Commands that run at once inside MULTI instead of being queued (multi.c,
    /// processCommand): the transaction's own, QUIT and RESET.
    static func runsInsideMulti(_ command: Command) -> Bool {
        switch command {
        case .multi, .exec, .discard, .watch, .quit, .reset: true
        default: false
        }
    }

    /// Commands refused inside MULTI: SAVE and SHUTDOWN, as in Redis (`no-multi`), and the
    /// ones whose reply waits on something outside the transaction here (WAIT, the
    /// subscription commands, MONITOR).
    static func refusedInsideMulti(_ command: Command) -> Bool {
        switch command {
        case .save, .shutdown, .wait, .subscribe, .psubscribe, .unsubscribe, .punsubscribe, .monitor: true
        default: false
        }
    }

    func queue(_ spec: CommandSpec, _ argv: Argv) {
        guard !Self.refusedInsideMulti(spec.command) else {
            transaction?.refused = true
            writer.error("ERR Command not allowed inside a transaction")
            batch.noteError(code: "ERR")
            return
        }
        transaction?.commands.append((0..<argv.count).map { Array(argv[$0]) })
        writer.simpleString("QUEUED")
    }

    func multi() {
        guard transaction == nil else {
            writer.error("ERR MULTI calls can not be nested")
            return
        }
        transaction = QueuedTransaction()
        writer.ok()
    }

    func discard() {
        guard transaction != nil else {
            writer.error("ERR DISCARD without MULTI")
            return
        }
        transaction = nil
        unwatchAll()
        writer.ok()
    }

    func watch(_ argv: Argv, now: Int64) {
        guard transaction == nil else {
            writer.error("ERR WATCH inside MULTI is not allowed")
            return
        }
        let watched = watchedKeys ?? WatchedKeys()
        watchedKeys = watched
        state.engine.withEngine { engine in
            for index in 1..<argv.count { engine.watch(argv[index], in: watched, now: now) }
        }
        writer.ok()
    }

    /// UNWATCH, and the end of every EXEC, DISCARD and connection.
    func unwatchAll() {
        guard let watched = watchedKeys, !watched.isEmpty else { return }
        state.engine.withEngine { $0.unwatch(watched) }
    }

    func exec(now: Int64, context: ChannelHandlerContext) {
        guard let queued = transaction else {
            writer.error("ERR EXEC without MULTI")
            return
        }
        transaction = nil
        defer { unwatchAll() }
        guard !queued.refused else {
            writer.error("EXECABORT Transaction discarded because of previous errors.")
            batch.noteError(code: "EXECABORT")
            return
        }
        if let refusal = clusterRefusal(of: queued.commands) {
            writer.error(refusal)
            batch.noteError(code: String(refusal.prefix { $0 != " " }))
            return
        }
        if let watched = watchedKeys, !watched.isEmpty, !state.engine.withEngine({ $0.watchHolds(watched, now: now) }) {
            writer.nullArray()
            return
        }
        let replyStart = writer.buffer.writerIndex
        writer.arrayHeader(queued.commands.count)
        executingTransaction = true
        transactionTickets = []
        transactionChangedData = false
        for command in queued.commands {
            Self.withArgv(command) { argv in dispatch(argv, now: now, context: context) }
        }
        executingTransaction = false
        if !transactionTickets.isEmpty { lastWriteTickets = transactionTickets }
        if transactionChangedData { holdReplyForAcknowledgements(from: replyStart, tickets: transactionTickets, context: context) }
        transactionTickets = []
    }

    /// In a cluster, the refusal EXEC answers when the queued commands' keys are not all in
    /// one slot this node serves (its slots may have moved since they were queued); nil when
    /// they may run.
    private func clusterRefusal(of commands: [[[UInt8]]]) -> String? {
        guard let clusterView, !clusterView.ownsEverySlot else { return nil }
        var slot: Int?
        for command in commands {
            let refusal: String? = Self.withArgv(command) { argv in
                guard let spec = commandTable.lookup(argv[0]), spec.firstKey > 0 else { return nil }
                var crossSlot = false
                spec.forEachKeyPosition(in: argv) { index in
                    let keySlot = HashSlot.slot(for: argv[index])
                    if let slot, slot != keySlot { crossSlot = true }
                    slot = keySlot
                }
                if crossSlot { return "CROSSSLOT Keys in request don't hash to the same slot" }
                switch route(spec, argv, view: clusterView) {
                case .local: return nil
                case .down: return "CLUSTERDOWN Hash slot not served"
                case let .elsewhere(slot, endpoint): return "MOVED \(slot) \(endpoint)"
                case .crossSlot: return "CROSSSLOT Keys in request don't hash to the same slot"
                }
            }
            if let refusal { return refusal }
        }
        return nil
    }

    /// A queued command's arguments as the `Argv` the dispatcher takes.
    static func withArgv<Result>(_ arguments: [[UInt8]], _ body: (Argv) -> Result) -> Result {
        var bytes: [UInt8] = []
        var spans: [ArgumentSpan] = []
        spans.reserveCapacity(arguments.count)
        for argument in arguments {
            spans.append(ArgumentSpan(offset: bytes.count, length: argument.count))
            bytes += argument
        }
        return bytes.withUnsafeBytes { base in
            spans.withUnsafeBufferPointer { body(Argv(base: base, spans: $0)) }
        }
    }
}
