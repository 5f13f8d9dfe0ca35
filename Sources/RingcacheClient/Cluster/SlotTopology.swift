import Cluster
import RESP

/// Which node serves each of the 16384 slots, as the client believes: loaded from CLUSTER
/// SLOTS, patched by MOVED redirects until the next full refresh (Redis cluster spec, "Client
/// and server roles"). A pure value: routing decisions are made on it without I/O.
public struct SlotTopology: Sendable, Equatable {
    public static let slotCount = HashSlot.count
    /// Per slot: primary first, then replicas; empty when no node serves it.
    private(set) var owners: [[Endpoint]]

    public init(owners: [[Endpoint]]) {
        precondition(owners.count == Self.slotCount)
        self.owners = owners
    }

    /// Every slot served by one node: a server without cluster support, or a one-node cluster.
    public static func single(_ endpoint: Endpoint) -> SlotTopology {
        SlotTopology(owners: Array(repeating: [endpoint], count: slotCount))
    }

    /// Reads a CLUSTER SLOTS reply: `[[first, last, [host, port, id, ...], replicas...], ...]`.
    /// A node that reports an empty host means "the address you reached me at" (`fallback`).
    public init?(clusterSlots reply: RESPValue, fallbackHost: String) {
        guard let ranges = reply.elements else { return nil }
        var owners = [[Endpoint]](repeating: [], count: Self.slotCount)
        for range in ranges {
            guard let fields = range.elements, fields.count >= 3,
                  let first = fields[0].int, let last = fields[1].int,
                  first >= 0, last < Self.slotCount, first <= last else { return nil }
            var endpoints: [Endpoint] = []
            for node in fields[2...] {
                guard let parts = node.elements, parts.count >= 2, let port = parts[1].int else { return nil }
                let host = parts[0].string ?? ""
                endpoints.append(Endpoint(host: host.isEmpty || host == "?" ? fallbackHost : host, port: Int(port)))
            }
            for slot in Int(first)...Int(last) { owners[slot] = endpoints }
        }
        self.owners = owners
    }

    public var isComplete: Bool { owners.allSatisfy { !$0.isEmpty } }

    public func primary(of slot: Int) -> Endpoint? { owners[slot].first }

    public func replicas(of slot: Int) -> [Endpoint] { Array(owners[slot].dropFirst()) }

    /// Every node the topology names.
    public var endpoints: Set<Endpoint> { Set(owners.joined()) }

    /// MOVED: the slot now lives at `endpoint`. Other slots keep their owners until the next
    /// full refresh, which the client schedules after a redirect.
    public mutating func move(slot: Int, to endpoint: Endpoint) {
        owners[slot] = [endpoint]
    }
}

/// A redirect parsed from an error reply (`MOVED 3999 127.0.0.1:7002`, `ASK ...`).
public enum Redirect: Equatable, Sendable {
    case moved(slot: Int, to: Endpoint)
    case ask(slot: Int, to: Endpoint)

    public init?(error message: String) {
        let words = message.split(separator: " ")
        guard words.count == 3, let slot = Int(words[1]), let endpoint = Endpoint(words[2]) else { return nil }
        switch words[0] {
        case "MOVED": self = .moved(slot: slot, to: endpoint)
        case "ASK": self = .ask(slot: slot, to: endpoint)
        default: return nil
        }
    }
}
