import Testing

@testable import CacheEngine

@Suite("the sorted set's skip list and index")
struct SortedSetValueTests {
    /// Random adds, score changes (some keeping a node's place, some moving it) and removals,
    /// checked against a sorted model: the forward and backward walks, every rank both ways,
    /// the header's size, and the footprint recomputed node by node.
    @Test("keeps order, ranks, back links and its footprint through random changes", arguments: [(1, 40), (2, 3000), (3, 20_000)])
    func model(seed: UInt64, members: Int) {
        var random = SplitMix64(seed: seed)
        let set = SortedSetValue()
        let limits = ListpackLimits(maxPackedEntries: 0, maxPackedValue: 0)
        var model: [[UInt8]: Double] = [:]
        for _ in 0..<(members * 3) {
            // Members of 0 to 40 bytes, so some fit a node's first 16-byte unit and some do not.
            let index = Int(random.next() % UInt64(members))
            let member = Array("m\(index)".utf8) + Array(repeating: UInt8(index % 7), count: index % 37)
            switch random.next() % 6 {
            case 0:
                #expect(set.remove(member) == (model.removeValue(forKey: member) != nil))
            case 1:
                // A tiny change, which mostly keeps the node where it is.
                let score = (model[member] ?? 0) + 0.001
                #expect(set.set(member, score: score, limits: limits) == (model[member] == nil))
                model[member] = score
            default:
                let score = Double(random.next() % 1000) / 8
                #expect(set.set(member, score: score, limits: limits) == (model[member] == nil))
                model[member] = score
            }
        }
        let sorted = model.sorted { $0.value < $1.value || ($0.value == $1.value && $0.key.lexicographicallyPrecedes($1.key)) }
        #expect(set.count == sorted.count)
        var forward: [[UInt8]] = []
        var node = set.first
        var maximumLevel = 0
        var expectedFootprint = SortedSetValue.objectCost + SortedSetValue.nodeCost(member: 0, level: set.header.levelCount)
        while let current = node {
            forward.append(current.member)
            #expect(current.score == model[current.member])
            maximumLevel = max(maximumLevel, current.levelCount)
            expectedFootprint += SortedSetValue.cost(member: current.memberLength, level: current.levelCount)
            node = current[level: 0].forward
        }
        #expect(forward == sorted.map(\.key))
        var backward: [[UInt8]] = []
        node = set.tail
        while let current = node {
            backward.append(current.member)
            node = current.backward
        }
        #expect(backward == forward.reversed())
        for (rank, entry) in sorted.enumerated() where rank % max(1, sorted.count / 500) == 0 {
            #expect(set.rank(of: entry.key) == rank)
            #expect(set.node(atRank: rank)?.member == entry.key)
        }
        #expect(set.rank(of: Array("absent".utf8)) == nil)
        #expect(set.header.levelCount == (maximumLevel > SortedSetValue.initialHeaderLevels ? SortedSetValue.maxLevel : SortedSetValue.initialHeaderLevels))
        #expect(set.footprint == expectedFootprint)
    }

    /// The same random changes on a packed set and a skip-list set, compared through the
    /// interface the commands use: scores and ranks by member, counts of leading members, and
    /// members by rank in both directions. The packed one moves to the skip list part way
    /// through, when it passes 48 members or meets a member longer than 20 bytes.
    @Test("a packed set answers as the skip list does, before and after it moves", arguments: [1, 2, 3])
    func packedAgreesWithSkipList(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let packed = SortedSetValue()
        let linked = SortedSetValue()
        let packedLimits = ListpackLimits(maxPackedEntries: 48, maxPackedValue: 20)
        let linkedLimits = ListpackLimits(maxPackedEntries: 0, maxPackedValue: 0)
        var wasPacked = true
        for step in 0..<3_000 {
            let index = Int(random.next() % 60)
            // Members of 1 to 21 bytes; after step 2,000 the long ones may come.
            let length = step < 2_000 ? 1 + index % 12 : 1 + index % 21
            let member = Array("m\(index)".utf8.prefix(length)) + Array(repeating: UInt8(ascii: "x"), count: Swift.max(0, length - "m\(index)".utf8.count))
            if random.next() % 4 == 0 {
                #expect(packed.remove(member) == linked.remove(member))
            } else {
                // Few distinct scores, so members often tie and their bytes decide the order.
                let score = Double(random.next() % 8) / 2
                #expect(packed.set(member, score: score, limits: packedLimits) == linked.set(member, score: score, limits: linkedLimits))
            }
            #expect(packed.count == linked.count)
            #expect(!packed.isPacked || wasPacked, "a set that moved to the skip list stays there")
            wasPacked = packed.isPacked
            if step % 29 == 0 {
                #expect(Self.entries(packed, ranks: 0..<packed.count, reverse: false) == Self.entries(linked, ranks: 0..<linked.count, reverse: false))
                let low = Int(random.next() % UInt64(linked.count + 1))
                let high = low + Int(random.next() % 10)
                #expect(Self.entries(packed, ranks: low..<high, reverse: true) == Self.entries(linked, ranks: low..<high, reverse: true))
                for candidate in ["m1", "m7", "m23", "absent"].map({ Array($0.utf8) }) {
                    #expect(packed.score(of: candidate) == linked.score(of: candidate))
                    #expect(packed.rank(of: candidate) == linked.rank(of: candidate))
                }
                let bound = Double(random.next() % 8) / 2
                #expect(packed.countWhile { $0.score < bound } == linked.countWhile { $0.score < bound })
                #expect(packed.countWhile { $0.score <= bound } == linked.countWhile { $0.score <= bound })
            }
        }
        #expect(!packed.isPacked, "the long members moved it")
        #expect(linked.encodingName == "skiplist")
    }

    private static func entries(_ set: SortedSetValue, ranks: Range<Int>, reverse: Bool) -> [[UInt8]] {
        var result: [[UInt8]] = []
        set.forEach(ranks: ranks, reverse: reverse) { entry in
            result.append(Array(entry.member) + Array(String(entry.score).utf8))
            return true
        }
        return result
    }
}
