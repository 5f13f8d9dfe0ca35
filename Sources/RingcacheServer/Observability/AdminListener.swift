import Cluster
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The admin HTTP port (`admin-port`, off when 0): what monitoring and orchestration ask.
///
/// - `GET /metrics`: Prometheus text format.
/// - `GET /health`: 200 while the process runs.
/// - `GET /ready`: 200 once the node serves clients (a load balancer's or Kubernetes'
///   readiness probe), 503 before that and while shutting down.
/// - `GET /cluster`: members and slot ownership as JSON.
struct AdminListener: Service {
    let state: ServerState
    let group: MultiThreadedEventLoopGroup

    func run() async throws {
        let configuration = state.configuration.withLock { $0 }
        guard configuration.adminPort != 0 else {
            try? await gracefulShutdown()
            return
        }
        let state = self.state
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(state: state))
                }
            }
        let listeners = try await bootstrap.bindAll(addresses: configuration.bind, port: configuration.adminPort, describing: "admin HTTP")
        state.logger.notice("Admin HTTP port ready", metadata: ["port": "\(configuration.adminPort)"])
        try? await gracefulShutdown()
        for listener in listeners { try? await listener.close() }
    }
}

final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let state: ServerState
    private var request: HTTPRequestHead?

    init(state: ServerState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let request else { return }
            self.request = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        let (status, contentType, body): (HTTPResponseStatus, String, String)
        switch (request.method, path) {
        case (.GET, "/metrics"):
            (status, contentType, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", PrometheusExposition(state: state).render())
        case (.GET, "/health"):
            (status, contentType, body) = (.ok, "text/plain", "ok\n")
        case (.GET, "/ready"):
            // Ready means serving clients and holding a place on the ring.
            // Joined, and past joining: a node being filled does not hold its slots yet.
            let view = state.cluster.view()
            let ready = state.ready.load(ordering: .relaxed) && view.isJoined
                && view.members.first(where: \.isLocal)?.record.phase == .serving
            (status, contentType, body) = (ready ? .ok : .serviceUnavailable, "text/plain", ready ? "ready\n" : "not ready\n")
        case (.GET, "/cluster"):
            (status, contentType, body) = (.ok, "application/json", clusterJSON())
        case (_, "/metrics"), (_, "/health"), (_, "/ready"), (_, "/cluster"):
            (status, contentType, body) = (.methodNotAllowed, "text/plain", "method not allowed\n")
        default:
            (status, contentType, body) = (.notFound, "text/plain", "not found: try /metrics, /health, /ready or /cluster\n")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    /// Members and slot ranges as this node sees them.
    private func clusterJSON() -> String {
        let view = state.cluster.view()
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let members: [String] = view.members.map { member in
            let record = member.record
            let address = quoted("\(record.address.host):\(record.address.clientPort)")
            let state = quoted(record.state.description)
            return "{\"id\":\(quoted(record.id.hex)),\"address\":\(address),\"bus_port\":\(record.address.busPort),\"state\":\(state),\"incarnation\":\(record.incarnation),\"myself\":\(member.isLocal)}"
        }
        let slots: [String] = !view.isJoined ? [] : view.map.ranges().map { range in
            let owners = range.owners.map { quoted(view.map.nodes[$0].hex) }
            return "{\"start\":\(range.first),\"end\":\(range.last),\"primary\":\(owners[0]),\"replicas\":[\(owners.dropFirst().joined(separator: ","))]}"
        }
        let head = "{\"cluster_enabled\":true,\"joined\":\(view.isJoined),\"myself\":\(quoted(view.localID.hex)),"
        let memberList = members.joined(separator: ",")
        let slotList = slots.joined(separator: ",")
        return head + "\"members\":[" + memberList + "],\"slots\":[" + slotList + "]}\n"
    }
}
