@testable import CacheEngine
import RESP
import Testing

/// Victim selection per `maxmemory-policy`, on a virtual clock. Each test fills a keyspace,
/// sets `maxmemory` a little under what it uses, and checks which keys went.
@Suite("eviction policies")
struct EvictionTests {
    func harness(_ policy: EvictionPolicy) -> EngineHarness {
        EngineHarness(configuration: EngineConfiguration(evictionPolicy: policy, compressionThreshold: 0))
    }

    /// Lowers maxmemory to evict about `fraction` of the keys' entry memory, then runs writes
    /// until memory is back under the limit.
    func squeeze(_ h: EngineHarness, fraction: Double) {
        let keyspace = h.engine.keyspace
        h.engine.configuration.maxMemory = keyspace.memoryUsed - Int(Double(keyspace.entryFootprint) * fraction)
        for _ in 0..<10_000 where h.engine.performEvictions(now: h.now, maxKeys: 64) == .evicting {}
    }

    func survivors(_ h: EngineHarness, _ keys: [String]) -> Int {
        keys.filter { h.run("EXISTS", $0) == .integer(1) }.count
    }

    @Test("noeviction refuses writes that may grow memory with Redis's OOM error, and serves reads and deletes")
    func noeviction() {
        let h = harness(.noeviction)
        for index in 0..<100 { h.run("SET", "k\(index)", "value") }
        h.engine.configuration.maxMemory = h.engine.keyspace.memoryUsed - 1
        #expect(h.run("SET", "new", "x") == .error("OOM command not allowed when used memory > 'maxmemory'."))
        #expect(h.run("APPEND", "k1", "x") == .error("OOM command not allowed when used memory > 'maxmemory'."))
        #expect(h.run("GET", "k1") == .bulk("value"))
        #expect(h.run("DEL", "k1") == .integer(1))
        #expect(h.run("SET", "new", "x") == .ok, "after a delete there is room again")
        #expect(h.engine.stats.evictedKeys == 0)
    }

    @Test("allkeys-lru evicts the keys idle longest", arguments: [EvictionPolicy.allkeysLRU, .volatileLRU])
    func lru(policy: EvictionPolicy) {
        let h = harness(policy)
        let ttl = policy.volatileOnly ? ["EX", "100000"] : []
        let old = (0..<1000).map { "old:\($0)" }
        let recent = (0..<1000).map { "recent:\($0)" }
        for key in old + recent { h.run(["SET", key, "v"] .map { Array($0.utf8) } + ttl.map { Array($0.utf8) }) }
        h.advance(milliseconds: 60_000)
        for key in recent { h.run("GET", key) }
        squeeze(h, fraction: 0.3)
        let evicted = h.engine.stats.evictedKeys
        #expect(evicted >= 500)
        #expect(survivors(h, recent) >= 990, "recently read keys survive")
        #expect(survivors(h, old) <= 1000 - evicted + 10)
    }

    @Test("volatile policies touch only keys with a TTL, and give up when none is left", arguments: [
        EvictionPolicy.volatileLRU, .volatileLFU, .volatileRandom, .volatileTTL,
    ])
    func volatileOnly(policy: EvictionPolicy) {
        let h = harness(policy)
        let persistent = (0..<500).map { "keep:\($0)" }
        for key in persistent { h.run("SET", key, "v") }
        for index in 0..<500 { h.run("SET", "ttl:\(index)", "v", "EX", "1000") }
        h.engine.configuration.maxMemory = h.engine.keyspace.memoryUsed - h.engine.keyspace.entryFootprint * 9 / 10
        // Each command evicts a bounded number of keys; writes go on while that makes progress.
        var reply = RESPValue.ok
        for attempt in 0..<100 where reply == .ok {
            reply = h.run("SET", "one-more:\(attempt)", "v")
        }
        #expect(reply == .error("OOM command not allowed when used memory > 'maxmemory'."))
        #expect(h.engine.keyspace.volatileCount == 0, "every key with a TTL was evicted first")
        #expect(survivors(h, persistent) == 500)
    }

    @Test("volatile-ttl evicts the keys that expire soonest")
    func volatileTTL() {
        let h = harness(.volatileTTL)
        let soon = (0..<500).map { "soon:\($0)" }
        let late = (0..<500).map { "late:\($0)" }
        for key in soon { h.run("SET", key, "v", "EX", "100") }
        for key in late { h.run("SET", key, "v", "EX", "100000") }
        squeeze(h, fraction: 0.3)
        #expect(h.engine.stats.evictedKeys >= 250)
        #expect(survivors(h, late) >= 490)
    }

    @Test("allkeys-lfu keeps frequently read keys over recently read ones", arguments: [EvictionPolicy.allkeysLFU, .volatileLFU])
    func lfu(policy: EvictionPolicy) {
        let h = harness(policy)
        let ttl = policy.volatileOnly ? ["EX", "100000"] : []
        let hot = (0..<500).map { "hot:\($0)" }
        let cold = (0..<500).map { "cold:\($0)" }
        for key in hot + cold { h.run(["SET", key, "v"].map { Array($0.utf8) } + ttl.map { Array($0.utf8) }) }
        // The counter grows logarithmically and by chance (Redis's LFULogIncr): 100 reads lift
        // every hot key above a key read once with near certainty.
        for _ in 0..<100 { for key in hot { h.run("GET", key) } }
        for key in cold { h.run("GET", key) }  // read last, but only once
        #expect(h.run("OBJECT", "FREQ", hot[0]).int! > 5)
        #expect(h.run("OBJECT", "IDLETIME", hot[0]) == .error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."))
        squeeze(h, fraction: 0.3)
        #expect(h.engine.stats.evictedKeys >= 250)
        #expect(survivors(h, hot) >= 490)
    }

    @Test("random policies evict some keys until memory fits", arguments: [EvictionPolicy.allkeysRandom, .volatileRandom])
    func random(policy: EvictionPolicy) {
        let h = harness(policy)
        for index in 0..<1000 { h.run("SET", "k\(index)", "v", "EX", "1000") }
        squeeze(h, fraction: 0.5)
        #expect(h.engine.stats.evictedKeys >= 400)
        #expect(h.engine.keyspace.memoryUsed <= h.engine.configuration.maxMemory)
        #expect(h.run("DBSIZE") == .integer(Int64(1000 - h.engine.stats.evictedKeys)))
    }

    @Test("S3-FIFO evicts keys seen once before keys read again, and readmits ghosts to the main queue")
    func s3fifo() {
        let h = harness(.allkeysS3FIFO)
        let value = String(repeating: "v", count: 200)
        let hot = (0..<300).map { "hot:\($0)" }
        for key in hot { h.run("SET", key, value) }
        for _ in 0..<3 { for key in hot { h.run("GET", key) } }
        // A scan of one-hit wonders, each never read again.
        let scan = (0..<2000).map { "scan:\($0)" }
        h.engine.configuration.maxMemory = h.engine.keyspace.memoryUsed + h.engine.keyspace.entryFootprint * 2
        for key in scan { h.run("SET", key, value) }
        #expect(h.engine.stats.evictedKeys > 500)
        #expect(survivors(h, hot) == 300, "the hot set survives a scan")
        // An evicted key that comes back is remembered by the ghost queue.
        let evicted = scan.first { h.run("EXISTS", $0) == .integer(0) }!
        h.run("SET", evicted, "again")
        #expect(h.engine.keyspace.memoryUsed <= h.engine.configuration.maxMemory + 4096)
    }

    @Test("switching to S3-FIFO at run time queues the existing keys")
    func switchPolicy() {
        let h = harness(.allkeysLRU)
        for index in 0..<1000 { h.run("SET", "k\(index)", "v") }
        h.engine.configuration.evictionPolicy = .allkeysS3FIFO
        squeeze(h, fraction: 0.5)
        #expect(h.engine.stats.evictedKeys >= 400)
        h.engine.configuration.evictionPolicy = .allkeysLRU
        for index in 0..<1000 { h.run("SET", "n\(index)", "v") }
        h.run("GET", "n1")  // the write before may overshoot by its own size until the next command
        #expect(h.engine.keyspace.memoryUsed <= h.engine.configuration.maxMemory)
    }

    @Test("a lowered maxmemory is reached in bounded steps, never in one long sweep")
    func boundedSteps() {
        let h = harness(.allkeysLRU)
        for index in 0..<20_000 { h.run("SET", "k\(index)", "v") }
        h.engine.configuration.maxMemory = h.engine.keyspace.memoryUsed / 4
        let before = h.engine.keyspace.count
        h.run("GET", "k1")
        #expect(before - h.engine.keyspace.count <= Engine.evictionsPerCommand, "one command evicts at most a bounded number of keys")
        var steps = 0
        while h.engine.backgroundStep(now: h.now, samples: 200).moreToDo && steps < 10_000 { steps += 1 }
        #expect(h.engine.keyspace.memoryUsed <= h.engine.configuration.maxMemory)
        #expect(steps > 10, "the work was spread over many slices")
    }

    @Test("used memory follows what is stored and returns when it is deleted")
    func accounting() {
        let h = harness(.allkeysLRU)
        let empty = h.engine.keyspace.memoryUsed
        for index in 0..<10_000 { h.run("SET", "key:\(index)", String(repeating: "x", count: 32)) }
        let full = h.engine.keyspace.memoryUsed
        #expect(full - empty > 10_000 * 64, "each key costs at least its malloc chunk")
        #expect(full - empty < 10_000 * 120)
        #expect(h.run("MEMORY", "USAGE", "key:1").int! >= 64)
        #expect(h.run("MEMORY", "USAGE", "missing") == .null)
        h.run("FLUSHALL")
        #expect(h.engine.keyspace.memoryUsed == empty)
        #expect(h.engine.memoryReport.peakMemory >= full)
    }
}
