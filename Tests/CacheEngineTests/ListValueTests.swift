import Testing

@testable import CacheEngine

/// The packed list against an array model: small chunk limits put chunk boundaries, growth,
/// sliding, shrinking and emptied chunks under every operation; elements of 0 to 300 bytes
/// give one- and two-byte frame headers and elements larger than a chunk, and some are
/// stored LZ4-compressed.
@Suite("packed list")
struct ListValueTests {
    static func element(_ step: Int, _ random: inout SplitMix64, _ compressor: inout ValueCompressor) -> StoredBytes {
        if random.next() % 6 == 0 {
            // A repetitive value that LZ4 shrinks, stored in the compressor's form.
            let bytes = [UInt8]((0..<(64 + Int(random.next() % 240))).map { UInt8(truncatingIfNeeded: step &+ $0 % 4) })
            if let compressed = bytes.withUnsafeBytes({ compressor.compress($0) }) { return .compressed(Array(compressed)) }
        }
        let size = Int(random.next() % 8 == 0 ? random.next() % 300 : random.next() % 24)
        return .plain((0..<size).map { UInt8(truncatingIfNeeded: step &* 31 &+ $0) })
    }

    static func stored(_ list: ListValue) -> [StoredBytes] { list.storedElements }

    @Test("agrees with an array model, and keeps its footprint, over random operations", arguments: [48, 100, 4096])
    func model(chunkLimit: Int) {
        let list = ListValue(chunkLimit: chunkLimit)
        var model: [StoredBytes] = []
        var random = SplitMix64(seed: UInt64(chunkLimit))
        var compressor = ValueCompressor(threshold: 16)
        defer { compressor.deallocate() }
        for step in 0..<20_000 {
            switch random.next() % 10 {
            case 0, 1:
                let element = Self.element(step, &random, &compressor)
                list.pushFront(element)
                model.insert(element, at: 0)
            case 2, 3, 4:
                let element = Self.element(step, &random, &compressor)
                list.pushBack(element)
                model.append(element)
            case 5:
                #expect(list.popFront() == (model.isEmpty ? nil : model.removeFirst()))
            case 6:
                #expect(list.popBack() == (model.isEmpty ? nil : model.removeLast()))
            case 7 where !model.isEmpty:
                let index = Int(random.next() % UInt64(model.count))
                let element = Self.element(step, &random, &compressor)
                list.replace(at: index, with: element)
                model[index] = element
            case 8 where !model.isEmpty:
                let index = Int(random.next() % UInt64(model.count))
                #expect(list[index] == model[index].bytes, "step \(step): element \(index)")
            default:
                guard !model.isEmpty else { continue }
                let first = Int(random.next() % UInt64(model.count))
                let last = first + Int(random.next() % UInt64(model.count - first))
                let reversed = random.next() % 2 == 0
                var seen: [(Int, [UInt8])] = []
                list.forEach(from: first, through: last, reversed: reversed) { index, bytes in
                    seen.append((index, Array(bytes)))
                    return true
                }
                let indices = reversed ? Array((first...last).reversed()) : Array(first...last)
                #expect(seen.map(\.0) == indices, "step \(step)")
                #expect(seen.map(\.1) == indices.map { model[$0].bytes }, "step \(step)")
            }
            #expect(list.count == model.count)
            if step % 97 == 0 {
                #expect(Self.stored(list) == model, "step \(step)")
                #expect(list.footprint == list.recomputedFootprint, "step \(step)")
            }
        }
        #expect(Self.stored(list) == model)
        #expect(list.footprint == list.recomputedFootprint)
        while list.popBack() != nil {}
        #expect(list.chunkCount == 0 && list.footprint == CollectionValue.objectCost, "drained: no chunk left")
    }

    @Test("a walk stops when asked, and 16-byte elements pack into 18 bytes each")
    func walksStopAndPack() {
        let list = ListValue()
        for index in 0..<1000 { list.pushBack(.plain(Array("element-\(1000 + index)-xx".utf8))) }
        var visited = 0
        list.forEach(from: 10, through: 999) { _, _ in
            visited += 1
            return visited < 5
        }
        #expect(visited == 5)
        let perElement = Double(list.footprint) / 1000
        #expect(perElement < 22, "\(perElement) bytes per element")
        #expect(list.chunkCount == 1000 * 18 / 4096 + 1)
    }
}
