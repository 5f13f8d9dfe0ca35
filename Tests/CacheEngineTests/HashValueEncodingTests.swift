import Testing

@testable import CacheEngine

@Suite("a hash's packed and table encodings")
struct HashValueEncodingTests {
    /// Random sets and removals over 40 fields with values of 0 to 12 bytes, under limits of
    /// 16 entries and 8-byte values, checked against a model that keeps insertion order: every
    /// field's value, the count, the order of a packed hash (a listpack's: updates in place,
    /// removals close the gap), and the encoding, packed until a limit is first passed and a
    /// table from then on.
    @Test("agrees with an ordered model, and turns into a table once, past a limit", arguments: [1, 2, 3, 4])
    func model(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let limits = ListpackLimits(maxPackedEntries: 16, maxPackedValue: 8)
        let hash = HashValue()
        var model: [(field: [UInt8], value: [UInt8])] = []
        var passedALimit = false
        for step in 0..<4_000 {
            let field = Array("f\(random.next() % 40)".utf8)
            if random.next() % 3 == 0 {
                let removed = field.withUnsafeBytes { hash.remove($0) }
                let index = model.firstIndex { $0.field == field }
                #expect(removed == (index != nil))
                if let index { model.remove(at: index) }
            } else {
                // Mostly short values, now and then one past the value limit.
                let length = random.next() % 10 == 0 ? 9 + Int(random.next() % 4) : Int(random.next() % 9)
                let value = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                let added = hash.set(field, value, limits: limits)
                if let index = model.firstIndex(where: { $0.field == field }) {
                    #expect(!added)
                    model[index].value = value
                } else {
                    #expect(added)
                    model.append((field, value))
                }
                passedALimit = passedALimit || length > limits.maxPackedValue || model.count > limits.maxPackedEntries
            }
            #expect(hash.count == model.count)
            #expect(hash.encodingName == (passedALimit ? "hashtable" : "listpack"), "step \(step)")
            if step % 37 == 0 {
                var seen: [[UInt8]] = []
                hash.forEach { view in
                    seen.append(Array(view.field))
                    let expected = model.first { $0.field.elementsEqual(view.field) }?.value
                    #expect(view.withValueBytes { Array($0) } == expected)
                }
                if passedALimit {
                    #expect(seen.sorted { $0.lexicographicallyPrecedes($1) } == model.map(\.field).sorted { $0.lexicographicallyPrecedes($1) })
                } else {
                    #expect(seen == model.map(\.field))
                }
                for (field, value) in model { #expect(hash.value(field) == value) }
                #expect(hash.value(Array("absent".utf8)) == nil)
            }
        }
    }

    @Test("is packed at most as large as the fields it holds, and a table of the same fields costs more")
    func footprint() {
        let limits = ListpackLimits.hashDefaults
        let packed = HashValue()
        let table = HashValue()
        for index in 0..<100 {
            let field = Array("field:\(index)".utf8)
            let value = [UInt8](repeating: UInt8(index), count: 16)
            packed.set(field, value, limits: limits)
            table.set(field, value, limits: ListpackLimits(maxPackedEntries: 0, maxPackedValue: 64))
        }
        #expect(packed.encodingName == "listpack" && table.encodingName == "hashtable")
        // 100 entries of a 1-byte tag, a 1-byte length, 8-9 bytes of field and 16 of value,
        // with an eighth of headroom at most.
        let entries = 100 * (2 + 16) + (0..<100).reduce(0) { $0 + "field:\($1)".utf8.count }
        #expect(packed.footprint <= HashValue.objectCost + CollectionValue.elementCost(entries + entries / 8 + 16))
        #expect(packed.footprint * 2 < table.footprint)
    }
}
