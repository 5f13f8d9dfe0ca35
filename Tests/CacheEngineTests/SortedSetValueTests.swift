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
                #expect(set.set(member, score: score) == (model[member] == nil))
                model[member] = score
            default:
                let score = Double(random.next() % 1000) / 8
                #expect(set.set(member, score: score) == (model[member] == nil))
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
}
