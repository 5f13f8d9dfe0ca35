/// Where a member listens: its host, its client port (what MOVED redirects name) and its
/// cluster bus port (UDP gossip).
public struct MemberAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var clientPort: UInt16
    public var busPort: UInt16

    public init(host: String, clientPort: UInt16, busPort: UInt16) {
        self.host = host
        self.clientPort = clientPort
        self.busPort = busPort
    }

    public var bus: BusAddress { BusAddress(host: host, port: busPort) }
    public var description: String { "\(host):\(clientPort)@\(busPort)" }
}

/// A UDP endpoint on the cluster bus.
public struct BusAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// SWIM's member states, plus `left` for a member that said goodbye (memberlist's "left").
public enum MemberState: UInt8, Sendable, CustomStringConvertible {
    case alive = 0
    case suspect = 1
    case dead = 2
    case left = 3

    /// Alive and suspect members hold slots: a suspect may be only slow, and moving its slots
    /// on every suspicion would churn data for nothing.
    public var holdsSlots: Bool { self == .alive || self == .suspect }

    public var description: String {
        switch self {
        case .alive: "alive"
        case .suspect: "suspect"
        case .dead: "dead"
        case .left: "left"
        }
    }
}

/// What the cluster knows of one member, and the unit of gossip: SWIM's alive, suspect,
/// confirm (dead) and leave messages are all a record with the state they assert.
///
/// Records are ordered by incarnation: only the member itself raises its incarnation (to
/// refute a suspicion), so a higher incarnation is always newer news. For one incarnation,
/// `left` overrides `dead`, which overrides `suspect`, which overrides `alive` (SWIM §4.2).
public struct MemberRecord: Hashable, Sendable {
    public var id: NodeID
    public var address: MemberAddress
    public var incarnation: UInt64
    public var state: MemberState
    public var tokens: [UInt64]

    public init(id: NodeID, address: MemberAddress, incarnation: UInt64, state: MemberState, tokens: [UInt64]) {
        self.id = id
        self.address = address
        self.incarnation = incarnation
        self.state = state
        self.tokens = tokens
    }

    public var ringNode: RingNode { RingNode(id: id, tokens: tokens) }
}

/// A record being gossiped, with the member that first reported it — suspicions from distinct
/// reporters are Lifeguard's independent confirmations.
public struct MemberUpdate: Hashable, Sendable {
    public var record: MemberRecord
    public var reporter: NodeID

    public init(record: MemberRecord, reporter: NodeID) {
        self.record = record
        self.reporter = reporter
    }
}
