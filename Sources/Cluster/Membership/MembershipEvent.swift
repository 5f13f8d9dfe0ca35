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
        case forgotten
    }

    public var kind: Kind
    public var member: MemberRecord
}
