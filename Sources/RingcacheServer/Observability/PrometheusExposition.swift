import Cluster
import CacheEngine

/// /metrics in the Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/).
///
/// Rendered at scrape time from the counters the node keeps anyway (per-read merged command
/// statistics, engine counters, atomics), so exporting costs nothing per command; a metrics
/// library recording every command would put atomics and existential calls on the hot path.
struct PrometheusExposition {
    let state: ServerState

    func render() -> String {
        var out = ""
        let commands = state.commandStats.snapshot().filter { $0.1.calls + $0.1.rejected > 0 }
        family(&out, "ringcache_commands_total", "counter", "Commands executed, by command.")
        for (command, entry) in commands { sample(&out, "ringcache_commands_total", ["cmd": "\(command)"], entry.calls) }
        family(&out, "ringcache_command_failures_total", "counter", "Commands that replied with an error, by command.")
        for (command, entry) in commands { sample(&out, "ringcache_command_failures_total", ["cmd": "\(command)"], entry.failed) }
        family(&out, "ringcache_command_rejections_total", "counter", "Commands refused before running (wrong arity), by command.")
        for (command, entry) in commands { sample(&out, "ringcache_command_rejections_total", ["cmd": "\(command)"], entry.rejected) }
        if state.latencyTracking.load(ordering: .relaxed) {
            family(&out, "ringcache_command_duration_seconds", "histogram", "Time commands took on the server, by command.")
            for (command, entry) in commands where entry.calls > 0 {
                var cumulative = 0
                for (index, bound) in CommandStatistics.bucketBounds.enumerated() {
                    cumulative += entry.buckets[index]
                    sample(&out, "ringcache_command_duration_seconds_bucket", ["cmd": "\(command)", "le": Self.seconds(bound)], cumulative)
                }
                cumulative += entry.buckets[CommandStatistics.bucketBounds.count]
                sample(&out, "ringcache_command_duration_seconds_bucket", ["cmd": "\(command)", "le": "+Inf"], cumulative)
                line(&out, "ringcache_command_duration_seconds_sum", ["cmd": "\(command)"], Self.seconds(entry.microseconds))
                sample(&out, "ringcache_command_duration_seconds_count", ["cmd": "\(command)"], entry.calls)
            }
        }
        family(&out, "ringcache_errors_total", "counter", "Error replies, by error code.")
        for (code, count) in state.commandStats.errorCounts().sorted(by: { $0.key < $1.key }) {
            sample(&out, "ringcache_errors_total", ["code": code], count)
        }

        let (stats, expired, keys, volatile, memory) = state.engine.withEngine {
            ($0.stats, $0.keyspace.expiredKeys, $0.keyspace.count, $0.keyspace.volatileCount, $0.memoryReport)
        }
        let configuration = state.configuration.withLock { $0 }
        let counters = state.stats
        let singles: [(String, String, String, Int)] = [
            ("ringcache_keyspace_hits_total", "counter", "Reads that found their key.", stats.keyspaceHits),
            ("ringcache_keyspace_misses_total", "counter", "Reads that did not find their key.", stats.keyspaceMisses),
            ("ringcache_evicted_keys_total", "counter", "Keys evicted to stay under maxmemory.", stats.evictedKeys),
            ("ringcache_expired_keys_total", "counter", "Keys removed because their TTL passed.", expired),
            ("ringcache_keys", "gauge", "Keys stored.", keys),
            ("ringcache_keys_with_ttl", "gauge", "Keys stored with a TTL.", volatile),
            ("ringcache_memory_used_bytes", "gauge", "used_memory: what the keyspace costs.", memory.usedMemory),
            ("ringcache_memory_max_bytes", "gauge", "maxmemory; 0 means no limit.", configuration.maxMemory),
            ("ringcache_memory_rss_bytes", "gauge", "Resident set size of the process.", ProcessInfoSnapshot.residentSetSize()),
            ("ringcache_compressed_values", "gauge", "Values stored LZ4-compressed.", memory.compressedValues),
            ("ringcache_compression_saved_bytes", "gauge", "Bytes compression saves.", memory.compressionSavedBytes),
            ("ringcache_connected_clients", "gauge", "Open client connections.", state.clients.count),
            ("ringcache_connections_received_total", "counter", "Client connections accepted.", counters.totalConnectionsReceived.load(ordering: .relaxed)),
            ("ringcache_connections_rejected_total", "counter", "Client connections refused by maxclients.", counters.rejectedConnections.load(ordering: .relaxed)),
            ("ringcache_net_input_bytes_total", "counter", "Bytes read from clients.", counters.totalNetInputBytes.load(ordering: .relaxed)),
            ("ringcache_net_output_bytes_total", "counter", "Bytes written to clients.", counters.totalNetOutputBytes.load(ordering: .relaxed)),
            ("ringcache_changes_since_snapshot", "gauge", "Writes since the last snapshot.", stats.changesSinceSave),
            ("ringcache_snapshot_last_success_timestamp_seconds", "gauge", "When the last snapshot was saved.", Int(state.snapshots.status.withLock { $0.lastSaveTime })),
            ("ringcache_slowlog_entries", "gauge", "Entries in the slow log.", state.slowLog.count),
        ]
        for (name, type, help, value) in singles {
            family(&out, name, type, help)
            sample(&out, name, [:], value)
        }
        renderCluster(&out)
        return out
    }

    /// Membership and bus: members by state, this node's slots, gossip traffic and drops.
    private func renderCluster(_ out: inout String) {
        let node = state.cluster
        let view = node.view()
        let (statistics, health) = node.withMembership { ($0.statistics, $0.localHealth) }
        family(&out, "ringcache_cluster_members", "gauge", "Members this node knows, by state (itself included).")
        for memberState in [MemberState.alive, .suspect, .dead, .left] {
            sample(&out, "ringcache_cluster_members", ["state": memberState.description], view.members.filter { $0.record.state == memberState }.count)
        }
        family(&out, "ringcache_cluster_gossip_messages_total", "counter", "Membership messages, by kind and direction.")
        for (index, kind) in SWIMMessage.kindNames.enumerated() {
            sample(&out, "ringcache_cluster_gossip_messages_total", ["kind": kind, "direction": "sent"], statistics.sent[index])
            sample(&out, "ringcache_cluster_gossip_messages_total", ["kind": kind, "direction": "received"], statistics.received[index])
        }
        family(&out, "ringcache_cluster_bus_dropped_total", "counter", "Bus datagrams dropped, by reason.")
        sample(&out, "ringcache_cluster_bus_dropped_total", ["reason": "unauthenticated"], node.unauthenticatedDropped.load(ordering: .relaxed))
        sample(&out, "ringcache_cluster_bus_dropped_total", ["reason": "malformed"], node.malformedDropped.load(ordering: .relaxed))
        let primary = view.localIndex.map { view.map.primaryCounts()[$0] } ?? 0
        let replica = view.localIndex.map { view.map.replicaCounts()[$0] } ?? 0
        let clusterSingles: [(String, String, String, Int)] = [
            ("ringcache_cluster_failed_probes_total", "counter", "Probes of other members that got no ack, direct or indirect.", statistics.failedProbes),
            ("ringcache_cluster_refutations_total", "counter", "Times this node refuted a suspicion of itself.", statistics.refutations),
            ("ringcache_cluster_local_health", "gauge", "Lifeguard local health multiplier (0 = healthy).", health),
            ("ringcache_cluster_bus_sent_bytes_total", "counter", "Bytes sent on the cluster bus.", node.bytesSent.load(ordering: .relaxed)),
            ("ringcache_cluster_bus_received_bytes_total", "counter", "Bytes received on the cluster bus.", node.bytesReceived.load(ordering: .relaxed)),
            ("ringcache_cluster_primary_slots", "gauge", "Slots this node is primary for.", primary),
            ("ringcache_cluster_replica_slots", "gauge", "Slots this node holds as a replica.", replica),
            ("ringcache_cluster_joined", "gauge", "1 once this node holds a place on the ring.", view.isJoined ? 1 : 0),
        ] + replicationSingles(view)
        for (name, type, help, value) in clusterSingles {
            family(&out, name, type, help)
            sample(&out, name, [:], value)
        }
        family(&out, "ringcache_cluster_ring_balance", "gauge", "Largest primary share over the mean share.")
        line(&out, "ringcache_cluster_ring_balance", [:], String(format2: view.map.isEmpty ? 0 : view.map.imbalance()))
    }

    /// Replication and moves (issue 6): what is queued for peers, what is moving.
    private func replicationSingles(_ view: ClusterView) -> [(String, String, String, Int)] {
        let fields = Dictionary(state.replication.infoFields(view), uniquingKeysWith: { first, _ in first })
        func value(_ field: String) -> Int { Int(fields[field] ?? "") ?? 0 }
        return [
            ("ringcache_replication_pending_ops", "gauge", "Writes queued for peers and not acknowledged yet (replication lag, in ops; hints while a peer is away).", value("cluster_replication_pending_ops")),
            ("ringcache_replication_links_up", "gauge", "Replication links to peers that are connected.", value("cluster_replication_links_up")),
            ("ringcache_replication_keys_applied_total", "counter", "Keys applied from other owners (replication and fills).", value("cluster_replication_keys_applied")),
            ("ringcache_cluster_slots_moving", "gauge", "Slots whose owners are changing (joins, leaves, failovers under way).", value("cluster_slots_moving")),
            ("ringcache_cluster_slots_filling", "gauge", "Slots this node has asked a donor for and not received yet, and held slots it is rechecking against a peer.", value("cluster_slots_filling")),
            ("ringcache_migration_keys_sent_total", "counter", "Keys streamed to new owners.", value("cluster_migration_keys_sent")),
            ("ringcache_migration_bytes_sent_total", "counter", "Bytes streamed to new owners.", value("cluster_migration_bytes_sent")),
            ("ringcache_migration_slots_received_total", "counter", "Slots this node was filled with.", value("cluster_migration_slots_received")),
        ]
    }

    private func family(_ out: inout String, _ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private func sample(_ out: inout String, _ name: String, _ labels: [String: String], _ value: Int) {
        line(&out, name, labels, String(value))
    }

    private func line(_ out: inout String, _ name: String, _ labels: [String: String], _ value: String) {
        if labels.isEmpty {
            out += "\(name) \(value)\n"
            return
        }
        let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",")
        out += "\(name){\(rendered)} \(value)\n"
    }

    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Microseconds as seconds, exactly: `250` -> `0.00025`.
    static func seconds(_ microseconds: Int) -> String {
        let whole = microseconds / 1_000_000
        var fraction = String(microseconds % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }
}
