/// A sorted set: a member→score index plus a skip list ordered by (score, member) with spans,
/// as in Redis's t_zset.c (after Pugh, "Skip Lists: A Probabilistic Alternative to Balanced
/// Trees", 1990): insert, delete, rank, element-at-rank and the start of a score or lex range
/// are all O(log n) expected.
final class SortedSetValue: CollectionValue {
    static let maxLevel = 32
    /// Pugh's p = 1/4, as Redis uses: an average of 1.33 levels per node.
    static let levelProbability: UInt64 = UInt64.max / 4

    private(set) var scores: [ByteKey: Double] = [:]
    let header = SkipNode.make(member: [], score: 0, level: SortedSetValue.maxLevel)
    private(set) var tail: SkipNode?
    private var level = 1
    /// Levels are drawn from a generator of the set's own: deterministic, no clock, no global
    /// state.
    private var random = SplitMix64(seed: 0x5EED_5E75)

    init() {
        super.init(footprint: Self.objectCost + Self.maxLevel * 16)
    }

    deinit {
        // Release the chain iteratively: a long chain of strong forward links would otherwise
        // be freed recursively and overflow the stack.
        var next = header[level: 0].forward
        header.unlinkAll()
        while let current = next {
            next = current[level: 0].forward
            current.unlinkAll()
        }
    }

    override var count: Int { scores.count }
    override var kind: ValueKind { .zset }
    override var encodingName: String {
        scores.count <= 128 && !scores.keys.contains { $0.bytes.count > 64 } ? "listpack" : "skiplist"
    }

    /// A member's bytes, its node (object header, the node's header and 16 bytes per level in
    /// one allocation, as malloc rounds it) and its entry in the score index.
    static func cost(member: Int, level: Int) -> Int {
        elementCost(member) + ((48 + 16 * level + 8 + 15) & ~15) + 32
    }

    var first: SkipNode? { header[level: 0].forward }

    func score(of member: [UInt8]) -> Double? { scores[ByteKey(member)] }

    // MARK: Updates

    /// Adds a member or changes its score. Returns whether the member is new.
    @discardableResult
    func set(_ member: [UInt8], score: Double) -> Bool {
        // One hash lookup for both cases: the index takes the new score at once.
        guard let old = scores.updateValue(score, forKey: ByteKey(member)) else {
            let node = insert(member: member, score: score)
            footprint += Self.cost(member: member.count, level: node.levelCount)
            return true
        }
        guard old != score else { return false }
        let removed = delete(member: member, score: old)
        let inserted = insert(member: member, score: score)
        footprint += Self.cost(member: member.count, level: inserted.levelCount)
            - Self.cost(member: member.count, level: removed?.levelCount ?? inserted.levelCount)
        return false
    }

    @discardableResult
    func remove(_ member: [UInt8]) -> Bool {
        guard let score = scores.removeValue(forKey: ByteKey(member)) else { return false }
        if let node = delete(member: member, score: score) {
            footprint -= Self.cost(member: member.count, level: node.levelCount)
        }
        return true
    }

    private static func precedes(_ node: SkipNode, _ score: Double, _ member: [UInt8]) -> Bool {
        node.score < score || (node.score == score && node.member.lexicographicallyPrecedes(member))
    }

    private func randomLevel() -> Int {
        var level = 1
        while level < Self.maxLevel && random.next() < Self.levelProbability { level += 1 }
        return level
    }

    @discardableResult
    private func insert(member: [UInt8], score: Double) -> SkipNode {
        // The per-level predecessors and ranks live on the stack, as in Redis's zslInsert: two
        // heap arrays per insert were an allocation and a free each.
        withUnsafeTemporaryAllocation(of: Unmanaged<SkipNode>.self, capacity: Self.maxLevel) { update in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.maxLevel) { rank in
                var node = header
                for index in stride(from: level - 1, through: 0, by: -1) {
                    rank[index] = index == level - 1 ? 0 : rank[index + 1]
                    while let next = node[level: index].forward, Self.precedes(next, score, member) {
                        rank[index] += node[level: index].span
                        node = next
                    }
                    update[index] = Unmanaged.passUnretained(node)
                }
                let newLevel = randomLevel()
                if newLevel > level {
                    for index in level..<newLevel {
                        rank[index] = 0
                        update[index] = Unmanaged.passUnretained(header)
                        header[level: index].span = scores.count - 1
                    }
                    level = newLevel
                }
                let inserted = SkipNode.make(member: member, score: score, level: newLevel)
                for index in 0..<newLevel {
                    let predecessor = update[index].takeUnretainedValue()
                    inserted[level: index].forward = predecessor[level: index].forward
                    predecessor[level: index].forward = inserted
                    inserted[level: index].span = predecessor[level: index].span - (rank[0] - rank[index])
                    predecessor[level: index].span = rank[0] - rank[index] + 1
                }
                for index in newLevel..<level { update[index].takeUnretainedValue()[level: index].span += 1 }
                let first = update[0].takeUnretainedValue()
                inserted.backward = first === header ? nil : first
                if let next = inserted[level: 0].forward { next.backward = inserted } else { tail = inserted }
                return inserted
            }
        }
    }

    @discardableResult
    private func delete(member: [UInt8], score: Double) -> SkipNode? {
        withUnsafeTemporaryAllocation(of: Unmanaged<SkipNode>.self, capacity: Self.maxLevel) { update in
            var node = header
            for index in stride(from: level - 1, through: 0, by: -1) {
                while let next = node[level: index].forward, Self.precedes(next, score, member) { node = next }
                update[index] = Unmanaged.passUnretained(node)
            }
            guard let target = node[level: 0].forward, target.score == score, target.member == member else { return nil }
            for index in 0..<level {
                let predecessor = update[index].takeUnretainedValue()
                if predecessor[level: index].forward === target {
                    predecessor[level: index].span += target[level: index].span - 1
                    predecessor[level: index].forward = target[level: index].forward
                } else {
                    predecessor[level: index].span -= 1
                }
            }
            if let next = target[level: 0].forward { next.backward = target.backward } else { tail = target.backward }
            while level > 1 && header[level: level - 1].forward == nil { level -= 1 }
            return target
        }
    }

    // MARK: Queries

    /// The 0-based rank of a member in ascending order.
    func rank(of member: [UInt8]) -> Int? {
        guard let score = scores[ByteKey(member)] else { return nil }
        var rank = 0
        var node = header
        for index in stride(from: level - 1, through: 0, by: -1) {
            while let next = node[level: index].forward,
                  next.score < score || (next.score == score && !member.lexicographicallyPrecedes(next.member)) {
                rank += node[level: index].span
                node = next
            }
            if node !== header && node.member == member { return rank - 1 }
        }
        return nil
    }

    /// The node at 0-based rank `rank` in ascending order.
    func node(atRank rank: Int) -> SkipNode? {
        guard rank >= 0 && rank < count else { return nil }
        let target = rank + 1
        var traversed = 0
        var node = header
        for index in stride(from: level - 1, through: 0, by: -1) {
            while let next = node[level: index].forward, traversed + node[level: index].span <= target {
                traversed += node[level: index].span
                node = next
            }
            if traversed == target { return node }
        }
        return nil
    }

    /// The first node that `isBelowRange` does not reject: where an ascending range starts.
    /// `isBelowRange` must hold for a prefix of the order and fail after it.
    func firstNode(notBelow isBelowRange: (SkipNode) -> Bool) -> SkipNode? {
        var node = header
        for index in stride(from: level - 1, through: 0, by: -1) {
            while let next = node[level: index].forward, isBelowRange(next) { node = next }
        }
        return node[level: 0].forward
    }

    /// The last node `isNotAbove` accepts: where a descending range starts. It must hold for
    /// a prefix of the order and fail after it.
    func lastNode(notAbove isNotAbove: (SkipNode) -> Bool) -> SkipNode? {
        var node = header
        for index in stride(from: level - 1, through: 0, by: -1) {
            while let next = node[level: index].forward, isNotAbove(next) { node = next }
        }
        return node === header ? nil : node
    }

    func firstNode(above bound: ScoreBound) -> SkipNode? { firstNode { !bound.admitsFromBelow($0.score) } }
    func lastNode(below bound: ScoreBound) -> SkipNode? { lastNode { bound.admitsFromAbove($0.score) } }
    func firstNode(above bound: LexBound) -> SkipNode? { firstNode { !bound.admitsFromBelow($0.member) } }
    func lastNode(below bound: LexBound) -> SkipNode? { lastNode { bound.admitsFromAbove($0.member) } }

    // MARK: Encoding

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(count)
        var node = first
        while let current = node {
            bytes.appendBlob(current.member)
            bytes.appendLittleEndian(current.score.bitPattern)
            node = current[level: 0].forward
        }
    }

    static func decode(_ reader: inout CollectionReader) -> SortedSetValue? {
        guard let count = reader.uvarint() else { return nil }
        let set = SortedSetValue()
        for _ in 0..<count {
            guard let member = reader.blob(), let bits = reader.u64() else { return nil }
            let score = Double(bitPattern: bits)
            guard !score.isNaN else { return nil }
            set.set(member, score: score)
        }
        return set
    }

}

/// One end of a score range: `(1.5` is exclusive, `1.5`, `-inf` and `+inf` inclusive.
struct ScoreBound {
    var value: Double
    var exclusive: Bool

    /// Whether a score at or after the start of the range is inside it (for a minimum).
    func admitsFromBelow(_ score: Double) -> Bool { exclusive ? score > value : score >= value }

    /// Whether a score is inside the range's upper end (for a maximum).
    func admitsFromAbove(_ score: Double) -> Bool { exclusive ? score < value : score <= value }

    /// Parses Redis's score-range syntax (t_zset.c zslParseRange).
    init?(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 && bytes[0] == UInt8(ascii: "(") {
            guard let value = ByteParsing.double(UnsafeRawBufferPointer(rebasing: bytes[1...])) else { return nil }
            self.value = value
            exclusive = true
        } else {
            guard let value = ByteParsing.double(bytes) else { return nil }
            self.value = value
            exclusive = false
        }
    }

    init(value: Double, exclusive: Bool) {
        self.value = value
        self.exclusive = exclusive
    }
}

/// One end of a lex range: `[a` inclusive, `(a` exclusive, `-` and `+` the open ends.
enum LexBound {
    case minusInfinity
    case plusInfinity
    case inclusive([UInt8])
    case exclusive([UInt8])

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return nil }
        switch bytes[0] {
        case UInt8(ascii: "-") where bytes.count == 1: self = .minusInfinity
        case UInt8(ascii: "+") where bytes.count == 1: self = .plusInfinity
        case UInt8(ascii: "["): self = .inclusive(Array(bytes[1...]))
        case UInt8(ascii: "("): self = .exclusive(Array(bytes[1...]))
        default: return nil
        }
    }

    /// As a minimum: whether `member` is at or past it.
    func admitsFromBelow(_ member: [UInt8]) -> Bool {
        switch self {
        case .minusInfinity: true
        case .plusInfinity: false
        case .inclusive(let bound): !member.lexicographicallyPrecedes(bound)
        case .exclusive(let bound): bound.lexicographicallyPrecedes(member)
        }
    }

    /// As a maximum: whether `member` is at or before it.
    func admitsFromAbove(_ member: [UInt8]) -> Bool {
        switch self {
        case .minusInfinity: false
        case .plusInfinity: true
        case .inclusive(let bound): !bound.lexicographicallyPrecedes(member)
        case .exclusive(let bound): member.lexicographicallyPrecedes(bound)
        }
    }
}
