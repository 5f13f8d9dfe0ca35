import Testing

@testable import CacheEngine

@Suite("the collections' indexed table")
struct IndexedTableTests {
    /// Random sets and removals over a small key space (so runs collide and deletions shift
    /// them back), checked against a dictionary: the replaced or removed value and the count
    /// after every step, and every 97 steps every key of the space, found at a position
    /// holding it with the model's value, or absent when the model has no such key.
    @Test("agrees with a dictionary over random inserts, updates and removals", arguments: [1, 2, 3])
    func model(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var table = IndexedTable<Tagged>()
        var model: [[UInt8]: Int] = [:]
        let universe: [[UInt8]] = (0..<300).map { index in
            // Lengths 0 to 40, so the empty key and keys longer than one word are covered.
            Array("k\(index)".utf8) + Array(repeating: UInt8(index % 251), count: index % 41)
        } + [[]]
        for step in 0..<20_000 {
            let key = universe[Int(random.next() % UInt64(universe.count))]
            switch random.next() % 10 {
            case 0..<5:
                let replaced = key.withUnsafeBytes { table.upsert($0) { Tagged(key: key, tag: step) } }
                #expect(replaced?.tag == model.updateValue(step, forKey: key))
            case 5..<9:
                #expect(table.remove(key)?.tag == model.removeValue(forKey: key))
            default:
                if random.next() % 50 == 0 {
                    table.removeAll()
                    model.removeAll()
                }
            }
            #expect(table.count == model.count)
            if step % 97 == 0 {
                for candidate in universe {
                    let position = table.position(of: candidate)
                    #expect((position != nil) == (model[candidate] != nil), "step \(step)")
                    if let position {
                        #expect(table.elements[position].key == candidate)
                        #expect(table.elements[position].tag == model[candidate])
                    }
                    #expect(candidate.withUnsafeBytes { table[$0] }?.tag == model[candidate])
                }
            }
        }
        // The index stays at most 3/4 full.
        #expect(table.count * 4 <= table.indexCapacity * 3 || table.count == 0)
    }

    @Test("grows through many keys and shrinks back to nothing")
    func growAndDrain() {
        var table = IndexedTable<[UInt8]>()
        let keys = (0..<50_000).map { Array("member:\($0)".utf8) }
        for key in keys { #expect(key.withUnsafeBytes { table.insert($0) { key } }) }
        // A second insert of a present key keeps the table as it is.
        #expect(!keys[7].withUnsafeBytes { table.insert($0) { [] } })
        #expect(table.count == keys.count)
        for key in keys where key.last! % 2 == 0 { #expect(table.remove(key) != nil) }
        for key in keys {
            #expect((table.position(of: key) != nil) == (key.last! % 2 != 0))
        }
        for key in keys { table.remove(key) }
        #expect(table.isEmpty)
        #expect(table.position(of: keys[0]) == nil)
    }
}

/// A key with a value beside it, as a hash's field carries its value.
private struct Tagged: IndexedElement {
    let key: [UInt8]
    let tag: Int

    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { key.withUnsafeBytes(body) }
}
