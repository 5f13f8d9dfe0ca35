/// The messages of the membership protocol (SWIM, Das, Gupta, Motivala 2002, with the
/// Lifeguard extensions of Dadgar, Phillips, Currey 2018). Every message travels in an
/// `Envelope` naming its sender; updates ride piggyback on probes and acks.
public enum SWIMMessage: Hashable, Sendable {
    /// A direct probe. `target` lets a node that restarted under a new id ignore probes meant
    /// for its predecessor at the same address.
    case ping(sequence: UInt32, target: NodeID, updates: [MemberUpdate])
    /// Asks the receiver to probe `target` for the sender (the indirect probe).
    case pingRequest(sequence: UInt32, target: NodeID, address: BusAddress, updates: [MemberUpdate])
    case ack(sequence: UInt32, updates: [MemberUpdate])
    /// Lifeguard: the intermediary of an indirect probe got no answer in time. Receiving it
    /// tells the prober that its own links work, so a missing nack counts against its health.
    case nack(sequence: UInt32)
    /// Dissemination without a probe, to a few random members when updates are pending.
    case gossip(updates: [MemberUpdate])
    /// A node asks to join; a record without tokens asks the receiver to allocate them.
    case join(MemberRecord)
    /// The receiver admitted the joiner with these tokens; its member list follows as sync.
    case joinAccepted(tokens: [UInt64], incarnation: UInt64)
    /// One chunk of a push-pull exchange of the full member list. The first chunk of a push
    /// (`wantsReply`) asks the receiver to answer with its own list.
    case sync(members: [MemberRecord], wantsReply: Bool)
}

public struct Envelope: Hashable, Sendable {
    public var sender: NodeID
    public var message: SWIMMessage

    public init(sender: NodeID, message: SWIMMessage) {
        self.sender = sender
        self.message = message
    }
}

/// A message the membership instance wants sent; the I/O shell sends it.
public struct OutgoingMessage: Hashable, Sendable {
    public var destination: BusAddress
    public var envelope: Envelope
}
