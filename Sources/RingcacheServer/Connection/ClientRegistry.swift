import NIOCore
import Synchronization

/// Every open client connection, for CLIENT LIST, INFO clients, `maxclients` and shutdown.
final class ClientRegistry: Sendable {
    private let records = Mutex<[Int: ClientRecord]>([:])
    private let nextID = Atomic<Int>(1)

    func makeID() -> Int {
        nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    func add(_ record: ClientRecord) {
        records.withLock { $0[record.id] = record }
    }

    func remove(id: Int) {
        _ = records.withLock { $0.removeValue(forKey: id) }
    }

    var count: Int {
        records.withLock { $0.count }
    }

    func all() -> [ClientRecord] {
        records.withLock { Array($0.values) }.sorted { $0.id < $1.id }
    }
}

/// One client connection as other connections and INFO see it.
final class ClientRecord: Sendable {
    let id: Int
    let address: String
    let localAddress: String
    let createdAt: Int64
    let channel: any Channel
    let details: Mutex<ClientDetails>
    /// Bytes other connections wrote to this one (pub/sub messages) that the socket has not
    /// taken yet, for `client-output-buffer-limit pubsub`.
    let pendingOutput = Atomic<Int>(0)
    /// Unix ms since when `pendingOutput` has been above the pubsub soft limit; 0 = it is not.
    let aboveSoftLimitSince = Atomic<Int64>(0)

    init(id: Int, channel: any Channel, createdAt: Int64) {
        self.id = id
        self.channel = channel
        self.createdAt = createdAt
        address = Self.format(channel.remoteAddress)
        localAddress = Self.format(channel.localAddress)
        details = Mutex(ClientDetails(lastInteraction: createdAt))
    }

    private static func format(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "?" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }

    /// The CLIENT LIST / CLIENT INFO line for this client (fields as Redis names them).
    func describe(now: Int64) -> String {
        let details = details.withLock { $0 }
        let age = (now - createdAt) / 1000
        let idle = (now - details.lastInteraction) / 1000
        return "id=\(id) addr=\(address) laddr=\(localAddress) name=\(details.name) age=\(age) idle=\(idle) flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 cmd=\(details.lastCommand) user=\(details.user) lib-name=\(details.libraryName) lib-ver=\(details.libraryVersion) resp=\(details.protocolVersion)"
    }
}

struct ClientDetails: Sendable {
    var name = ""
    /// The ACL user the connection is authenticated as.
    var user = "default"
    var lastInteraction: Int64
    var lastCommand = "NULL"
    var protocolVersion = 2
    var libraryName = ""
    var libraryVersion = ""
}
