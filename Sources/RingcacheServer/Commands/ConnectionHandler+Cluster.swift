#if canImport(Glibc)
import Glibc
#endif
import CacheEngine
import Cluster
import RESP

/// CLUSTER subcommands, in the formats redis-py's RedisCluster, `redis-cli -c` and
/// `redis-cli --cluster check` parse (https://redis.io/docs/latest/commands/cluster/).
///
/// Ringcache's model differs from Redis Cluster's in one way these replies must bridge: every
/// node is the primary of some slots and a replica of others. CLUSTER SLOTS expresses that
/// exactly (each range lists its own replicas); CLUSTER NODES lists every node as a master
/// with its primary slots; CLUSTER SHARDS makes a shard of each node's primary slots with the
/// nodes that hold copies of them.
extension ConnectionHandler {
    func cluster(_ argv: Argv, now: Int64) {
        let subcommand = String(decoding: argv[1], as: UTF8.self).uppercased()
        let view = state.cluster.view()
        switch (subcommand, argv.count) {
        case ("KEYSLOT", 3):
            writer.integer(HashSlot.slot(for: argv[2]))
        case ("INFO", 2):
            writer.bulk(clusterInfo(view))
        case ("MYID", 2):
            writer.bulk(view.localID.hex)
        case ("NODES", 2):
            writer.bulk(clusterNodes(view))
        case ("SLOTS", 2):
            clusterSlots(view)
        case ("SHARDS", 2):
            clusterShards(view)
        case ("COUNTKEYSINSLOT", 3):
            guard let slot = slotArgument(argv[2]) else { return }
            writer.integer(state.engine.withEngine { $0.countKeys(matching: { HashSlot.slot(for: $0) == slot }, now: now) })
        case ("GETKEYSINSLOT", 4):
            guard let slot = slotArgument(argv[2]) else { return }
            guard let count = Int(String(decoding: argv[3], as: UTF8.self)), count >= 0 else {
                writer.error("ERR Invalid number of keys")
                return
            }
            let keys = state.engine.withEngine { $0.keys(matching: { HashSlot.slot(for: $0) == slot }, limit: count, now: now) }
            writer.arrayHeader(keys.count)
            for key in keys { writer.bulk(key) }
        case ("MEET", 4), ("MEET", 5):
            meet(argv)
        case ("LEAVE", 2):
            // Leaving is shutting down gracefully: hand the slots over, leave, exit.
            writer.ok()
            state.logger.notice("CLUSTER LEAVE: handing slots over, then leaving and exiting")
            kill(getpid(), SIGTERM)
        case ("FORGET", 3):
            let text = String(decoding: argv[2], as: UTF8.self)
            if let id = NodeID(hex: text), id == view.localID {
                writer.error("ERR I tried hard but I can't forget myself...")
            } else if let id = NodeID(hex: text), state.cluster.forget(id) {
                writer.ok()
            } else {
                writer.error("ERR Unknown node \(text)")
            }
        case ("HELP", 2):
            writer.simpleStrings([
                "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "COUNTKEYSINSLOT <slot>", "    Return the number of keys in <slot>.",
                "FORGET <node-id>", "    Remove a node from the cluster.",
                "GETKEYSINSLOT <slot> <count>", "    Return key names stored by current node in a slot.",
                "INFO", "    Return information about the cluster.",
                "KEYSLOT <key>", "    Return the hash slot for <key>.",
                "LEAVE", "    Hand this node's slots to their next owners, leave the cluster and exit.",
                "MEET <ip> <port> [<bus-port>]", "    Connect nodes into a working cluster.",
                "MYID", "    Return the node id.",
                "NODES", "    Return cluster configuration seen by node.",
                "SHARDS", "    Return information about slot range mappings and the nodes associated with them.",
                "SLOTS", "    Return information about slots range mappings.",
                "HELP", "    Print this help.",
            ])
        case ("ADDSLOTS", _), ("ADDSLOTSRANGE", _), ("DELSLOTS", _), ("DELSLOTSRANGE", _), ("SETSLOT", _),
             ("REPLICATE", _), ("FAILOVER", _), ("RESET", _), ("FLUSHSLOTS", _), ("BUMPEPOCH", _):
            writer.error("ERR CLUSTER \(subcommand) is not needed: the ring assigns slots and fails over by itself")
        case ("KEYSLOT", _), ("INFO", _), ("MYID", _), ("NODES", _), ("SLOTS", _), ("SHARDS", _),
             ("COUNTKEYSINSLOT", _), ("GETKEYSINSLOT", _), ("MEET", _), ("FORGET", _), ("LEAVE", _):
            writer.error(ErrorReply.wrongArity("cluster|\(subcommand.lowercased())"))
        default:
            writer.error(ErrorReply.unknownSubcommand(String(decoding: argv[1], as: UTF8.self), of: "cluster"))
        }
    }

    private func slotArgument(_ argument: UnsafeRawBufferPointer) -> Int? {
        guard let slot = Int(String(decoding: argument, as: UTF8.self)), (0..<HashSlot.count).contains(slot) else {
            writer.error("ERR Invalid or out of range slot")
            return nil
        }
        return slot
    }

    private func meet(_ argv: Argv) {
        let host = String(decoding: argv[2], as: UTF8.self)
        let portText = String(decoding: argv[3], as: UTF8.self)
        guard let port = Int(portText), (1...65535).contains(port) else {
            writer.error("ERR Invalid base port specified: \(portText)")
            return
        }
        var busPort = port + 10000
        if argv.count == 5 {
            let busText = String(decoding: argv[4], as: UTF8.self)
            guard let parsed = Int(busText), (1...65535).contains(parsed) else {
                writer.error("ERR Invalid bus port specified: \(busText)")
                return
            }
            busPort = parsed
        }
        guard busPort <= 65535, state.cluster.meet(host: host, busPort: busPort) else {
            writer.error("ERR Invalid node address specified: \(host):\(port)")
            return
        }
        writer.ok()
    }

    // MARK: Replies

    func clusterInfo(_ view: ClusterView) -> String {
        let node = state.cluster
        let (statistics, incarnation) = node.withMembership { ($0.statistics, $0.local.incarnation) }
        let assigned = view.isJoined && !view.map.isEmpty ? HashSlot.count : 0
        let states = Dictionary(view.members.map { ($0.record.id, $0.record.state) }, uniquingKeysWith: { first, _ in first })
        var pfail = 0
        if assigned > 0 {
            for slot in 0..<HashSlot.count where states[view.map.nodes[view.map.primaryIndex(of: slot)!]] == .suspect { pfail += 1 }
        }
        let counts = view.map.isEmpty ? [] : view.map.primaryCounts()
        var fields: [(String, String)] = [
            ("cluster_state", assigned == HashSlot.count ? "ok" : "fail"),
            ("cluster_slots_assigned", String(assigned)),
            ("cluster_slots_ok", String(assigned - pfail)),
            ("cluster_slots_pfail", String(pfail)),
            ("cluster_slots_fail", "0"),
            ("cluster_known_nodes", String(view.members.filter { $0.record.state != .left }.count)),
            ("cluster_size", String(counts.filter { $0 > 0 }.count)),
            ("cluster_current_epoch", String(view.version)),
            ("cluster_my_epoch", String(incarnation)),
        ]
        for (index, kind) in SWIMMessage.kindNames.enumerated() {
            let name = kind.replacingOccurrences(of: "-", with: "")
            fields.append(("cluster_stats_messages_\(name)_sent", String(statistics.sent[index])))
            fields.append(("cluster_stats_messages_\(name)_received", String(statistics.received[index])))
        }
        fields += [
            ("cluster_stats_messages_sent", String(node.datagramsSent.load(ordering: .relaxed))),
            ("cluster_stats_messages_received", String(node.datagramsReceived.load(ordering: .relaxed))),
            ("cluster_stats_messages_auth_failed", String(node.unauthenticatedDropped.load(ordering: .relaxed))),
            ("cluster_stats_messages_malformed", String(node.malformedDropped.load(ordering: .relaxed))),
            ("cluster_stats_bus_reopened", String(node.busReopenings.load(ordering: .relaxed))),
            ("total_cluster_links_buffer_limit_exceeded", "0"),
            ("cluster_replicas", String(view.map.replicationFactor - 1)),
            ("cluster_ring_balance", String(format2: view.map.isEmpty ? 0 : view.map.imbalance())),
        ]
        fields += state.replication.infoFields(view)
        return fields.map { "\($0.0):\($0.1)\r\n" }.joined()
    }

    /// One line per member: `<id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv>
    /// <config-epoch> <link-state> <slot ranges...>`.
    func clusterNodes(_ view: ClusterView) -> String {
        var rangesByNode: [Int: [String]] = [:]
        for range in primaryRanges(view) {
            rangesByNode[range.node, default: []].append(range.first == range.last ? "\(range.first)" : "\(range.first)-\(range.last)")
        }
        var lines: [String] = []
        for member in view.members where member.record.state != .left {
            let record = member.record
            var flags = member.isLocal ? "myself,master" : "master"
            switch record.state {
            case .suspect: flags += ",fail?"
            case .dead: flags += ",fail"
            default: break
            }
            let slots = view.map.index(of: record.id).flatMap { rangesByNode[$0] } ?? []
            let link = record.state.holdsSlots ? "connected" : "disconnected"
            let line = ["\(record.id.hex)", "\(record.address.host):\(record.address.clientPort)@\(record.address.busPort)",
                        flags, "-", "0", "\(member.changedAt)", "\(record.incarnation)", link] + slots
            lines.append(line.joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Consecutive slots with the same primary.
    func primaryRanges(_ view: ClusterView) -> [(first: Int, last: Int, node: Int)] {
        var result: [(first: Int, last: Int, node: Int)] = []
        for range in view.map.ranges() {
            if let last = result.last, last.node == range.owners[0], last.last + 1 == range.first {
                result[result.count - 1].last = range.last
            } else {
                result.append((range.first, range.last, range.owners[0]))
            }
        }
        return result
    }

    func clusterSlots(_ view: ClusterView) {
        guard view.isJoined else {
            writer.arrayHeader(0)
            return
        }
        let ranges = view.map.ranges()
        writer.arrayHeader(ranges.count)
        for range in ranges {
            writer.arrayHeader(2 + range.owners.count)
            writer.integer(range.first)
            writer.integer(range.last)
            for owner in range.owners { writeNodeTriple(view, owner) }
        }
    }

    private func writeNodeTriple(_ view: ClusterView, _ index: Int) {
        let id = view.map.nodes[index]
        let address = view.members.first { $0.record.id == id }?.record.address
        writer.arrayHeader(4)
        writer.bulk(address?.host ?? "?")
        writer.integer(Int(address?.clientPort ?? 0))
        writer.bulk(id.hex)
        writer.mapHeader(0)
    }

    func clusterShards(_ view: ClusterView) {
        guard view.isJoined else {
            writer.arrayHeader(0)
            return
        }
        var slotsByPrimary: [Int: [Int]] = [:]
        var copiesByPrimary: [Int: [Int]] = [:]
        for range in view.map.ranges() {
            let primary = range.owners[0]
            slotsByPrimary[primary, default: []] += [range.first, range.last]
            for replica in range.owners.dropFirst() where !(copiesByPrimary[primary]?.contains(replica) ?? false) {
                copiesByPrimary[primary, default: []].append(replica)
            }
        }
        let states = Dictionary(view.members.map { ($0.record.id, $0.record) }, uniquingKeysWith: { first, _ in first })
        let primaries = slotsByPrimary.keys.sorted()
        writer.arrayHeader(primaries.count)
        for primary in primaries {
            writer.mapHeader(2)
            writer.bulk("slots")
            let slots = mergedPairs(slotsByPrimary[primary] ?? [])
            writer.arrayHeader(slots.count)
            for slot in slots { writer.integer(slot) }
            writer.bulk("nodes")
            let nodes = [primary] + (copiesByPrimary[primary] ?? []).sorted()
            writer.arrayHeader(nodes.count)
            for (position, index) in nodes.enumerated() {
                let id = view.map.nodes[index]
                let record = states[id]
                writer.mapHeader(7)
                writer.bulk("id"); writer.bulk(id.hex)
                writer.bulk("port"); writer.integer(Int(record?.address.clientPort ?? 0))
                writer.bulk("ip"); writer.bulk(record?.address.host ?? "?")
                writer.bulk("endpoint"); writer.bulk(record?.address.host ?? "?")
                writer.bulk("role"); writer.bulk(position == 0 ? "master" : "replica")
                writer.bulk("replication-offset"); writer.integer(0)
                writer.bulk("health"); writer.bulk(record?.state == .alive || record?.state == .suspect ? "online" : "failed")
            }
        }
    }

    /// Joins adjacent `[first, last]` pairs into longer ones.
    private func mergedPairs(_ pairs: [Int]) -> [Int] {
        var result: [Int] = []
        for index in stride(from: 0, to: pairs.count, by: 2) {
            if result.count >= 2 && result[result.count - 1] + 1 == pairs[index] {
                result[result.count - 1] = pairs[index + 1]
            } else {
                result += [pairs[index], pairs[index + 1]]
            }
        }
        return result
    }
}
