#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One node of a sorted set's skip list: a member, its score, and per level the next node and
/// how many rank positions the link skips.
///
/// The levels live in the node's own allocation, after the header (a `ManagedBuffer`'s tail
/// elements), as Redis's `zskiplistNode` ends in a flexible array: a search step reads the
/// next node's score and then its link from one cache line or two adjacent ones. With the
/// levels in an array of their own every step paid a second cache miss, and in a 100,000-member
/// set those two loads were 85% of ZADD's time in the skip list (`perf annotate`).
///
/// The member's bytes follow the levels in the same allocation, as Redis's node points at an
/// sds of its own but Swift's array would cost a second allocation with a 32-byte header: one
/// chunk instead of two saves about 60 bytes a member. The tail is allocated in `Level`-sized
/// units, levels first; the bytes after them are bound to `UInt8` and never read as levels.
final class SkipNode: ManagedBuffer<SkipNode.Header, SkipNode.Level>, IndexedElement {
    struct Header {
        var score: Double
        /// The previous node at level 0 (nil for the first); not owning, the list owns forward.
        unowned(unsafe) var backward: SkipNode?
        let levelCount: Int32
        let memberLength: Int32
    }

    struct Level {
        var forward: SkipNode?
        var span: Int
    }

    /// What a node allocates before its tail: the object header and `Header`.
    static let fixedBytes = 40

    /// A node with `level` levels, every one unlinked.
    static func make(member: UnsafeRawBufferPointer, score: Double, level: Int) -> SkipNode {
        precondition(member.count <= Int(Int32.max), "a sorted-set member fits in 2 GiB")
        let memberUnits = (member.count + MemoryLayout<Level>.stride - 1) / MemoryLayout<Level>.stride
        let buffer = create(minimumCapacity: level + memberUnits) { _ in
            Header(score: score, backward: nil, levelCount: Int32(level), memberLength: Int32(member.count))
        }
        let node = unsafeDowncast(buffer, to: SkipNode.self)
        node.withUnsafeMutablePointerToElements { levels in
            levels.initialize(repeating: Level(forward: nil, span: 0), count: level)
            if member.count > 0 {
                UnsafeMutableRawPointer(levels + level).initializeMemory(
                    as: UInt8.self, from: member.baseAddress!.assumingMemoryBound(to: UInt8.self), count: member.count)
            }
        }
        return node
    }

    static func make(member: [UInt8], score: Double, level: Int) -> SkipNode {
        member.withUnsafeBytes { make(member: $0, score: score, level: level) }
    }

    deinit {
        // The header is destroyed by ManagedBuffer; the levels are ours to destroy, and the
        // member's bytes need nothing.
        _ = withUnsafeMutablePointers { header, levels in
            levels.deinitialize(count: Int(header.pointee.levelCount))
        }
    }

    /// Calls `body` with the member's bytes, valid during the call.
    @inline(__always)
    func withMember<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeMutablePointers { header, levels in
            body(UnsafeRawBufferPointer(start: UnsafeRawPointer(levels + Int(header.pointee.levelCount)),
                                        count: Int(header.pointee.memberLength)))
        }
    }

    @inline(__always)
    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { withMember(body) }

    /// The member in an array of its own.
    var member: [UInt8] { withMember { Array($0) } }

    var memberLength: Int { Int(header.memberLength) }

    var score: Double {
        get { header.score }
        set { header.score = newValue }
    }

    var backward: SkipNode? {
        get { header.backward }
        set { header.backward = newValue }
    }

    var levelCount: Int { Int(header.levelCount) }

    /// Level `index`, which must be below `levelCount`.
    subscript(level index: Int) -> Level {
        get {
            precondition(index >= 0 && index < levelCount)
            return withUnsafeMutablePointerToElements { $0[index] }
        }
        set {
            precondition(index >= 0 && index < levelCount)
            withUnsafeMutablePointerToElements { $0[index] = newValue }
        }
    }

    /// Drops every forward link, so a long chain can be released one node at a time instead of
    /// recursively.
    func unlinkAll() {
        let count = levelCount
        withUnsafeMutablePointerToElements { levels in
            for index in 0..<count { levels[index].forward = nil }
        }
    }

    /// Whether this node's member sorts before `other` bytewise (memcmp order, a prefix first),
    /// the order Redis gives members of equal score.
    @inline(__always)
    func memberPrecedes(_ other: UnsafeRawBufferPointer) -> Bool {
        withMember { ByteOrder.precedes($0, other) }
    }
}

/// Bytewise order of byte strings, as memcmp orders them with the shorter of two equal
/// prefixes first: Redis's order of members with equal scores and of lex ranges.
enum ByteOrder {
    @inline(__always)
    static func equal(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        left.count == right.count && (left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
    }

    @inline(__always)
    static func precedes(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        let common = Swift.min(left.count, right.count)
        if common > 0 {
            let order = memcmp(left.baseAddress!, right.baseAddress!, common)
            if order != 0 { return order < 0 }
        }
        return left.count < right.count
    }
}
