import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOPosix
import RESP
import Synchronization
import Testing

@testable import RingcacheClient

/// The client against real `ringcache-server` processes on loopback.
@Suite(.serialized) struct ClientClusterTests {
    static func cluster(_ count: Int) async throws -> ServerProcesses {
        let servers = try ServerProcesses()
        let seed = try await servers.start()
        for _ in 1..<count { try await servers.start(seed: seed) }
        try await waitUntil("\(count) nodes converge", timeout: .seconds(15)) { servers.converged(count) }
        return servers
    }

    static func client(_ port: Int) async throws -> RingcacheClient {
        try await RingcacheClient(configuration: .init(seeds: [Endpoint(host: "127.0.0.1", port: port)]))
    }

    @Test func routesEveryKeyToItsOwnerOnAThreeNodeCluster() async throws {
        let servers = try await Self.cluster(3)
        defer { servers.stopAll() }
        let client = try await Self.client(servers.ports[1])
        defer { client.close() }
        #expect(client.topology?.endpoints.count == 3)
        for index in 0..<1000 { try await client.set("key:\(index)", "value-\(index)") }
        for index in stride(from: 0, to: 1000, by: 7) {
            #expect(try await client.get("key:\(index)") == Array("value-\(index)".utf8))
        }
        let many = try await client.get(many: (0..<1000).map { Array("key:\($0)".utf8) } + [Array("missing".utf8)])
        #expect(many.count == 1001 && many[999] == Array("value-999".utf8) && many[1000] == nil)
        // Each key on its slot's primary and, asynchronously, on its replica (cluster-replicas 1).
        let sizes = { servers.ports.map { Int(ServerProcesses.ask($0, "DBSIZE")?.dropFirst() ?? "") ?? -1 } }
        try await waitUntil("every key on its two owners", timeout: .seconds(10)) { sizes().reduce(0, +) == 2000 }
        #expect(sizes().allSatisfy { $0 > 0 }, "\(sizes())")
        #expect(try await client.delete((0..<10).map { "key:\($0)" }) == 10)
        #expect(try await client.incr("counter", by: 5) == 5)
        struct Profile: Codable, Equatable { var name: String; var plan: String }
        try await client.set("profile:1", value: Profile(name: "Ada", plan: "pro"), ttl: .seconds(60))
        #expect(try await client.get("profile:1", as: Profile.self) == Profile(name: "Ada", plan: "pro"))
        let ttl = try await client.ttl("profile:1")
        #expect(ttl != nil && ttl! > .seconds(55) && ttl! <= .seconds(60))
    }

    @Test func followsMovedWhenTheRingChangesUnderIt() async throws {
        let servers = try await Self.cluster(2)
        defer { servers.stopAll() }
        let client = try await Self.client(servers.ports[0])
        defer { client.close() }
        #expect(client.topology?.endpoints.count == 2)
        try await servers.start(seed: servers.ports[0])
        try await waitUntil("3 nodes converge", timeout: .seconds(15)) { servers.converged(3) }
        // The client's table is stale: a third of the slots moved to the new node.
        for index in 0..<300 { try await client.set("moved:\(index)", "\(index)") }
        for index in 0..<300 { #expect(try await client.get("moved:\(index)") == Array("\(index)".utf8)) }
        try await waitUntil("the client learns the new table", timeout: .seconds(5)) { client.topology?.endpoints.count == 3 }
    }

    /// With `readFromReplicas`, reads of a key go to its primary and its replica in turn
    /// (each connection sent READONLY), and never to a node that does not own the slot.
    @Test func readsFromReplicasSpreadOverTheSlotsOwners() async throws {
        let servers = try await Self.cluster(3)
        defer { servers.stopAll() }
        var configuration = RingcacheClient.Configuration(seeds: [Endpoint(host: "127.0.0.1", port: servers.ports[0])])
        configuration.readFromReplicas = true
        let client = try await RingcacheClient(configuration: configuration)
        defer { client.close() }
        let slot = RingcacheClient.slot(for: "read:spread")
        let owners = try #require(client.topology.map { [$0.primary(of: slot)!] + $0.replicas(of: slot) })
        #expect(owners.count == 2, "cluster-replicas 1: a primary and a replica")
        try await client.set("read:spread", "everywhere")
        let sizes = { servers.ports.map { Int(ServerProcesses.ask($0, "DBSIZE")?.dropFirst() ?? "") ?? -1 } }
        try await waitUntil("the key on its replica", timeout: .seconds(10)) { sizes().reduce(0, +) == 2 }
        func getCalls(_ port: Int) -> Int {
            let stats = ServerProcesses.askAll(port, "INFO commandstats") ?? ""
            guard let line = stats.split(separator: "\r\n").first(where: { $0.hasPrefix("cmdstat_get:calls=") }) else { return 0 }
            return Int(line.dropFirst("cmdstat_get:calls=".count).prefix { $0.isNumber }) ?? -1
        }
        for _ in 0..<100 { #expect(try await client.get("read:spread") == Array("everywhere".utf8)) }
        let calls = servers.ports.map { port in (port: port, calls: getCalls(port)) }
        for (port, count) in calls {
            if owners.contains(Endpoint(host: "127.0.0.1", port: port)) {
                #expect(count >= 40, "owner \(port) served \(count) of 100 reads: \(calls)")
            } else {
                #expect(count == 0, "node \(port) does not own the slot but served \(count) reads")
            }
        }
    }

    @Test func aKilledNodeCostsErrorsOnlyUntilTheClusterMarksItDead() async throws {
        let servers = try await Self.cluster(3)
        defer { servers.stopAll() }
        let client = try await Self.client(servers.ports[0])
        defer { client.close() }
        let victim = servers.ports[2]
        let killedAt = ContinuousClock.now
        servers.kill(victim)
        var lastError: ContinuousClock.Instant?
        var successesAfter = 0
        var index = 0
        // Writes of fresh keys for 4 s: they fail while the dead node still owns slots, then
        // the ring moves its slots and every write succeeds, with the same client.
        while ContinuousClock.now - killedAt < .seconds(4) {
            do {
                try await client.set("after-kill:\(index)", "x")
                if lastError != nil || ContinuousClock.now - killedAt > .seconds(1) { successesAfter += 1 }
            } catch {
                lastError = ContinuousClock.now
                successesAfter = 0
            }
            index += 1
        }
        let recovery = (lastError ?? killedAt) - killedAt
        print("client: last error \(recovery) after kill -9, then \(successesAfter) writes in a row succeeded")
        #expect(recovery < .seconds(3), "errors stop once the cluster marks the node dead")
        #expect(successesAfter > 100)
    }
}

/// A store that counts loads, standing in for a database in the stampede test.
actor CountingStore: BackingStore {
    typealias Value = String
    private(set) var loads = 0
    private var values: [String: String]

    init(values: [String: String]) {
        self.values = values
    }

    func load(_ key: String) async throws -> String? {
        loads += 1
        try await Task.sleep(for: .milliseconds(50))
        return values[key]
    }

    func write(_ key: String, _ value: String) async throws { values[key] = value }
    func delete(_ key: String) async throws { values.removeValue(forKey: key) }
}

@Suite(.serialized) struct CacheAsideTests {
    @Test func aHundredConcurrentMissesLoadOnceAcrossTwoClients() async throws {
        let servers = try ServerProcesses()
        defer { servers.stopAll() }
        let port = try await servers.start()
        let store = CountingStore(values: ["user:1": "Ada"])
        let first = CacheAside(client: try await ClientClusterTests.client(port), store: store)
        let second = CacheAside(client: try await ClientClusterTests.client(port), store: store)
        let results = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<100 {
                group.addTask { try await (index % 2 == 0 ? first : second).get("user:1") }
            }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: "Ada", count: 100))
        #expect(await store.loads == 1, "one load for 100 concurrent misses from two independent clients")
        // Every other request waited for that load, or, if it started after the fill, hit
        // the cache: which of the two depends on scheduling, their sum does not.
        let coalesced = first.statistics.coalescedWaits + second.statistics.coalescedWaits
        let hitsDuringTheStampede = first.statistics.hits + second.statistics.hits
        #expect(coalesced + hitsDuringTheStampede == 99)
        #expect(coalesced > 0, "concurrent misses waited for the one load")
        // Now a hit, and a negative entry for a key the store lacks.
        let hitsBefore = first.statistics.hits
        #expect(try await first.get("user:1") == "Ada")
        #expect(first.statistics.hits == hitsBefore + 1)
        #expect(try await first.get("user:404") == nil)
        #expect(try await second.get("user:404") == nil)
        #expect(await store.loads == 2, "the store's miss is cached")
        #expect(second.statistics.negativeHits == 1)
        // Writes invalidate; a batch loads only what is missing, in one store call.
        try await first.set("user:1", "Grace")
        #expect(try await second.get("user:1") == "Grace")
        let loadsBefore = await store.loads
        try await store.write("user:2", "Alan")
        let batch = try await first.get(["user:1", "user:2"])
        #expect(batch == ["user:1": "Grace", "user:2": "Alan"])
        #expect(await store.loads == loadsBefore + 1)
    }

    @Test func readsFallThroughToTheStoreWhenTheCacheIsDown() async throws {
        let servers = try ServerProcesses()
        defer { servers.stopAll() }
        let port = try await servers.start()
        let client = try await ClientClusterTests.client(port)
        let store = CountingStore(values: ["k": "v"])
        let cache = CacheAside(client: client, store: store)
        servers.kill(port)
        #expect(try await cache.get("k") == "v")
        #expect(cache.statistics.cacheErrors == 1)
    }

    @Test func staleValuesAreServedWhileOneRefreshRuns() async throws {
        let servers = try ServerProcesses()
        defer { servers.stopAll() }
        let port = try await servers.start()
        let clock = Mutex<Int64>(1_000_000)
        var options = CacheAside<CountingStore>.Options()
        options.ttl = .seconds(10)
        options.ttlJitter = 0
        options.staleWhileRevalidate = .seconds(60)
        let store = CountingStore(values: ["k": "old"])
        let cache = CacheAside(client: try await ClientClusterTests.client(port), store: store, options: options, now: { clock.withLock { $0 } })
        #expect(try await cache.get("k") == "old")
        try await store.write("k", "new")
        clock.withLock { $0 += 11_000 }
        #expect(try await cache.get("k") == "old", "past the soft TTL: the stale value, at once")
        #expect(cache.statistics.staleServes == 1)
        try await waitUntil("the background refresh", timeout: .seconds(5)) { await store.loads == 2 }
        try await waitUntil("the refreshed value", timeout: .seconds(5)) { try await cache.get("k") == "new" }
    }
}

@Suite(.serialized) struct NearCacheTests {
    @Test func aWriteFromAnotherClientInvalidatesTheNearCacheWithinAHundredMilliseconds() async throws {
        let servers = try await ClientClusterTests.cluster(3)
        defer { servers.stopAll() }
        let store = CountingStore(values: ["k": "old"])
        var options = CacheAside<CountingStore>.Options()
        options.nearCacheCapacity = 1000
        let reader = CacheAside(client: try await ClientClusterTests.client(servers.ports[0]), store: store, options: options)
        let writer = CacheAside(client: try await ClientClusterTests.client(servers.ports[2]), store: store, options: options)
        defer {
            reader.close()
            writer.close()
        }
        try await waitUntil("both listeners subscribe", timeout: .seconds(5)) {
            reader.invalidations!.isSubscribed.load(ordering: .relaxed) && writer.invalidations!.isSubscribed.load(ordering: .relaxed)
        }
        #expect(try await reader.get("k") == "old")
        #expect(try await reader.get("k") == "old")
        #expect(reader.statistics.nearHits == 1, "the second read never left the process")
        try await writer.set("k", "new")
        let written = ContinuousClock.now
        try await waitUntil("the reader's near cache drops the key", timeout: .seconds(1)) {
            reader.nearCache!.get("k", now: 0) == nil
        }
        let delay = ContinuousClock.now - written
        print("near cache: invalidated \(delay) after the write returned")
        #expect(delay < .milliseconds(100))
        #expect(try await reader.get("k") == "new")
    }
}

/// A TCP port that accepts connections (the kernel completes the handshake) but never answers.
final class SilentListener: @unchecked Sendable {
    // @unchecked: the descriptor is written once in init and only closed in deinit.
    let port: Int
    private let descriptor: Int32

    init() {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        listen(descriptor, 16)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

@Suite struct ClientTimeoutTests {
    /// A missing timeout or an ignored cancellation would hang here; the time limit turns
    /// that into a failure. No wall-clock upper bound: a loaded machine may resume the task
    /// late, which says nothing about the client.
    @Test(.timeLimit(.minutes(1)))
    func aNodeThatNeverAnswersTimesOutAndCancellationEndsACallAtOnce() async throws {
        let silent = SilentListener()
        var configuration = RingcacheClient.Configuration(seeds: [Endpoint(host: "127.0.0.1", port: silent.port)])
        configuration.commandTimeout = .milliseconds(200)
        configuration.connectTimeout = .milliseconds(200)
        let started = ContinuousClock.now
        await #expect(throws: RingcacheError.timeout(Endpoint(host: "127.0.0.1", port: silent.port))) {
            _ = try await RingcacheClient(configuration: configuration)
        }
        #expect(ContinuousClock.now - started >= .milliseconds(200), "not before the timeout")

        // With a 30 s timeout, only the cancellation can end this call within the minute,
        // and it must end it as `.cancelled`, not as a timeout.
        configuration.commandTimeout = .seconds(30)
        let call = Task { try await RingcacheClient(configuration: configuration) }
        try await Task.sleep(for: .milliseconds(50))
        call.cancel()
        await #expect(throws: RingcacheError.cancelled) { _ = try await call.value }
    }

    /// One timer per connection enforces every request's deadline: requests on one silent
    /// connection, a later one with an earlier deadline among them, each time out, and none
    /// before its own deadline.
    @Test(.timeLimit(.minutes(1)))
    func everyRequestOnAConnectionTimesOutAtItsOwnDeadline() async throws {
        let silent = SilentListener()
        let endpoint = Endpoint(host: "127.0.0.1", port: silent.port)
        let connection = try await RESPConnection.connect(to: endpoint, group: MultiThreadedEventLoopGroup.singleton,
                                                          timeout: .seconds(5), setup: [])
        defer { connection.close() }
        let ping: [[UInt8]] = [Array("PING".utf8)]
        let timeouts: [Duration] = [.milliseconds(300), .milliseconds(600), .milliseconds(150)]
        let outcomes = await withTaskGroup(of: (Int, Duration, RingcacheError?).self) { group in
            for (index, timeout) in timeouts.enumerated() {
                group.addTask {
                    // Staggered, so the last request arrives with the earliest deadline.
                    try? await Task.sleep(for: .milliseconds(50 * index))
                    let started = ContinuousClock.now
                    do throws(RingcacheError) {
                        _ = try await connection.send([ping], timeout: timeout)
                        return (index, ContinuousClock.now - started, nil)
                    } catch {
                        return (index, ContinuousClock.now - started, error)
                    }
                }
            }
            var outcomes: [(Int, Duration, RingcacheError?)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.count == timeouts.count)
        for (index, waited, error) in outcomes {
            #expect(error == .timeout(endpoint), "request \(index)")
            #expect(waited >= timeouts[index], "request \(index) timed out after \(waited), before its \(timeouts[index])")
        }
    }
}
