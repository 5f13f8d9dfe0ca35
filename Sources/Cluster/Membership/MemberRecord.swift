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

/// Where a live member stands with its data (orthogonal to SWIM's liveness states). Only the
/// member changes its own phase, raising its incarnation as it does, so the news orders like
/// any other record of it.
///
/// - `joining`: admitted and gossiping, but not yet holding slots: it is being filled with the
///   slots it will own, and the current owners keep serving them (issue 6, live rebalancing).
/// - `serving`: holds its slots.
/// - `leaving`: still holds its slots while it hands them to their next owners.
public enum MemberPhase: UInt8, Sendable, CustomStringConvertible {
    case serving = 0
    case joining = 1
    case leaving = 2

    public var description: String {
        switch self {
        case .serving: "serving"
        case .joining: "joining"
        case .leaving: "leaving"
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
    public var phase: MemberPhase

    public init(id: NodeID, address: MemberAddress, incarnation: UInt64, state: MemberState, tokens: [UInt64], phase: MemberPhase = .serving) {
        self.id = id
        self.address = address
        self.incarnation = incarnation
        self.state = state
        self.tokens = tokens
        self.phase = phase
    }

    /// Holds slots now: live and past joining.
    public var holdsSlotsNow: Bool { state.holdsSlots && phase != .joining && !tokens.isEmpty }
    /// Will hold slots once the moves under way finish: live and not leaving.
    public var holdsSlotsNext: Bool { state.holdsSlots && phase != .leaving && !tokens.isEmpty }

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
