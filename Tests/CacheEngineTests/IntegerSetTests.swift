import Testing

@testable import CacheEngine

@Suite("sets of integers")
struct IntegerSetTests {
    @Test("takes only the canonical decimal integers Redis's string2ll takes")
    func canonical() {
        func parse(_ text: String) -> Int64? { Array(text.utf8).withUnsafeBytes { IntegerSet.canonicalInteger($0) } }
        #expect(parse("0") == 0)
        #expect(parse("7") == 7)
        #expect(parse("-7") == -7)
        #expect(parse("9223372036854775807") == Int64.max)
        #expect(parse("-9223372036854775808") == Int64.min)
        for refused in ["", "-", "-0", "00", "007", "+7", " 7", "7 ", "1.0", "1e3", "9223372036854775808", "-9223372036854775809", "99999999999999999999", "12a"] {
            #expect(parse(refused) == nil, "\(refused)")
        }
    }

    /// Random inserts and removals of values of every width, checked against a sorted model:
    /// the count, ascending order, membership, and each member's decimal bytes.
    @Test("agrees with a sorted model through widenings, inserts and removals", arguments: [1, 2, 3])
    func model(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var integers = IntegerSet()
        var model = Set<Int64>()
        let pools: [ClosedRange<Int64>] = [-300...300, -70_000...70_000, -3_000_000_000...3_000_000_000, Int64.min...Int64.max]
        for step in 0..<5_000 {
            // Mostly narrow values, so the set is widened part way through.
            let pool = pools[step < 1_000 ? 0 : Int(random.next() % UInt64(pools.count))]
            let value = Int64.random(in: pool, using: &random)
            if random.next() % 3 == 0 {
                let candidate = model.randomElement(using: &random) ?? value
                #expect(integers.remove(candidate) == (model.remove(candidate) != nil))
            } else {
                #expect(integers.insert(value) == model.insert(value).inserted)
            }
            #expect(integers.count == model.count)
        }
        let sorted = model.sorted()
        #expect((0..<integers.count).map { integers.value(at: $0) } == sorted)
        #expect(integers.width == 8)
        for (position, value) in sorted.enumerated() where position % 50 == 0 {
            #expect(integers.contains(value))
            #expect(integers.withMember(at: position) { Array($0) } == Array(String(value).utf8))
        }
    }

    @Test("a set stays an intset while its members are integers within the limit, then becomes a table for good")
    func encodings() {
        let set = SetValue()
        for value in [5, -3, 70_000, 5] { set.insert(Array(String(value).utf8), maxIntegers: 4) }
        #expect(set.encodingName == "intset")
        #expect(set.count == 3)
        #expect(set.members == [Array("-3".utf8), Array("5".utf8), Array("70000".utf8)])
        #expect(set.contains(Array("5".utf8)) && !set.contains(Array("05".utf8)))
        #expect(set.insert(Array("08".utf8), maxIntegers: 4))
        #expect(set.encodingName == "hashtable")
        #expect(set.count == 4)
        #expect(set.remove(Array("08".utf8)))
        #expect(set.encodingName == "hashtable")
        for member in ["-3", "5", "70000"] { #expect(set.contains(Array(member.utf8))) }

        let full = SetValue()
        for value in 0..<5 { full.insert(Array(String(value).utf8), maxIntegers: 4) }
        #expect(full.encodingName == "hashtable")
        #expect(full.count == 5)
        #expect(Set(full.members) == Set((0..<5).map { Array(String($0).utf8) }))
    }
}
