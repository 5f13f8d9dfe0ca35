import NIOCore
import RESP
import Testing

@testable import CacheEngine

@Suite("snapshots")
struct SnapshotTests {
    /// Runs a snapshot to the end, calling `between` after every slice, and returns the file.
    func takeSnapshot(_ h: EngineHarness, slice: Int = 50, between: (Int) -> Void = { _ in }) -> [UInt8] {
        #expect(h.engine.beginSnapshot())
        var file = SnapshotFormat.header(created: h.now)
        var checksum = CRC32C()
        checksum.update(file)
        var total = 0
        var steps = 0
        while true {
            let step = h.engine.snapshotStep(maxRecords: slice)
            if step.records > 0 {
                let block = SnapshotFormat.block(records: step.bytes, count: step.records)
                checksum.update(block)
                file += block
                total += step.records
            }
            if step.finished { break }
            between(steps)
            steps += 1
        }
        file += SnapshotFormat.footer(totalRecords: total, checksum: checksum)
        return file
    }

    /// Every key's value and TTL, read through commands.
    func contents(_ h: EngineHarness) -> [String: (RESPValue, RESPValue)] {
        var result: [String: (RESPValue, RESPValue)] = [:]
        for key in (h.run("KEYS", "*").elements ?? []).compactMap(\.string) {
            result[key] = (h.run("GET", key), h.run("PEXPIRETIME", key))
        }
        return result
    }

    func load(_ file: [UInt8], into h: EngineHarness) throws {
        _ = try SnapshotFormat.decode(file) { h.engine.load($0, now: h.now) }
    }

    @Test("CRC-32C check value")
    func crc() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test("values, compressed values and TTLs survive a save and a load")
    func roundTrip() throws {
        let h = EngineHarness(configuration: EngineConfiguration(compressionThreshold: 64))
        for index in 0..<3000 { h.run("SET", "k\(index)", "value-\(index)") }
        for index in 0..<500 { h.run("SET", "t\(index)", "x", "PX", String(10_000 + index)) }
        h.run("SET", "json", String(repeating: "{\"a\":1,\"b\":[1,2,3]}", count: 100))
        h.run("SET", "empty", "")
        let expected = contents(h)
        let file = takeSnapshot(h)
        let restored = EngineHarness()
        restored.now = h.now
        try load(file, into: restored)
        let actual = contents(restored)
        #expect(actual.count == expected.count)
        for (key, value) in expected { #expect(actual[key]?.0 == value.0 && actual[key]?.1 == value.1, "\(key)") }
        #expect(restored.engine.keyspace.compressedValues == 1, "a compressed value loads as it was stored")
    }

    @Test("replication versions survive a save and a load, so slot digests still match")
    func versionsRoundTrip() throws {
        let h = EngineHarness()
        h.engine.versioning = true
        for index in 0..<200 {
            h.engine.writeVersion = UInt64(1000 + index) << 22
            h.run("SET", "v\(index)", "value-\(index)")
        }
        let file = takeSnapshot(h)
        let restored = EngineHarness()
        restored.now = h.now
        try load(file, into: restored)
        for index in [0, 57, 199] {
            #expect(restored.engine.version(of: Array("v\(index)".utf8), now: h.now) == UInt64(1000 + index) << 22)
        }
        let every = [Bool](repeating: true, count: 16384)
        let slot: (UnsafeRawBufferPointer) -> Int = { Int($0.reduce(0) { ($0 &* 31 &+ Int($1)) & 16383 }) }
        #expect(restored.engine.slotDigests(slotOf: slot, wanted: every, now: h.now) == h.engine.slotDigests(slotOf: slot, wanted: every, now: h.now))
    }

    @Test("keys that expired while the node was down are dropped on load")
    func expiredDropped() throws {
        let h = EngineHarness()
        h.run("SET", "short", "x", "PX", "100")
        h.run("SET", "long", "x", "EX", "100")
        let file = takeSnapshot(h)
        let later = EngineHarness()
        later.now = h.now + 5000
        var stored = 0
        _ = try SnapshotFormat.decode(file) { if later.engine.load($0, now: later.now) { stored += 1 } }
        #expect(stored == 1)
        #expect(later.run("EXISTS", "short", "long") == .integer(1))
        #expect(later.run("TTL", "long") == .integer(95))
    }

    @Test("the snapshot is the keyspace of the moment it began, whatever changes during the walk", arguments: [1, 2, 3])
    func pointInTime(seed: UInt64) throws {
        let h = EngineHarness(seed: seed, configuration: EngineConfiguration(compressionThreshold: 32))
        var random = SplitMix64(seed: seed)
        for index in 0..<4000 { h.run("SET", "k\(index)", String(repeating: "v", count: index % 50) + "\(index)") }
        for index in 0..<1000 { h.run("PEXPIRE", "k\(index * 3)", "60000") }
        let atStart = contents(h)
        var extra = 0
        let file = takeSnapshot(h, slice: 25) { _ in
            // Every kind of change, and enough inserts and deletes to rebuild the table.
            let key = "k\(Int.random(in: 0..<4000, using: &random))"
            switch Int.random(in: 0..<9, using: &random) {
            case 0: h.run("SET", key, "changed")
            case 1: h.run("DEL", key)
            case 2: h.run("APPEND", key, "+")
            case 3: h.run("SETRANGE", key, "0", "Z")
            case 4: h.run("PEXPIRE", key, "5")
            case 5: h.run("PERSIST", key)
            case 6: h.run("RENAME", key, "renamed:\(extra)")
            case 7: h.run("INCR", "counter:\(extra)")
            default:
                for _ in 0..<200 { h.run("SET", "new:\(extra)", "n"); extra += 1 }
            }
            h.advance(milliseconds: Int64.random(in: 0...2, using: &random))
            _ = h.engine.backgroundStep(now: h.now, samples: 20)
        }
        let restored = EngineHarness()
        restored.now = h.now - 1_000_000
        try load(file, into: restored)
        let actual = contents(restored)
        #expect(actual.count == atStart.count)
        for (key, value) in atStart {
            #expect(actual[key]?.0 == value.0 && actual[key]?.1 == value.1, "\(key)")
        }
        // The next snapshot starts from a clean slate of parities and sees today's keys.
        let second = takeSnapshot(h)
        let again = EngineHarness()
        again.now = h.now
        try load(second, into: again)
        #expect(contents(again).count == contents(h).count)
    }

    @Test("FLUSHALL during a snapshot keeps the snapshot whole")
    func flushDuringSnapshot() throws {
        let h = EngineHarness()
        for index in 0..<2000 { h.run("SET", "k\(index)", "v") }
        let file = takeSnapshot(h) { step in if step == 3 { h.run("FLUSHALL") } }
        let restored = EngineHarness()
        try load(file, into: restored)
        #expect(restored.run("DBSIZE") == .integer(2000))
    }

    @Test("an abandoned snapshot leaves the next one complete")
    func abandoned() throws {
        let h = EngineHarness()
        for index in 0..<1000 { h.run("SET", "k\(index)", "v") }
        #expect(h.engine.beginSnapshot())
        _ = h.engine.snapshotStep(maxRecords: 100)
        h.engine.abandonSnapshot()
        var records = 0
        while true {
            let step = h.engine.snapshotStep(maxRecords: 100)
            records += step.records
            if step.finished { break }
        }
        #expect(records == 0, "an abandoned walk records nothing")
        let restored = EngineHarness()
        try load(takeSnapshot(h), into: restored)
        #expect(restored.run("DBSIZE") == .integer(1000))
    }

    @Test("every flipped byte and every truncation is refused, and nothing is loaded")
    func corruption() throws {
        let h = EngineHarness()
        for index in 0..<50 { h.run("SET", "k\(index)", "value \(index)", "EX", "1000") }
        let file = takeSnapshot(h, slice: 20)
        for position in 0..<file.count {
            var damaged = file
            damaged[position] ^= 0x5A
            var delivered = 0
            #expect(throws: SnapshotFormat.DecodingError.self, "flip at \(position)") {
                _ = try SnapshotFormat.decode(damaged) { _ in delivered += 1 }
            }
            #expect(delivered == 0)
        }
        for length in 0..<file.count {
            #expect(throws: SnapshotFormat.DecodingError.self, "truncated to \(length)") {
                _ = try SnapshotFormat.decode(Array(file.prefix(length))) { _ in }
            }
        }
        #expect(throws: SnapshotFormat.DecodingError(offset: file.count, reason: "1 unexpected bytes after the footer")) {
            _ = try SnapshotFormat.decode(file + [0]) { _ in }
        }
    }
}
