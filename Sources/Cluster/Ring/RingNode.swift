/// A member as the ring sees it: its identity and its virtual-node tokens.
///
/// Tokens are positions on a 64-bit ring. They are chosen once, when the node first joins
/// (see `TokenAllocator`), travel with the node's membership record, and are kept across
/// restarts, so every node that knows the same members computes the same `SlotMap`.
public struct RingNode: Hashable, Sendable {
    public let id: NodeID
    public let tokens: [UInt64]

    public init(id: NodeID, tokens: [UInt64]) {
        self.id = id
        self.tokens = tokens
    }
}

/// Where slots sit on the ring: slot `s` is the point `s << 50`, so the 16384 slots divide the
/// 64-bit ring evenly. A slot's owners are the first distinct nodes whose tokens lie at or after
/// that point, clockwise (Dynamo's preference list).
public enum RingPosition {
    public static let slotShift = 50

    public static func point(ofSlot slot: Int) -> UInt64 {
        UInt64(slot) << UInt64(slotShift)
    }
}
