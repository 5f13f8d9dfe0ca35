import Cluster
import NIOCore
import RESP
import Testing

@testable import RingcacheClient

@Suite struct ClientCoreTests {
    static func node(_ host: String, _ port: Int64) -> RESPValue {
        .array([.bulkString(ByteBuffer(string: host)), .integer(port), .bulkString(ByteBuffer(string: "id"))])
    }

    @Test func topologyParsesClusterSlotsAndFollowsMoved() throws {
        let reply = RESPValue.array([
            .array([.integer(0), .integer(8191), Self.node("10.0.0.1", 7001), Self.node("10.0.0.2", 7002)]),
            .array([.integer(8192), .integer(16383), Self.node("", 7002)]),
        ])
        var topology = try #require(SlotTopology(clusterSlots: reply, fallbackHost: "seed.local"))
        #expect(topology.isComplete)
        #expect(topology.primary(of: 0) == Endpoint(host: "10.0.0.1", port: 7001))
        #expect(topology.replicas(of: 8191) == [Endpoint(host: "10.0.0.2", port: 7002)])
        #expect(topology.primary(of: 16383) == Endpoint(host: "seed.local", port: 7002), "an empty host means the address asked")
        topology.move(slot: 5, to: Endpoint(host: "10.0.0.9", port: 7009))
        #expect(topology.primary(of: 5) == Endpoint(host: "10.0.0.9", port: 7009))
        #expect(topology.primary(of: 6) == Endpoint(host: "10.0.0.1", port: 7001))
        #expect(SlotTopology(clusterSlots: .array([.array([.integer(0), .integer(99999), Self.node("h", 1)])]), fallbackHost: "x") == nil)
        let partial = try #require(SlotTopology(clusterSlots: .array([.array([.integer(0), .integer(10), Self.node("h", 1)])]), fallbackHost: "x"))
        #expect(!partial.isComplete)
    }

    @Test func redirectsAndEndpointsParse() {
        #expect(Redirect(error: "MOVED 3999 127.0.0.1:6381") == .moved(slot: 3999, to: Endpoint(host: "127.0.0.1", port: 6381)))
        #expect(Redirect(error: "ASK 1 [::1]:7000") == .ask(slot: 1, to: Endpoint(host: "::1", port: 7000)))
        #expect(Redirect(error: "ERR wrong") == nil)
        #expect(Redirect(error: "MOVED x 1.2.3.4:5") == nil)
        #expect(Endpoint("nohost") == nil)
        #expect(Endpoint("h:70000") == nil)
    }

    @Test func circuitBreakerOpensFailsFastThenTriesOnce() {
        var breaker = CircuitBreaker(failureThreshold: 3, openDuration: .seconds(1))
        let start = ContinuousClock.now
        func allows(_ instant: ContinuousClock.Instant) -> Bool { breaker.allowsCall(at: instant) }
        for _ in 0..<2 { breaker.recordFailure(at: start) }
        #expect(allows(start), "two failures keep it closed")
        breaker.recordFailure(at: start)
        #expect(breaker.state == .open(since: start))
        #expect(!allows(start + .milliseconds(999)))
        #expect(allows(start + .seconds(1)), "after the open time, one trial")
        #expect(breaker.state == .halfOpen)
        #expect(!allows(start + .seconds(1)), "only one trial at a time")
        breaker.recordFailure(at: start + .seconds(2))
        #expect(breaker.state == .open(since: start + .seconds(2)))
        #expect(allows(start + .seconds(3)))
        breaker.recordSuccess()
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }

    @Test func backoffIsFullJitterUnderAnExponentialCeiling() {
        let policy = RetryPolicy(maxAttempts: 8, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200))
        var random = SeededRandom(seed: 1)
        for attempt in 0..<8 {
            let ceiling = min(Duration.milliseconds(200), .milliseconds(10) * (1 << attempt))
            var delays: [Duration] = []
            for _ in 0..<500 { delays.append(policy.delay(beforeRetry: attempt, using: &random)) }
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= ceiling })
            #expect(delays.max()! > ceiling * 0.9, "the whole range is used")
            #expect(delays.min()! < ceiling * 0.1)
        }
    }

    @Test func cacheEntriesRoundTrip() {
        for entry in [CacheEntry(softExpiry: 1_700_000_000_123, payload: Array("{\"a\":1}".utf8)), CacheEntry(softExpiry: 42, payload: nil), CacheEntry(softExpiry: 0, payload: [])] {
            #expect(CacheEntry(decoding: entry.encoded()) == entry)
        }
        #expect(CacheEntry(decoding: [7, 0, 0]) == nil)
        #expect(CacheEntry(decoding: [0, 0, 0, 0, 0, 0, 0, 0, 1, 99]) == nil, "a negative entry carries no payload")
    }
}
