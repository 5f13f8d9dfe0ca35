import NIOCore
import NIOSSL
import Synchronization

/// A bounded set of pipelined connections to one node, used round-robin and replaced when
/// they break. With pipelining, a handful of connections carries any number of tasks.
final class NodePool: Sendable {
    let endpoint: Endpoint
    private let group: any EventLoopGroup
    private let size: Int
    private let connectTimeout: Duration
    private let setup: [[[UInt8]]]
    private let tls: (options: TLSOptions, context: NIOSSLContext)?
    private let slots: Mutex<[RESPConnection?]>
    private let next = Atomic<Int>(0)

    init(endpoint: Endpoint, group: any EventLoopGroup, size: Int, connectTimeout: Duration, setup: [[[UInt8]]],
         tls: (options: TLSOptions, context: NIOSSLContext)?) {
        self.tls = tls
        self.endpoint = endpoint
        self.group = group
        self.size = max(1, size)
        self.connectTimeout = connectTimeout
        self.setup = setup
        slots = Mutex(Array(repeating: nil, count: max(1, size)))
    }

    func connection() async throws(RingcacheError) -> RESPConnection {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue % size
        if let existing = slots.withLock({ $0[index] }), existing.isActive { return existing }
        let made = try await RESPConnection.connect(to: endpoint, group: group, timeout: connectTimeout, setup: setup, tls: tls)
        let replaced: RESPConnection? = slots.withLock { slots in
            if let racing = slots[index], racing.isActive { return racing }
            slots[index] = made
            return nil
        }
        if let replaced {
            made.close()
            return replaced
        }
        return made
    }

    func closeAll() {
        let connections = slots.withLock { slots in
            defer { slots = Array(repeating: nil, count: slots.count) }
            return slots.compactMap { $0 }
        }
        for connection in connections { connection.close() }
    }
}
