import ArgumentParser
import Foundation
import RESP
import RingcacheClient

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One table of the cluster, with a verdict on top.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await guarded {
            let client = try await connection.client()
            defer { client.close() }
            let snapshot = try await ClusterSnapshot.gather(client, asked: connection.endpoint)
            print(output.json ? jsonString(snapshot.json()) : snapshot.render())
            return snapshot.verdict.code
        }
    }
}

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "status, refreshed every interval: a failover shows as it happens.")
    @OptionGroup var connection: Connection
    @Option(help: "Seconds between refreshes.") var interval = 1.0
    @Option(help: "Stop after this many refreshes (default: until interrupted).") var count: Int?

    func run() async throws {
        try await guarded {
            let client = try await connection.client()
            defer { client.close() }
            var shown = 0
            var code: Int32 = 0
            while count.map({ shown < $0 }) ?? true {
                let frame: String
                do {
                    let snapshot = try await ClusterSnapshot.gather(client, asked: connection.endpoint, refresh: shown > 0)
                    frame = snapshot.render()
                    code = snapshot.verdict.code
                } catch let failure as Failure {
                    frame = Style.red("unreachable") + ": \(failure)"
                    code = failure.exitCode
                }
                let stamp = ISO8601DateFormatter().string(from: Date())
                print((Style.enabled ? "\u{1B}[H\u{1B}[2J" : "") + "\(stamp)\n" + frame + "\n")
                flushOutput()
                shown += 1
                if count.map({ shown < $0 }) ?? true { try await Task.sleep(for: .milliseconds(Int64(interval * 1000))) }
            }
            return code
        }
    }
}

struct Ring: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Which node owns which slot ranges, and how balanced the ring is.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await guarded {
            let client = try await connection.client()
            defer { client.close() }
            guard let topology = client.topology else { throw Failure.refused("the node sent no slot table") }
            var ranges: [(first: Int, last: Int, owners: [Endpoint])] = []
            for slot in 0..<16384 {
                let owners = [topology.primary(of: slot)].compactMap { $0 } + topology.replicas(of: slot)
                if let last = ranges.last, last.owners == owners, last.last == slot - 1 {
                    ranges[ranges.count - 1].last = slot
                } else {
                    ranges.append((slot, slot, owners))
                }
            }
            var shares: [Endpoint: Int] = [:]
            for range in ranges { if let primary = range.owners.first { shares[primary, default: 0] += range.last - range.first + 1 } }
            let mean = 16384.0 / Double(max(shares.count, 1))
            let balance = Double(shares.values.max() ?? 0) / mean
            if output.json {
                print(jsonString([
                    "balance": balance,
                    "primary_slots": Dictionary(uniqueKeysWithValues: shares.map { ("\($0.key.host):\($0.key.port)", $0.value) }),
                    "ranges": ranges.map { ["first": $0.first, "last": $0.last, "owners": $0.owners.map { "\($0.host):\($0.port)" }] },
                ]))
            } else {
                print(table(["SLOTS", "PRIMARY", "REPLICAS"], ranges.map { range in
                    ["\(range.first)-\(range.last)", range.owners.first.map { "\($0.host):\($0.port)" } ?? "-",
                     range.owners.dropFirst().map { "\($0.host):\($0.port)" }.joined(separator: " ")]
                }))
                print()
                print(table(["NODE", "PRIMARY SLOTS", "SHARE"], shares.sorted { $0.key.port < $1.key.port }.map {
                    ["\($0.key.host):\($0.key.port)", "\($0.value)", String(format: "%.1f%%", Double($0.value) * 100 / 16384)]
                }))
                print("balance: largest share \(String(format: "%.3f", balance))x the mean over \(shares.count) nodes, \(ranges.count) ranges")
            }
            return 0
        }
    }
}

struct Nodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The members this node knows, with their states.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await guarded {
            let client = try await connection.client()
            defer { client.close() }
            let snapshot = try await ClusterSnapshot.gather(client, asked: connection.endpoint)
            if output.json {
                print(jsonString(snapshot.json()["nodes"] ?? []))
            } else {
                print(table(["ID", "ADDRESS", "STATE"], snapshot.nodes.map { [$0.id, $0.address, $0.reachable ? $0.state : "unreachable"] }))
            }
            return 0
        }
    }
}

/// A node named by id (or a prefix of one) or by host:port.
func resolveNode(_ name: String, in snapshot: ClusterSnapshot) throws -> ClusterSnapshot.Node {
    let matches = snapshot.nodes.filter { $0.id.hasPrefix(name.lowercased()) || $0.address == name }
    guard matches.count == 1 else {
        throw Failure.usage(matches.isEmpty ? "no node '\(name)': give a node id (or its first characters) or host:port; ringctl nodes lists them"
                                            : "'\(name)' matches \(matches.count) nodes: give more of the id")
    }
    return matches[0]
}

struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "INFO and CLUSTER INFO of one node.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument(help: "Node id (or prefix) or host:port.") var node: String

    func run() async throws {
        try await guarded {
            let client = try await connection.client()
            defer { client.close() }
            let snapshot = try await ClusterSnapshot.gather(client, asked: connection.endpoint)
            let target = try resolveNode(node, in: snapshot)
            do {
                let info = ClusterSnapshot.text(try await client.execute(ClusterSnapshot.command("INFO"), on: target.endpoint))
                let cluster = ClusterSnapshot.text(try await client.execute(ClusterSnapshot.command("CLUSTER", "INFO"), on: target.endpoint))
                if output.json {
                    print(jsonString(ClusterSnapshot.fields(info).merging(ClusterSnapshot.fields(cluster)) { first, _ in first }))
                } else {
                    print(info.replacingOccurrences(of: "\r", with: "") + "# Cluster (CLUSTER INFO)\n" + cluster.replacingOccurrences(of: "\r", with: ""))
                }
            } catch {
                throw Failure.unreachable("can't reach node \(target.shortID) at \(target.address) (\(error))")
            }
            return 0
        }
    }
}

/// Runs a key command through the cluster client and shows the key's slot and owners.
func keyCommand(_ connection: Connection, _ output: OutputOptions, key: String, words: [String], isRead: Bool) async throws {
    try await guarded {
        let client = try await connection.client()
        defer { client.close() }
        let slot = RingcacheClient.slot(for: key)
        let owners = client.topology.map { [$0.primary(of: slot)].compactMap { $0 } + $0.replicas(of: slot) } ?? []
        let reply: RESPValue
        do {
            reply = try await client.execute(words.map { Array($0.utf8) }, key: Array(key.utf8), isRead: isRead)
        } catch {
            throw Failure.unreachable("\(words[0]) \(key) failed: \(error)")
        }
        let shown: Any
        switch reply {
        case .null: shown = NSNull()
        case .integer(let value): shown = value
        case .error(let message): throw Failure.refused(message)
        default: shown = reply.string ?? "\(reply)"
        }
        if output.json {
            print(jsonString(["key": key, "slot": slot, "owners": owners.map { "\($0.host):\($0.port)" }, "reply": shown]))
        } else {
            print(shown is NSNull ? "(nil)" : "\(shown)")
            print("slot \(slot), owners " + owners.enumerated().map { "\($1.host):\($1.port)\($0 == 0 ? " (primary)" : "")" }.joined(separator: ", "))
        }
        return 0
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "GET a key; shows its slot and owners.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument var key: String
    func run() async throws { try await keyCommand(connection, output, key: key, words: ["GET", key], isRead: true) }
}

struct SetKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "SET a key (optionally with a TTL in seconds).")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument var key: String
    @Argument var value: String
    @Option(help: "Expire after this many seconds.") var ttl: Int?
    func run() async throws {
        try await keyCommand(connection, output, key: key, words: ["SET", key, value] + (ttl.map { ["EX", String($0)] } ?? []), isRead: false)
    }
}

struct Del: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "DEL a key.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument var key: String
    func run() async throws { try await keyCommand(connection, output, key: key, words: ["DEL", key], isRead: false) }
}

struct TTL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ttl", abstract: "TTL of a key in seconds (-1 none, -2 missing).")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Argument var key: String
    func run() async throws { try await keyCommand(connection, output, key: key, words: ["TTL", key], isRead: true) }
}

/// Sends one admin command to one node and expects OK.
func adminCommand(_ client: RingcacheClient, _ words: [String], on endpoint: Endpoint) async throws {
    let reply: RESPValue
    do {
        reply = try await client.execute(words.map { Array($0.utf8) }, on: endpoint)
    } catch {
        throw Failure.unreachable("\(words.joined(separator: " ")) to \(endpoint.host):\(endpoint.port) failed: \(error)")
    }
    if case .error(let message) = reply { throw Failure.refused(message) }
}

struct Meet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Join the cluster of the node at HOST:PORT with this one (CLUSTER MEET).")
    @OptionGroup var connection: Connection
    @Argument(help: "HOST:PORT of a node of the other cluster.") var address: String

    func run() async throws {
        try await guarded {
            let parts = address.split(separator: ":")
            guard parts.count == 2, Int(parts[1]) != nil else { throw Failure.usage("give the other node as HOST:PORT, e.g. 127.0.0.1:7004") }
            let client = try await connection.client()
            defer { client.close() }
            try await adminCommand(client, ["CLUSTER", "MEET", String(parts[0]), String(parts[1])], on: connection.endpoint)
            print("OK: \(connection.host):\(connection.port) met \(address); ringctl status shows when they agree")
            return 0
        }
    }
}

struct Forget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drop a member from every node's view (CLUSTER FORGET on each).")
    @OptionGroup var connection: Connection
    @Argument(help: "The member's node id (or its first characters).") var id: String

    func run() async throws {
        try await guarded {
            let client = try await connection.client()
            defer { client.close() }
            let snapshot = try await ClusterSnapshot.gather(client, asked: connection.endpoint)
            let target = try resolveNode(id, in: snapshot)
            for node in snapshot.nodes where node.id != target.id && node.state != "dead" && node.reachable {
                try await adminCommand(client, ["CLUSTER", "FORGET", target.id], on: node.endpoint)
            }
            print("OK: forgot \(target.shortID) on every live node")
            return 0
        }
    }
}

struct Leave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hand a node's slots over, then take it out of the cluster (it exits).")
    @OptionGroup var connection: Connection
    @Argument(help: "Node id (or prefix) or host:port; default the node --host/--port name.") var node: String?
    @Option(help: "Give up waiting after this many seconds.") var timeout = 120.0

    func run() async throws {
        try await guarded {
            let client = try await connection.client()
            defer { client.close() }
            let before = try await ClusterSnapshot.gather(client, asked: connection.endpoint)
            let target = try node.map { try resolveNode($0, in: before) } ?? before.nodes.first { $0.isLocal }!
            guard let observer = before.nodes.first(where: { $0.id != target.id && $0.state == "alive" && $0.reachable }) else {
                throw Failure.refused("\(target.shortID) is the only live node: there is nobody to hand its slots to")
            }
            let share = target.primarySlots
            try await adminCommand(client, ["CLUSTER", "LEAVE"], on: target.endpoint)
            let interactive = isatty(STDOUT_FILENO) != 0
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                guard let now = try? await ClusterSnapshot.gather(client, asked: observer.endpoint, refresh: true) else { continue }
                let remaining = now.nodes.first { $0.id == target.id }
                let gone = remaining == nil || remaining!.state == "dead"
                let moving = now.nodes.filter { $0.id != target.id }.map(\.slotsMoving).max() ?? 0
                let done = gone ? share : max(0, share - moving)
                let bar = String(repeating: "#", count: share == 0 ? 30 : done * 30 / share)
                let line = "[\(bar.padding(toLength: 30, withPad: " ", startingAt: 0))] \(done)/\(share) slots handed over"
                print(interactive ? "\r" + line : line, terminator: interactive ? "" : "\n")
                flushOutput()
                if gone && moving == 0 {
                    print(interactive ? "\n" : "", terminator: "")
                    print("OK: \(target.shortID) handed its slots over and left")
                    return 0
                }
            }
            throw Failure.refused("\(target.shortID) has not left after \(Int(timeout)) s: see its log (cluster/logs)")
        }
    }
}

struct Rebalance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show (--plan) or run the moves that would even out the ring.",
        discussion: "The ring places a node's tokens when it joins, where they take slots from the most loaded nodes, so a ring stays within a few percent of even; moves happen on joins and leaves. --plan shows the ring's balance and the moves under way.")
    @OptionGroup var connection: Connection
    @OptionGroup var output: OutputOptions
    @Flag(help: "Only show what would move.") var plan = false

    func run() async throws {
        try await guarded {
            let client = try await connection.client()
            defer { client.close() }
            let snapshot = try await ClusterSnapshot.gather(client, asked: connection.endpoint)
            let holders = snapshot.nodes.filter { $0.primarySlots > 0 }
            let balance = Double(holders.map(\.primarySlots).max() ?? 0) / (16384.0 / Double(max(holders.count, 1)))
            let moving = snapshot.nodes.map(\.slotsMoving).max() ?? 0
            let keys = snapshot.nodes.compactMap(\.keys).reduce(0, +)
            let movingKeys = Int(Double(keys) * Double(moving) / 16384 / 2)
            if output.json {
                print(jsonString(["balance": balance, "slots_moving": moving, "keys_moving_estimate": movingKeys, "action_needed": balance > 1.10]))
            } else {
                print("ring balance: largest primary share \(String(format: "%.3f", balance))x the mean over \(holders.count) nodes")
                print(moving > 0 ? "moves under way: \(moving) slots, about \(movingKeys) keys" : "no moves under way")
                print(balance > 1.10 ? "the ring is out of balance (> 1.10x)" : "nothing to move: the ring is within 1.10x of even")
            }
            if !plan && balance > 1.10 {
                throw Failure.refused("moving tokens of live nodes is not supported yet: add a node (it takes slots from the most loaded) or remove one")
            }
            return 0
        }
    }
}
