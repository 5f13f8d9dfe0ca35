/// One node of a sorted set's skip list: a member, its score, and per level the next node and
/// how many rank positions the link skips.
///
/// The levels live in the node's own allocation, after the header (a `ManagedBuffer`'s tail
/// elements), as Redis's `zskiplistNode` ends in a flexible array: a search step reads the
/// next node's score and then its link from one cache line or two adjacent ones. With the
/// levels in an array of their own every step paid a second cache miss, and in a 100,000-member
/// set those two loads were 85% of ZADD's time in the skip list (`perf annotate`).
final class SkipNode: ManagedBuffer<SkipNode.Header, SkipNode.Level> {
    struct Header {
        let member: [UInt8]
        var score: Double
        /// The previous node at level 0 (nil for the first); not owning, the list owns forward.
        unowned(unsafe) var backward: SkipNode?
        let levelCount: Int
    }

    struct Level {
        var forward: SkipNode?
        var span: Int
    }

    /// A node with `level` levels, every one unlinked.
    static func make(member: [UInt8], score: Double, level: Int) -> SkipNode {
        let buffer = create(minimumCapacity: level) { _ in
            Header(member: member, score: score, backward: nil, levelCount: level)
        }
        let node = unsafeDowncast(buffer, to: SkipNode.self)
        node.withUnsafeMutablePointerToElements { levels in
            levels.initialize(repeating: Level(forward: nil, span: 0), count: level)
        }
        return node
    }

    deinit {
        // The header is destroyed by ManagedBuffer; the tail elements are ours to destroy.
        _ = withUnsafeMutablePointers { header, levels in
            levels.deinitialize(count: header.pointee.levelCount)
        }
    }

    var member: [UInt8] { header.member }

    var score: Double {
        get { header.score }
        set { header.score = newValue }
    }

    var backward: SkipNode? {
        get { header.backward }
        set { header.backward = newValue }
    }

    var levelCount: Int { header.levelCount }

    /// Level `index`, which must be below `levelCount`.
    subscript(level index: Int) -> Level {
        get {
            precondition(index >= 0 && index < header.levelCount)
            return withUnsafeMutablePointerToElements { $0[index] }
        }
        set {
            precondition(index >= 0 && index < header.levelCount)
            withUnsafeMutablePointerToElements { $0[index] = newValue }
        }
    }

    /// Drops every forward link, so a long chain can be released one node at a time instead of
    /// recursively.
    func unlinkAll() {
        let count = header.levelCount
        withUnsafeMutablePointerToElements { levels in
            for index in 0..<count { levels[index].forward = nil }
        }
    }
}
