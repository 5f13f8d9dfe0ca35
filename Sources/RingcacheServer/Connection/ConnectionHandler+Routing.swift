import CacheEngine
import Cluster
import NIOCore
import RESP

/// Redis Cluster routing (cluster spec, "Redirection and resharding"): a command's keys must
/// share one slot, and that slot must be this node's, or the client is told where to go —
/// or, with `cluster-routing proxy`, the node goes there for it.
extension ConnectionHandler {
    enum Route {
        case local
        /// The slot's primary is another node, at `endpoint`.
        case elsewhere(slot: Int, endpoint: String)
        case crossSlot
        case down
    }

    /// Where `argv` must run.
    /// - crossSlot when the keys span slots (with `cluster-routing proxy`, only when they are
    ///   not all this node's: a proxy splits such commands by owner);
    /// - elsewhere when this node is not the slot's primary — unless the connection sent
    ///   READONLY, the command only reads, and this node holds a copy of the slot;
    /// - down while the node has not joined a cluster.
    func route(_ spec: CommandSpec, _ argv: Argv, view: ClusterView) -> Route {
        var slot = -1
        var spansSlots = false
        var allPrimaryHere = true
        spec.forEachKeyPosition(in: argv) { index in
            let keySlot = HashSlot.slot(for: argv[index])
            if slot == -1 {
                slot = keySlot
            } else if keySlot != slot {
                spansSlots = true
            }
            if allPrimaryHere && !view.isPrimary(of: keySlot) { allPrimaryHere = false }
        }
        // Redis refuses keys of several slots outright; a proxy only needs them to live here.
        if spansSlots { return proxyRouting && allPrimaryHere && view.isJoined ? .local : .crossSlot }
        guard slot >= 0 else { return .local }
        guard view.isJoined, let endpoint = view.primaryEndpoint(of: slot) else { return .down }
        if view.isPrimary(of: slot) { return .local }
        if readOnlyMode && spec.isReadOnly && view.isOwner(of: slot) { return .local }
        return .elsewhere(slot: slot, endpoint: endpoint)
    }

    /// Handles a command that cannot run here as it is. Returns true when it was answered or
    /// handed to the proxy (the connection then waits for the relayed reply).
    func routeAway(_ spec: CommandSpec, _ argv: Argv, view: ClusterView, context: ChannelHandlerContext) -> Bool {
        let route = route(spec, argv, view: view)
        let refusal: String
        switch route {
        case .local:
            guard possiblyStale else { return false }
            refusal = "TRYAGAIN This node was paused and is catching up with the cluster"
        case .down:
            refusal = "CLUSTERDOWN Hash slot not served"
        case let .elsewhere(slot, endpoint):
            // A transaction and its WATCHes run on the node that owns their slot.
            if proxyRouting && !isProxyLink && transaction == nil && !executingTransaction && spec.command != .watch {
                forward([(endpoint, Self.encode(argv, indices: Array(0..<argv.count)))], context: context) { replies, writer in
                    var reply = replies[0]
                    writer.buffer.writeBuffer(&reply)
                }
                return true
            }
            refusal = "MOVED \(slot) \(endpoint)"
        case .crossSlot:
            if proxyRouting && !isProxyLink && transaction == nil && !executingTransaction && spec.command != .watch,
               scatter(spec, argv, view: view, context: context) { return true }
            refusal = "CROSSSLOT Keys in request don't hash to the same slot"
        }
        writer.error(refusal)
        batch.note(spec.command, .rejected, microseconds: 0)
        batch.noteError(code: String(refusal.prefix { $0 != " " }))
        return true
    }

    // MARK: Proxy

    /// Splits a multi-key command whose keys live on several nodes into one command per node
    /// and gathers the replies in the client's key order. Not atomic across nodes, as in any
    /// Redis Cluster proxy. Returns false for commands that cannot be split.
    func scatter(_ spec: CommandSpec, _ argv: Argv, view: ClusterView, context: ChannelHandlerContext) -> Bool {
        let pairs: Bool
        switch spec.command {
        case .mget, .del, .exists, .touch, .unlink: pairs = false
        case .mset: pairs = true
        default: return false
        }
        guard view.isJoined else { return false }
        let step = pairs ? 2 : 1
        // Keys grouped by the endpoint of their slot's primary, in first-seen order.
        var endpoints: [String] = []
        var groups: [[Int]] = []
        var keyGroup: [Int] = []
        for index in stride(from: 1, to: argv.count, by: step) {
            guard let endpoint = view.primaryEndpoint(of: HashSlot.slot(for: argv[index])) else { return false }
            if let existing = endpoints.firstIndex(of: endpoint) {
                groups[existing].append(index)
                keyGroup.append(existing)
            } else {
                endpoints.append(endpoint)
                groups.append([index])
                keyGroup.append(groups.count - 1)
            }
        }
        let requests = zip(endpoints, groups).map { endpoint, indices in
            (endpoint, Self.encode(argv, indices: [0] + indices.flatMap { pairs ? [$0, $0 + 1] : [$0] }))
        }
        let command = spec.command
        forward(requests, context: context) { replies, writer in
            var values: [RESPValue] = []
            for var reply in replies {
                guard let value = try? RESPValue.parse(from: &reply) else {
                    writer.error("ERR unparseable reply from a proxied node")
                    return
                }
                if case .error(let message) = value {
                    writer.error(message)
                    return
                }
                values.append(value)
            }
            switch command {
            case .mget:
                var cursors = [Int](repeating: 0, count: values.count)
                writer.arrayHeader(keyGroup.count)
                for group in keyGroup {
                    let element = values[group].elements?[cursors[group]] ?? .null
                    cursors[group] += 1
                    if case .bulkString(let bytes) = element { writer.bulk(bytes.readableBytesView) } else { writer.null() }
                }
            case .mset:
                writer.ok()
            default:
                writer.integer(values.reduce(0) { $0 + Int($1.int ?? 0) })
            }
        }
        return true
    }

    /// Sends `requests` to their nodes, pauses this connection until every reply is in, then
    /// lets `relay` write the answer and resumes with the requests that arrived meanwhile.
    func forward(_ requests: [(endpoint: String, bytes: ByteBuffer)], context: ChannelHandlerContext,
                 relay: @escaping (_ replies: [ByteBuffer], _ writer: inout RESPWriter) -> Void) {
        let resp3 = writer.version == .v3
        let futures = requests.map { request -> EventLoopFuture<ByteBuffer> in
            guard let colon = request.endpoint.lastIndex(of: ":"), let port = Int(request.endpoint[request.endpoint.index(after: colon)...]) else {
                return context.eventLoop.makeFailedFuture(ProxyConnections.Failure(description: "bad endpoint \(request.endpoint)"))
            }
            let key = ProxyConnections.Key(host: String(request.endpoint[..<colon]), port: port, resp3: resp3)
            let endpoint = request.endpoint
            return state.proxies.send(request.bytes, to: key).flatMapErrorThrowing { error in
                throw ProxyConnections.Failure(description: "\(endpoint): \(error)")
            }
        }
        awaitingProxy = true
        let loopBound = NIOLoopBound((self, context, relay), eventLoop: context.eventLoop)
        EventLoopFuture.whenAllSucceed(futures, on: context.eventLoop).whenComplete { result in
            let (handler, context, relay) = loopBound.value
            switch result {
            case .success(let replies):
                relay(replies, &handler.writer)
            case .failure(let error):
                handler.writer.error("CLUSTERDOWN the owner of this slot can't be reached (\(error))")
            }
            handler.resumeAfterProxy(context: context)
        }
    }

    /// A command as RESP, made of the arguments at `indices`.
    static func encode(_ argv: Argv, indices: [Int]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("*\(indices.count)\r\n")
        for index in indices {
            let argument = argv[index]
            buffer.writeString("$\(argument.count)\r\n")
            buffer.writeBytes(argument)
            buffer.writeString("\r\n")
        }
        return buffer
    }
}
