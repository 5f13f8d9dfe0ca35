/// A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks and Consistent
/// Snapshots in Globally Distributed Databases", 2014), packed into the 64-bit version every
/// replicated write carries:
///
///     bits 63-22  physical part, Unix milliseconds (42 bits: until the year 2109)
///     bits 21-12  logical counter within one millisecond (1,024 writes per millisecond)
///     bits 11-0   a tag of the writing node's id, so two nodes never mint equal versions
///                 for different writes (unless their tags collide, 1 in 4,096 pairs; equal
///                 versions then keep whichever value an owner already holds)
///
/// Versions from one node only grow; a node that hears a version from another moves its clock
/// past it, so a write that causally follows another always has the higher version whatever
/// the wall clocks say. Comparing two versions is comparing two `UInt64`s: last writer wins.
///
/// Contract: pure; the owner passes in the time.
public struct HybridLogicalClock: Sendable {
    static let logicalBits = 10
    static let tagBits = 12
    static let physicalShift = logicalBits + tagBits
    static let logicalMask: UInt64 = (1 << UInt64(logicalBits)) - 1

    /// The last version handed out or observed, without its tag.
    public private(set) var last: UInt64 = 0
    public let tag: UInt64

    public init(nodeID: NodeID) {
        tag = (nodeID.high >> 52) & 0x0FFF
    }

    /// A new version, greater than every version handed out or observed before.
    public mutating func next(now: Int64) -> UInt64 {
        let physical = UInt64(max(now, 0)) << UInt64(Self.physicalShift)
        if physical > last {
            last = physical
        } else {
            // Same millisecond, or the wall clock is behind what was seen: count on. A full
            // counter carries into the physical part, which runs ahead until the wall clock
            // catches up, as the HLC paper allows.
            last += 1 << UInt64(Self.tagBits)
        }
        return last | tag
    }

    /// Moves the clock past a version received from another node.
    public mutating func observe(_ version: UInt64) {
        let untagged = version & ~((1 << UInt64(Self.tagBits)) - 1)
        if untagged > last { last = untagged }
    }

    /// The smallest version minted at or after `milliseconds`.
    public static func version(atMilliseconds milliseconds: Int64) -> UInt64 {
        UInt64(max(milliseconds, 0)) << UInt64(physicalShift)
    }

    /// The physical part of a version, Unix milliseconds.
    public static func milliseconds(of version: UInt64) -> Int64 {
        Int64(version >> UInt64(physicalShift))
    }
}
