import Foundation
import RESP
import RingcacheClient

/// Everything `status` shows, gathered from the node asked (membership, slot table) and from
/// each live node (its CLUSTER INFO and INFO).
struct ClusterSnapshot {
    struct Node {
        var id: String
        var address: String
        var endpoint: Endpoint
        /// alive, suspect, dead; joining or leaving while moving data.
        var state: String
        var isLocal: Bool
        var primarySlots = 0
        var replicaSlots = 0
        var keys: Int?
        var usedMemory: Int?
        var maxMemory: Int?
        var opsPerSecond: Int?
        var lastContactMilliseconds: Int64?
        var slotsMoving = 0
        var slotsFilling = 0
        var pendingOps = 0
        var reachable = true

        var shortID: String { String(id.prefix(8)) }
    }

    var nodes: [Node]
    var clusterState: String

    /// Nodes reachable, slot-holding and not moving anything: the verdict and its exit code.
    var verdict: (word: String, reason: String, code: Int32) {
        let down = nodes.filter { $0.state == "dead" || $0.state == "suspect" || !$0.reachable }
        if !down.isEmpty || clusterState != "ok" {
            var reasons = down.map { "\($0.shortID) \($0.reachable ? $0.state : "unreachable")" }
            if clusterState != "ok" { reasons.append("slots not served (cluster_state:\(clusterState))") }
            return ("degraded", reasons.joined(separator: ", "), 2)
        }
        let moving = nodes.map(\.slotsMoving).max() ?? 0
        let filling = nodes.reduce(0) { $0 + $1.slotsFilling }
        let changing = nodes.filter { $0.state == "joining" || $0.state == "leaving" }
        if moving > 0 || filling > 0 || !changing.isEmpty {
            var reasons = changing.map { "\($0.shortID) \($0.state)" }
            reasons.append("\(moving) slots moving, \(filling) being filled")
            return ("rebalancing", reasons.joined(separator: ", "), 1)
        }
        return ("healthy", "\(nodes.count) nodes, every slot on its owners", 0)
    }

    static func text(_ value: RESPValue) -> String {
        value.string ?? ""
    }

    static func fields(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            result[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return result
    }

    static func command(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    static func gather(_ client: RingcacheClient, asked: Endpoint, refresh: Bool = false) async throws -> ClusterSnapshot {
        if refresh { try? await client.refreshTopology() }
        let nodesReply: RESPValue
        do {
            nodesReply = try await client.execute(command("CLUSTER", "NODES"), on: asked)
        } catch {
            throw Failure.unreachable("can't read CLUSTER NODES from \(asked.host):\(asked.port) (\(error))")
        }
        var nodes: [Node] = []
        for line in text(nodesReply).split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: " ").map(String.init)
            guard parts.count >= 8 else { continue }
            let address = String(parts[1].split(separator: "@").first ?? "")
            let hostPort = address.split(separator: ":")
            guard hostPort.count == 2, let port = Int(hostPort[1]) else { continue }
            let flags = parts[2].split(separator: ",")
            let state = flags.contains("fail") ? "dead" : flags.contains("fail?") ? "suspect" : "alive"
            let changed = Int64(parts[5]) ?? 0
            nodes.append(Node(id: parts[0], address: address, endpoint: Endpoint(host: String(hostPort[0]), port: port), state: state,
                              isLocal: flags.contains("myself"),
                              lastContactMilliseconds: changed > 0 ? Int64(Date().timeIntervalSince1970 * 1000) - changed : nil))
        }
        // Shares from the slot table: primary first, then replicas.
        if let topology = client.topology {
            for slot in 0..<16384 {
                if let primary = topology.primary(of: slot), let index = nodes.firstIndex(where: { $0.endpoint == primary }) {
                    nodes[index].primarySlots += 1
                }
                for replica in topology.replicas(of: slot) {
                    if let index = nodes.firstIndex(where: { $0.endpoint == replica }) { nodes[index].replicaSlots += 1 }
                }
            }
        }
        var clusterState = "ok"
        for index in nodes.indices where nodes[index].state != "dead" {
            do {
                let info = fields(text(try await client.execute(command("CLUSTER", "INFO"), on: nodes[index].endpoint)))
                let server = fields(text(try await client.execute(command("INFO"), on: nodes[index].endpoint)))
                if let phase = info["cluster_node_phase"], phase != "serving", nodes[index].state == "alive" { nodes[index].state = phase }
                nodes[index].slotsMoving = Int(info["cluster_slots_moving"] ?? "") ?? 0
                nodes[index].slotsFilling = Int(info["cluster_slots_filling"] ?? "") ?? 0
                nodes[index].pendingOps = Int(info["cluster_replication_pending_ops"] ?? "") ?? 0
                if nodes[index].isLocal, let state = info["cluster_state"] { clusterState = state }
                nodes[index].usedMemory = Int(server["used_memory"] ?? "")
                nodes[index].maxMemory = Int(server["maxmemory"] ?? "")
                nodes[index].opsPerSecond = Int(server["instantaneous_ops_per_sec"] ?? "")
                nodes[index].keys = server["db0"].flatMap { $0.split(separator: ",").first?.split(separator: "=").last }.flatMap { Int($0) } ?? 0
            } catch {
                nodes[index].reachable = false
            }
        }
        return ClusterSnapshot(nodes: nodes, clusterState: clusterState)
    }

    func render() -> String {
        let (word, reason, _) = verdict
        let painted = word == "healthy" ? Style.green(word) : word == "rebalancing" ? Style.yellow(word) : Style.red(word)
        let rows = nodes.map { node -> [String] in
            let state = node.state == "alive" ? Style.green(node.state) : (node.state == "dead" ? Style.red(node.state) : Style.yellow(node.state))
            return [
                node.shortID + (node.isLocal ? "*" : ""), node.address, node.reachable ? state : Style.red("unreachable"),
                percent(node.primarySlots), percent(node.replicaSlots), node.keys.map(String.init) ?? "-",
                memory(node.usedMemory, node.maxMemory), node.opsPerSecond.map(String.init) ?? "-",
                node.lastContactMilliseconds.map { "\($0 / 1000)s ago" } ?? "-",
            ]
        }
        return Style.bold(painted) + ": " + reason + "\n"
            + table(["NODE", "ADDRESS", "STATE", "PRIMARY", "REPLICA", "KEYS", "MEMORY", "OPS/S", "CHANGED"], rows)
    }

    func percent(_ slots: Int) -> String { String(format: "%.1f%%", Double(slots) * 100 / 16384) }

    func memory(_ used: Int?, _ max: Int?) -> String {
        guard let used else { return "-" }
        let usedText = ByteCountFormatter.string(fromByteCount: Int64(used), countStyle: .memory)
        guard let max, max > 0 else { return usedText }
        return usedText + " / " + ByteCountFormatter.string(fromByteCount: Int64(max), countStyle: .memory)
    }

    func json() -> [String: Any] {
        let (word, reason, _) = verdict
        return [
            "verdict": word, "reason": reason, "cluster_state": clusterState,
            "nodes": nodes.map { node -> [String: Any] in
                var entry: [String: Any] = [
                    "id": node.id, "address": node.address, "state": node.reachable ? node.state : "unreachable", "myself": node.isLocal,
                    "primary_slots": node.primarySlots, "replica_slots": node.replicaSlots,
                    "slots_moving": node.slotsMoving, "slots_filling": node.slotsFilling, "replication_pending_ops": node.pendingOps,
                ]
                if let keys = node.keys { entry["keys"] = keys }
                if let used = node.usedMemory { entry["used_memory"] = used }
                if let max = node.maxMemory { entry["maxmemory"] = max }
                if let ops = node.opsPerSecond { entry["ops_per_sec"] = ops }
                if let contact = node.lastContactMilliseconds { entry["changed_ms_ago"] = contact }
                return entry
            },
        ]
    }
}
