/// A sorted set: a member→node index plus a skip list ordered by (score, member) with spans,
/// as in Redis's t_zset.c (after Pugh, "Skip Lists: A Probabilistic Alternative to Balanced
/// Trees", 1990): insert, delete, rank, element-at-rank and the start of a score or lex range
/// are all O(log n) expected.
///
/// The index is an `IndexedTable` of the nodes themselves, found by the member bytes each node
/// carries: 8 bytes and a share of 8-byte slots per member, where a dictionary from a member
/// array to its score cost a second copy of the reference and 16-byte buckets.
///
/// A small set is packed instead (`PackedSortedSet`, Redis's listpack) until it passes
/// `ListpackLimits`, then moves to the skip list for good, as Redis converts a listpack to a
/// skiplist. Commands see one interface: scores and ranks by member, and members and scores
/// by rank (`countWhile`, `forEach(ranks:reverse:)`).
final class SortedSetValue: CollectionValue {
    static let maxLevel = 32
    /// Pugh's p = 1/4, as Redis uses: an average of 1.33 levels per node.
    static let levelProbability: UInt64 = UInt64.max / 4
    /// The levels the header starts with: a set reaches a fifth level with probability
    /// 1 - (1 - 4^-4)^n, so a small set keeps a small header, and a large one swaps it once
    /// for one of `maxLevel` levels.
    static let initialHeaderLevels = 4

    /// The members while the set is packed; nil once it has moved to the skip list.
    private var packed: PackedSortedSet? = PackedSortedSet()
    private(set) var index = IndexedTable<SkipNode>()
    /// Made when the set moves to the skip list.
    private(set) lazy var header = SkipNode.make(member: [], score: 0, level: SortedSetValue.initialHeaderLevels)
    private(set) var tail: SkipNode?
    private var level = 1
    /// Levels are drawn from a generator of the set's own: deterministic, no clock, no global
    /// state.
    private var random = SplitMix64(seed: 0x5EED_5E75)

    init() {
        super.init(footprint: Self.objectCost)
    }

    deinit {
        guard packed == nil else { return }
        // Release the chain iteratively: a long chain of strong forward links would otherwise
        // be freed recursively and overflow the stack.
        var next = header[level: 0].forward
        header.unlinkAll()
        while let current = next {
            next = current[level: 0].forward
            current.unlinkAll()
        }
    }

    override var count: Int { packed?.count ?? index.count }
    override var kind: ValueKind { .zset }
    override var encodingName: String { packed != nil ? "listpack" : "skiplist" }

    var isPacked: Bool { packed != nil }

    /// One node's allocation as malloc rounds it: the fixed part, 16 bytes per level and the
    /// member's bytes in 16-byte units.
    static func nodeCost(member: Int, level: Int) -> Int {
        (SkipNode.fixedBytes + 16 * (level + (member + 15) / 16) + 8 + 15) & ~15
    }

    /// A member's node and its place in the index.
    static func cost(member: Int, level: Int) -> Int {
        nodeCost(member: member, level: level) + indexedKeyCost
    }

    var first: SkipNode? { header[level: 0].forward }

    func score(of member: [UInt8]) -> Double? { member.withUnsafeBytes { score(of: $0) } }

    func score(of member: UnsafeRawBufferPointer) -> Double? {
        if let packed { return packed.score(of: member) }
        return index[member]?.score
    }

    // MARK: Updates

    /// Adds a member or changes its score. Returns whether the member is new.
    @discardableResult
    func set(_ member: [UInt8], score: Double, limits: ListpackLimits) -> Bool {
        member.withUnsafeBytes { set($0, score: score, limits: limits) }
    }

    @discardableResult
    func set(_ member: UnsafeRawBufferPointer, score: Double, limits: ListpackLimits) -> Bool {
        if var packed {
            self.packed = nil
            if member.count <= limits.maxPackedValue {
                let added = packed.set(member, score: score)
                if packed.count <= limits.maxPackedEntries {
                    self.packed = packed
                    footprint = Self.objectCost + Self.elementCost(packed.capacity)
                } else {
                    moveToSkipList(packed)
                }
                return added
            }
            moveToSkipList(packed)
        }
        return setInSkipList(member, score: score)
    }

    /// Links every packed member into the skip list, which the set keeps from now on.
    private func moveToSkipList(_ packed: PackedSortedSet) {
        self.packed = nil
        footprint = Self.objectCost + Self.nodeCost(member: 0, level: header.levelCount)
        packed.forEach(ranks: 0..<packed.count, reverse: false) { entry in
            setInSkipList(entry.member, score: entry.score)
            return true
        }
    }

    @discardableResult
    private func setInSkipList(_ member: UnsafeRawBufferPointer, score: Double) -> Bool {
        guard let node = index[member] else {
            let inserted = insert(member: member, score: score)
            index.insert(member) { inserted }
            footprint += Self.cost(member: member.count, level: inserted.levelCount)
            return true
        }
        guard node.score != score else { return false }
        // Where the node keeps its place in the order, only its score changes (Redis's
        // zslUpdateScore does the same).
        let afterPrevious = node.backward.map { Self.precedes($0, score, member) } ?? true
        let beforeNext = node[level: 0].forward.map { !Self.precedes($0, score, member) } ?? true
        if afterPrevious && beforeNext {
            node.score = score
            return false
        }
        delete(node)
        let inserted = insert(member: member, score: score)
        index.upsert(member) { inserted }
        footprint += Self.cost(member: member.count, level: inserted.levelCount)
            - Self.cost(member: member.count, level: node.levelCount)
        return false
    }

    @discardableResult
    func remove(_ member: [UInt8]) -> Bool {
        member.withUnsafeBytes { remove($0) }
    }

    @discardableResult
    func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        if var packed {
            self.packed = nil
            let removed = packed.remove(member)
            self.packed = packed
            footprint = Self.objectCost + Self.elementCost(packed.capacity)
            return removed
        }
        guard let node = index.remove(member) else { return false }
        delete(node)
        footprint -= Self.cost(member: member.count, level: node.levelCount)
        return true
    }

    /// Whether `node` sorts before (score, member).
    @inline(__always)
    private static func precedes(_ node: SkipNode, _ score: Double, _ member: UnsafeRawBufferPointer) -> Bool {
        node.score < score || (node.score == score && node.memberPrecedes(member))
    }

    private func randomLevel() -> Int {
        var level = 1
        while level < Self.maxLevel && random.next() < Self.levelProbability { level += 1 }
        return level
    }

    /// Swaps the header for one of `maxLevel` levels, its links carried over.
    private func growHeader() {
        let grown = SkipNode.make(member: [], score: 0, level: Self.maxLevel)
        for index in 0..<header.levelCount { grown[level: index] = header[level: index] }
        footprint += Self.nodeCost(member: 0, level: Self.maxLevel) - Self.nodeCost(member: 0, level: header.levelCount)
        header.unlinkAll()
        header = grown
    }

    /// Links a new node for (score, member), which must not be in the list yet.
    @discardableResult
    private func insert(member: UnsafeRawBufferPointer, score: Double) -> SkipNode {
        let countBefore = index.count
        // The per-level predecessors and ranks live on the stack, as in Redis's zslInsert: two
        // heap arrays per insert were an allocation and a free each.
        return withUnsafeTemporaryAllocation(of: Unmanaged<SkipNode>.self, capacity: Self.maxLevel) { update in
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
                    if newLevel > header.levelCount {
                        // The old header may be a predecessor in `update`; the new one takes
                        // its place there.
                        let old = header
                        growHeader()
                        for index in 0..<level where update[index].takeUnretainedValue() === old {
                            update[index] = Unmanaged.passUnretained(header)
                        }
                    }
                    for index in level..<newLevel {
                        rank[index] = 0
                        update[index] = Unmanaged.passUnretained(header)
                        header[level: index].span = countBefore
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

    /// Unlinks `target`, which must be in the list.
    private func delete(_ target: SkipNode) {
        let score = target.score
        target.withMember { member in
            withUnsafeTemporaryAllocation(of: Unmanaged<SkipNode>.self, capacity: Self.maxLevel) { update in
                var node = header
                for index in stride(from: level - 1, through: 0, by: -1) {
                    while let next = node[level: index].forward, Self.precedes(next, score, member) { node = next }
                    update[index] = Unmanaged.passUnretained(node)
                }
                precondition(node[level: 0].forward === target, "a node being deleted is in its list")
                for index in 0..<level {
                    let predecessor = update[index].takeUnretainedValue()
                    if predecessor[level: index].forward === target {
                        predecessor[level: index].span += target[level: index].span - 1
                        predecessor[level: index].forward = target[level: index].forward
                    } else {
                        predecessor[level: index].span -= 1
                    }
                }
            }
        }
        if let next = target[level: 0].forward { next.backward = target.backward } else { tail = target.backward }
        while level > 1 && header[level: level - 1].forward == nil { level -= 1 }
    }

    // MARK: Queries

    /// The 0-based rank of a member in ascending order.
    func rank(of member: [UInt8]) -> Int? {
        member.withUnsafeBytes { rank(of: $0) }
    }

    func rank(of member: UnsafeRawBufferPointer) -> Int? {
        if let packed { return packed.rank(of: member) }
        guard let target = index[member] else { return nil }
        let score = target.score
        var rank = 0
        var node = header
        for index in stride(from: level - 1, through: 0, by: -1) {
            while let next = node[level: index].forward,
                  next.score < score || (next.score == score && !next.withMember({ ByteOrder.precedes(member, $0) })) {
                rank += node[level: index].span
                node = next
            }
            if node === target { return rank - 1 }
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

    /// How many of the lowest members `predicate` holds for; it must hold for a prefix of the
    /// order and fail after it. With "below the range's start" that is the range's first rank;
    /// with "not past its end", its end.
    func countWhile(_ predicate: (ScoredMember) -> Bool) -> Int {
        if let packed { return packed.countWhile(predicate) }
        var rank = 0
        var node = header
        for index in stride(from: level - 1, through: 0, by: -1) {
            while let next = node[level: index].forward, next.withMember({ predicate(ScoredMember(member: $0, score: next.score)) }) {
                rank += node[level: index].span
                node = next
            }
        }
        return rank
    }

    /// Calls `body` with the members of `ranks` (ascending ranks), in ascending order or from
    /// the highest down, until it returns false. `body` must not change the set.
    func forEach(ranks: Range<Int>, reverse: Bool = false, _ body: (ScoredMember) -> Bool) {
        let ranks = ranks.clamped(to: 0..<count)
        if let packed {
            packed.forEach(ranks: ranks, reverse: reverse, body)
            return
        }
        guard !ranks.isEmpty, var node = node(atRank: reverse ? ranks.upperBound - 1 : ranks.lowerBound) else { return }
        for _ in 0..<ranks.count {
            let current = node
            guard current.withMember({ body(ScoredMember(member: $0, score: current.score)) }) else { return }
            guard let next = reverse ? current.backward : current[level: 0].forward else { return }
            node = next
        }
    }

    /// The member at `rank` and its score.
    func entry(atRank rank: Int) -> (member: [UInt8], score: Double)? {
        var found: (member: [UInt8], score: Double)?
        forEach(ranks: rank..<(rank + 1)) { entry in
            found = (Array(entry.member), entry.score)
            return false
        }
        return found
    }

    // MARK: Encoding

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(count)
        forEach(ranks: 0..<count) { entry in
            bytes.appendBlob(entry.member)
            bytes.appendLittleEndian(entry.score.bitPattern)
            return true
        }
    }

    static func decode(_ reader: inout CollectionReader, limits: ListpackLimits) -> SortedSetValue? {
        guard let count = reader.uvarint() else { return nil }
        let set = SortedSetValue()
        for _ in 0..<count {
            guard let member = reader.blob(), let bits = reader.u64() else { return nil }
            let score = Double(bitPattern: bits)
            guard !score.isNaN else { return nil }
            set.set(member, score: score, limits: limits)
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
    func admitsFromBelow(_ member: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .minusInfinity: true
        case .plusInfinity: false
        case .inclusive(let bound): bound.withUnsafeBytes { !ByteOrder.precedes(member, $0) }
        case .exclusive(let bound): bound.withUnsafeBytes { ByteOrder.precedes($0, member) }
        }
    }

    /// As a maximum: whether `member` is at or before it.
    func admitsFromAbove(_ member: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .minusInfinity: false
        case .plusInfinity: true
        case .inclusive(let bound): bound.withUnsafeBytes { !ByteOrder.precedes($0, member) }
        case .exclusive(let bound): bound.withUnsafeBytes { ByteOrder.precedes(member, $0) }
        }
    }

    func admitsFromBelow(_ member: [UInt8]) -> Bool { member.withUnsafeBytes { admitsFromBelow($0) } }

    func admitsFromAbove(_ member: [UInt8]) -> Bool { member.withUnsafeBytes { admitsFromAbove($0) } }
}
