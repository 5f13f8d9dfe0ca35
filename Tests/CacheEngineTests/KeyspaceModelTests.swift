@testable import CacheEngine
import RESP
import Testing

/// Randomised checks of the keyspace against a plain dictionary, across table growth, shrinking
/// and incremental rebuilds.
@Suite("keyspace against a reference model")
struct KeyspaceModelTests {
    @Test("random SET/DEL/APPEND/EXPIRE/PERSIST agree with a dictionary", arguments: [1, 2, 3])
    func model(seed: UInt64) {
        let h = EngineHarness(seed: seed)
        var random = SeededGenerator(seed: seed)
        var model: [String: (value: String, expiry: Int64?)] = [:]
        let keyCount = 8_000
        for step in 0..<60_000 {
            var key = "key:\(Int.random(in: 0..<keyCount, using: &random))"
            // The server's prefetch hints run before each pipelined command; across growth,
            // tombstones and rebuilds they must change nothing the model would see.
            key.withUTF8 { bytes in
                h.engine.keyspace.prefetch(UnsafeRawBufferPointer(bytes))
                h.engine.keyspace.prefetchEntry(UnsafeRawBufferPointer(bytes))
            }
            switch Int.random(in: 0..<10, using: &random) {
            case 0...3:
                let value = String(repeating: "v", count: Int.random(in: 0...40, using: &random)) + "\(step)"
                h.run("SET", key, value)
                model[key] = (value, nil)
            case 4...5:
                let expected = model.removeValue(forKey: key) != nil
                #expect(h.run("DEL", key) == .integer(expected ? 1 : 0))
            case 6:
                h.run("APPEND", key, "+")
                model[key] = ((model[key]?.value ?? "") + "+", model[key]?.expiry)
            case 7:
                let milliseconds = Int64.random(in: 1...500, using: &random)
                let existed = model[key] != nil
                #expect(h.run("PEXPIRE", key, String(milliseconds)) == .integer(existed ? 1 : 0))
                if existed { model[key]!.expiry = h.now + milliseconds }
            case 8:
                let hadTTL = model[key]?.expiry != nil
                #expect(h.run("PERSIST", key) == .integer(hadTTL ? 1 : 0))
                if hadTTL { model[key]!.expiry = nil }
            default:
                h.advance(milliseconds: Int64.random(in: 0...3, using: &random))
                model = model.filter { $0.value.expiry.map { $0 >= h.now } ?? true }
                let expected: RESPValue = model[key].map { .bulk($0.value) } ?? .null
                #expect(h.run("GET", key) == expected)
            }
            if step % 5000 == 0 {
                model = model.filter { $0.value.expiry.map { $0 >= h.now } ?? true }
                _ = h.engine.backgroundStep(now: h.now, samples: 1000)
            }
        }
        model = model.filter { $0.value.expiry.map { $0 >= h.now } ?? true }
        for (key, entry) in model {
            #expect(h.run("GET", key) == .bulk(entry.value))
        }
        // Every expired key must go once lookups or active expiry reach it.
        for _ in 0..<1000 where h.engine.keyspace.count > model.count {
            _ = h.engine.backgroundStep(now: h.now, samples: 1000)
        }
        #expect(h.engine.keyspace.count == model.count)
        #expect(h.engine.keyspace.volatileCount == model.values.filter { $0.expiry != nil }.count)
    }

    @Test("growing to 200k keys and deleting them all rebuilds incrementally and stays consistent")
    func growAndShrink() {
        let h = EngineHarness()
        for index in 0..<200_000 { h.run("SET", "k\(index)", "\(index)") }
        #expect(h.run("DBSIZE") == .integer(200_000))
        for index in stride(from: 0, to: 200_000, by: 997) { #expect(h.run("GET", "k\(index)") == .bulk("\(index)")) }
        let bytesWhenFull = h.engine.keyspace.tableBytes
        for index in 0..<199_990 { h.run("DEL", "k\(index)") }
        while h.engine.keyspace.isRebuilding { _ = h.engine.backgroundStep(now: h.now, samples: 0) }
        #expect(h.run("DBSIZE") == .integer(10))
        #expect(h.engine.keyspace.tableBytes < bytesWhenFull / 100, "the table shrinks after mass deletion")
        for index in 199_990..<200_000 { #expect(h.run("GET", "k\(index)") == .bulk("\(index)")) }
    }

    @Test("active expiry reclaims 100k expired keys and leaves the rest")
    func activeExpiry() {
        let h = EngineHarness()
        for index in 0..<100_000 { h.run("SET", "t\(index)", "x", "PX", "1000") }
        for index in 0..<1000 { h.run("SET", "p\(index)", "x") }
        h.advance(milliseconds: 1001)
        var slices = 0
        while h.engine.keyspace.volatileCount > 0 && slices < 10_000 {
            _ = h.engine.backgroundStep(now: h.now, samples: 200)
            slices += 1
        }
        #expect(h.engine.keyspace.volatileCount == 0)
        #expect(h.run("DBSIZE") == .integer(1000))
        #expect(h.engine.keyspace.expiredKeys == 100_000)
    }

    @Test("SCAN returns every key present for the whole scan, across growth, shrinking and rebuilds", arguments: [11, 12])
    func scanGuarantee(seed: UInt64) {
        let h = EngineHarness(seed: seed)
        var random = SeededGenerator(seed: seed)
        let stable = (0..<3000).map { "stable:\($0)" }
        for key in stable { h.run("SET", key, "1") }
        var seen = Set<String>()
        var cursor = "0"
        var churn = 0
        var calls = 0
        repeat {
            let reply = h.run("SCAN", cursor, "COUNT", String(Int.random(in: 1...50, using: &random)))
            guard let parts = reply.elements, parts.count == 2, let next = parts[0].string, let keys = parts[1].elements else {
                Issue.record("malformed SCAN reply \(reply)")
                return
            }
            cursor = next
            for key in keys { seen.insert(key.string!) }
            // Between calls, churn other keys enough to grow and later shrink the table.
            let phase = calls < 40 ? 400 : -400
            if phase > 0 {
                for _ in 0..<phase { h.run("SET", "churn:\(churn)", "x"); churn += 1 }
            } else {
                for _ in 0..<(-phase) where churn > 0 { churn -= 1; h.run("DEL", "churn:\(churn)") }
            }
            calls += 1
        } while cursor != "0" && calls < 100_000
        #expect(cursor == "0", "the scan finished")
        #expect(stable.allSatisfy(seen.contains), "missed \(stable.filter { !seen.contains($0) }.count) stable keys")
    }
}

/// The engine's own seeded generator, reproducible from a seed.
typealias SeededGenerator = SplitMix64
