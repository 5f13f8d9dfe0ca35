import Foundation
import Testing

@testable import RingcacheClient

/// The client against Debian's redis-server 7, which nobody here wrote: a Redis Cluster in the
/// middle of a slot migration (the only place a stock server sends ASK), and a plain server
/// whose `INFO stats` counts the reads it made (`total_reads_processed`), which shows whether
/// concurrent requests really share one connection's writes.
@Suite(.serialized) struct ClientAgainstRedisTests {
    /// A redis-server in its own folder, without persistence, listening on 127.0.0.1 only.
    struct RedisNode {
        let port: Int
        let busPort: Int
        let process: Process

        static func start(in root: URL, cluster: Bool) async throws -> RedisNode {
            let port = ServerProcesses.freePort()
            let busPort = ServerProcesses.freeBusPort()
            let directory = root.appendingPathComponent("redis-\(port)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path]
            if cluster {
                arguments += ["--cluster-enabled", "yes", "--cluster-port", "\(busPort)",
                              "--cluster-config-file", directory.appendingPathComponent("nodes.conf").path]
            }
            let process = try ClientTLSTests.run(try ClientTLSTests.which("redis-server"), arguments)
            let node = RedisNode(port: port, busPort: busPort, process: process)
            try await waitUntil("redis-server \(port) answers", timeout: .seconds(10)) { ServerProcesses.answersPing(port) }
            return node
        }

        var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

        /// A command's reply with its RESP framing stripped: the bulk's text, or the status line.
        func ask(_ command: String) -> String {
            let reply = ServerProcesses.askAll(port, command) ?? ""
            let lines = reply.split(separator: "\r\n", omittingEmptySubsequences: false)
            guard reply.hasPrefix("$"), lines.count >= 2 else { return String(lines.first ?? "") }
            return lines.dropFirst().dropLast().joined(separator: "\n")
        }

        func field(_ section: String, _ name: String) -> String? {
            ask("\(section)").split(separator: "\n").first { $0.hasPrefix("\(name):") }.map { String($0.dropFirst(name.count + 1)) }
        }
    }

    static func temporaryRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ringcache-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }

    /// A hash tag whose slot satisfies `wanted`, so a test can put keys on a chosen node.
    static func tag(where wanted: (Int) -> Bool) -> String {
        (0...).lazy.map { "t\($0)" }.first { wanted(RingcacheClient.slot(for: "{\($0)}")) }!
    }

    /// Redis cluster spec, "ASK redirection": while slot S moves from A to B, A still serves
    /// the keys it has and answers ASK for the others; the client must send ASKING and then
    /// the command to B, without changing its table. Once the slot has moved, A answers MOVED
    /// and the client must update its table.
    @Test func followsAskAndMovedWhileARedisClusterMigratesASlot() async throws {
        let root = try Self.temporaryRoot()
        let a = try await RedisNode.start(in: root, cluster: true)
        let b = try await RedisNode.start(in: root, cluster: true)
        defer {
            // Foundation's children here ignore SIGTERM (see `stopProcess`).
            stopProcess(a.process, signal: SIGKILL)
            stopProcess(b.process, signal: SIGKILL)
            try? FileManager.default.removeItem(at: root)
        }
        #expect(a.ask("CLUSTER ADDSLOTSRANGE 0 8191") == "+OK")
        #expect(b.ask("CLUSTER ADDSLOTSRANGE 8192 16383") == "+OK")
        #expect(a.ask("CLUSTER MEET 127.0.0.1 \(b.port) \(b.busPort)") == "+OK")
        try await waitUntil("the two Redis nodes form a cluster", timeout: .seconds(30)) {
            [a, b].allSatisfy { $0.field("CLUSTER INFO", "cluster_state") == "ok" && $0.field("CLUSTER INFO", "cluster_known_nodes") == "2" }
        }
        let idA = a.ask("CLUSTER MYID"), idB = b.ask("CLUSTER MYID")
        #expect(idA.count == 40 && idB.count == 40)

        let client = try await RingcacheClient(configuration: .init(seeds: [b.endpoint]))
        defer { client.close() }
        #expect(client.topology?.endpoints == [a.endpoint, b.endpoint])
        // Multi-key calls split by slot over both nodes and come back in the order asked.
        let pairs = (0..<200).map { (key: Array("spread:\($0)".utf8), value: Array("v\($0)".utf8)) }
        try await client.set(many: pairs)
        #expect(try await client.get(many: pairs.map(\.key)) == pairs.map { Optional($0.value) })
        let keyCounts = [a, b].map { Int($0.field("INFO keyspace", "db0")?.split(separator: ",").first?.dropFirst("keys=".count) ?? "") ?? 0 }
        #expect(keyCounts.allSatisfy { $0 > 50 } && keyCounts.reduce(0, +) == 200, "keys on both nodes: \(keyCounts)")

        let tag = Self.tag { $0 < 8192 }
        let slot = RingcacheClient.slot(for: "{\(tag)}")
        try await client.set("{\(tag)}:old", "before")
        #expect(a.ask("CLUSTER COUNTKEYSINSLOT \(slot)") == ":1")

        // Mid-migration: B imports the slot, A migrates it.
        #expect(b.ask("CLUSTER SETSLOT \(slot) IMPORTING \(idA)") == "+OK")
        #expect(a.ask("CLUSTER SETSLOT \(slot) MIGRATING \(idB)") == "+OK")
        #expect(a.ask("SET {\(tag)}:probe x").hasPrefix("-ASK \(slot) 127.0.0.1:\(b.port)"), "the server does send ASK")
        #expect(try await client.get("{\(tag)}:old") == Array("before".utf8), "A still serves the keys it holds")
        #expect(try await client.set("{\(tag)}:new", "during"), "A answers ASK; ASKING then SET on B")
        #expect(b.ask("CLUSTER COUNTKEYSINSLOT \(slot)") == ":1" && a.ask("CLUSTER COUNTKEYSINSLOT \(slot)") == ":1")
        #expect(try await client.get("{\(tag)}:new") == Array("during".utf8))
        #expect(client.topology?.primary(of: slot) == a.endpoint, "ASK leaves the table alone")

        // The migration completes: the old key moves and both nodes assign the slot to B.
        #expect(a.ask("MIGRATE 127.0.0.1 \(b.port) \"\" 0 5000 KEYS {\(tag)}:old") == "+OK")
        #expect(a.ask("CLUSTER SETSLOT \(slot) NODE \(idB)") == "+OK")
        #expect(b.ask("CLUSTER SETSLOT \(slot) NODE \(idB)") == "+OK")
        #expect(a.ask("GET {\(tag)}:old").hasPrefix("-MOVED \(slot) 127.0.0.1:\(b.port)"))
        #expect(try await client.get("{\(tag)}:old") == Array("before".utf8), "A answers MOVED; the client follows it to B")
        #expect(client.topology?.primary(of: slot) == b.endpoint, "MOVED patches the table")
        try await waitUntil("the background refresh agrees", timeout: .seconds(10)) {
            guard let topology = client.topology else { return false }
            return topology.primary(of: slot) == b.endpoint && topology.primary(of: 0) == a.endpoint && topology.primary(of: 16383) == b.endpoint
        }
    }

    /// One connection carries many concurrent requests, and the writes made in one event-loop
    /// turn share a flush: a thousand concurrent GETs reach redis-server in far fewer reads
    /// than a thousand. The seed is `localhost`, which resolves to ::1 and 127.0.0.1 while the
    /// server listens on 127.0.0.1 only, so the client must try the name's other address.
    @Test func concurrentRequestsArePipelinedOnOneConnection() async throws {
        let root = try Self.temporaryRoot()
        let redis = try await RedisNode.start(in: root, cluster: false)
        defer {
            stopProcess(redis.process, signal: SIGKILL)
            try? FileManager.default.removeItem(at: root)
        }
        var configuration = RingcacheClient.Configuration(seeds: [Endpoint(host: "localhost", port: redis.port)])
        configuration.connectionsPerNode = 1
        let client = try await RingcacheClient(configuration: configuration)
        defer { client.close() }
        #expect(client.topology?.endpoints == [Endpoint(host: "localhost", port: redis.port)], "a server without cluster support is one node")
        try await client.set("shared", "value")

        let requests = 1000
        let readsBefore = Int(redis.field("INFO stats", "total_reads_processed") ?? "") ?? -1
        let values = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            for _ in 0..<requests { group.addTask { try await client.get("shared") } }
            return try await group.reduce(into: [[UInt8]?]()) { $0.append($1) }
        }
        let readsAfter = Int(redis.field("INFO stats", "total_reads_processed") ?? "") ?? -1
        #expect(values == Array(repeating: Array("value".utf8), count: requests))
        // Our INFO connections add a read each; the rest are the client's.
        let reads = readsAfter - readsBefore
        print("\(requests) concurrent GETs on one connection: \(reads) reads by redis-server")
        #expect(readsBefore > 0 && reads > 0 && reads < requests / 4, "\(reads) reads for \(requests) requests")
        #expect(redis.field("INFO clients", "connected_clients") == "2", "the client's one connection, and ours asking")
    }
}
