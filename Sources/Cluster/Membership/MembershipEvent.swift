/// A change in the membership view worth logging and reacting to.
public struct MembershipEvent: Hashable, Sendable {
    public enum Kind: String, Sendable {
        /// A member was learnt for the first time.
        case joined
        /// This node was admitted by a seed and holds its tokens.
        case admitted
        case suspected
        /// A suspected or dead member proved alive with a higher incarnation.
        case recovered
        case dead
        case left
        /// This node heard itself suspected or declared dead and refuted it.
        case refuted
        /// This node heard itself declared dead (or gone): others may have taken its slots
        /// and written to them meanwhile.
        case declaredDead
        /// This node heard itself declared dead by a member it held dead, while it saw a
        /// majority alive: the minority side of a healed partition. It refuted and serves on.
        case outvotedAccusation
        case forgotten
        /// A member moved between joining, serving and leaving (see `MemberPhase`).
        case phaseChanged
    }

    public var kind: Kind
    public var member: MemberRecord
}
