import Cluster
import CacheEngine

enum ServerInfo {
    /// The Redis version whose commands and replies Ringcache implements; clients and tools
    /// read `redis_version` to decide which features they may use.
    static let redisCompatibleVersion = "7.0.0"
    static let ringcacheVersion = "0.1.0"
}

/// INFO, with Redis's section and field names (https://redis.io/docs/latest/commands/info/) so
/// redis-cli, exporters and people's habits work unchanged.
struct InfoReport {
    let state: ServerState

    /// What INFO and INFO default show; `all` and `everything` add commandstats, as in Redis.
    static let defaultSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "errorstats", "cluster", "keyspace", "ringcache"]
    static let allSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "commandstats", "errorstats", "cluster", "keyspace", "ringcache"]

    func render(sections requested: [String], now: Int64) -> String {
        let lowered = requested.map { $0.lowercased() }
        let sections: [String]
        if lowered.contains("all") || lowered.contains("everything") {
            sections = Self.allSections
        } else if lowered.isEmpty || lowered.contains("default") {
            sections = Self.defaultSections
        } else {
            sections = Self.allSections.filter { lowered.contains($0) }
        }
        var blocks: [String] = []
        for section in sections {
            switch section {
            case "server": blocks.append(server(now: now))
            case "clients": blocks.append(clients())
            case "memory": blocks.append(memory())
            case "persistence": blocks.append(persistence(now: now))
            case "stats": blocks.append(stats())
            case "replication": blocks.append(replication())
            case "cpu": blocks.append(cpu())
            case "commandstats": blocks.append(commandStats())
            case "errorstats": blocks.append(errorStats())
            case "cluster": blocks.append(block("Cluster", [("cluster_enabled", "1")] + state.replication.infoFields(state.cluster.view())))
            case "keyspace": blocks.append(keyspace())
            case "ringcache": blocks.append(ringcache())
            default: break
            }
        }
        return blocks.joined(separator: "\r\n")
    }

    private func block(_ title: String, _ fields: [(String, String)]) -> String {
        "# \(title)\r\n" + fields.map { "\($0.0):\($0.1)\r\n" }.joined()
    }

    private func server(now: Int64) -> String {
        let configuration = state.configuration.withLock { $0 }
        let uptime = (now - state.startTime) / 1000
        return block("Server", [
            ("redis_version", ServerInfo.redisCompatibleVersion),
            ("ringcache_version", ServerInfo.ringcacheVersion),
            ("redis_mode", "standalone"),
            ("os", ProcessInfoSnapshot.operatingSystem),
            ("arch_bits", String(Int.bitWidth)),
            ("multiplexing_api", "epoll"),
            ("process_id", String(ProcessInfoSnapshot.processID)),
            ("run_id", state.runID),
            ("tcp_port", String(configuration.port)),
            ("server_time_usec", String(WallClock.microseconds())),
            ("uptime_in_seconds", String(uptime)),
            ("uptime_in_days", String(uptime / 86400)),
            ("hz", String(configuration.hz)),
            ("configured_hz", String(configuration.hz)),
            ("io_threads_active", configuration.ioThreads > 1 ? "1" : "0"),
            ("executable", ProcessInfoSnapshot.executable),
            ("config_file", configuration.configFile ?? ""),
        ])
    }

    private func clients() -> String {
        block("Clients", [
            ("connected_clients", String(state.clients.count)),
            ("maxclients", String(state.maxClients.load(ordering: .relaxed))),
            ("blocked_clients", String(state.blocking.count)),
        ])
    }

    private func memory() -> String {
        let report = state.engine.withEngine { $0.memoryReport }
        let configuration = state.configuration.withLock { $0 }
        let rss = ProcessInfoSnapshot.residentSetSize()
        let ratio = report.usedMemory > 0 ? Double(rss) / Double(report.usedMemory) : 0
        return block("Memory", [
            ("used_memory", String(report.usedMemory)),
            ("used_memory_human", Self.human(report.usedMemory)),
            ("used_memory_rss", String(rss)),
            ("used_memory_rss_human", Self.human(rss)),
            ("used_memory_peak", String(report.peakMemory)),
            ("used_memory_peak_human", Self.human(report.peakMemory)),
            ("maxmemory", String(configuration.maxMemory)),
            ("maxmemory_human", Self.human(configuration.maxMemory)),
            ("maxmemory_policy", configuration.evictionPolicy.rawValue),
            ("mem_fragmentation_ratio", String(format2: ratio)),
            ("value_compression_threshold", String(configuration.compressionThreshold)),
            ("compressed_values", String(report.compressedValues)),
            ("compression_saved_bytes", String(report.compressionSavedBytes)),
            ("compression_attempts", String(report.compressionAttempts)),
            ("compression_attempts_skipped", String(report.compressionSkips)),
        ])
    }

    private func persistence(now: Int64) -> String {
        let status = state.snapshots.status.withLock { $0 }
        let changes = state.engine.withEngine { $0.stats.changesSinceSave }
        return block("Persistence", [
            ("loading", "0"),
            ("rdb_changes_since_last_save", String(changes)),
            ("rdb_bgsave_in_progress", status.inProgress ? "1" : "0"),
            ("rdb_last_save_time", String(status.lastSaveTime)),
            ("rdb_last_bgsave_status", status.lastStatusOK ? "ok" : "err"),
            ("rdb_last_bgsave_time_sec", String(status.lastDurationSeconds)),
            ("rdb_current_bgsave_time_sec", status.inProgress ? String((now - status.startedAt) / 1000) : "-1"),
            ("rdb_saves", String(status.saves)),
            ("rdb_last_load_keys_loaded", String(status.lastLoadKeys)),
            ("rdb_last_load_keys_expired", String(status.lastLoadExpired)),
            ("aof_enabled", "0"),
        ])
    }

    /// Redis's bytesToHuman: `512B`, `1.50K`, `3.00M`, `2.00G`.
    static func human(_ bytes: Int) -> String {
        let units: [(Double, String)] = [(0x1p50, "P"), (0x1p40, "T"), (0x1p30, "G"), (0x1p20, "M"), (0x1p10, "K")]
        for (size, suffix) in units where Double(bytes) >= size {
            return String(format2: Double(bytes) / size) + suffix
        }
        return "\(bytes)B"
    }

    private func stats() -> String {
        let (engineStats, expired) = state.engine.withEngine { ($0.stats, $0.keyspace.expiredKeys) }
        let counters = state.stats
        let errorReplies = state.commandStats.errorCounts().values.reduce(0, +)
        var fields: [(String, String)] = []
        fields.append(("total_connections_received", String(counters.totalConnectionsReceived.load(ordering: .relaxed))))
        fields.append(("total_commands_processed", String(counters.totalCommandsProcessed.load(ordering: .relaxed))))
        fields.append(("instantaneous_ops_per_sec", String(counters.instantaneousOpsPerSecond.load(ordering: .relaxed))))
        fields.append(("total_net_input_bytes", String(counters.totalNetInputBytes.load(ordering: .relaxed))))
        fields.append(("total_net_output_bytes", String(counters.totalNetOutputBytes.load(ordering: .relaxed))))
        fields.append(("rejected_connections", String(counters.rejectedConnections.load(ordering: .relaxed))))
        fields.append(("expired_keys", String(expired)))
        fields.append(("evicted_keys", String(engineStats.evictedKeys)))
        fields.append(("keyspace_hits", String(engineStats.keyspaceHits)))
        fields.append(("keyspace_misses", String(engineStats.keyspaceMisses)))
        fields.append(("total_error_replies", String(errorReplies)))
        return block("Stats", fields)
    }

    /// Every node is a primary (of its slots) and a replica (of others'): it reports as a
    /// master whose "slaves" are the peers its writes stream to, one line per replication
    /// link in Redis's format, with `offset` the last op the peer acknowledged and `lag` the
    /// ops still queued for it (not seconds, as Redis has it: a link here carries no pings).
    private func replication() -> String {
        let links = state.replication.currentRouting().map { Array($0.links.values) } ?? []
        var fields: [(String, String)] = [
            ("role", "master"),
            ("connected_slaves", String(links.filter(\.isConnected).count)),
        ]
        for (index, link) in links.sorted(by: { $0.address.clientPort < $1.address.clientPort }).enumerated() {
            fields.append(("slave\(index)", "ip=\(link.address.host),port=\(link.address.clientPort),state=\(link.isConnected ? "online" : "connecting"),"
                + "offset=\(link.acknowledged),lag=\(link.pendingCount)"))
        }
        fields += [
            ("master_replid", state.runID),
            ("master_repl_offset", String(links.reduce(UInt64(0)) { $0 + $1.lastSequence })),
        ]
        return block("Replication", fields)
    }

    private func cpu() -> String {
        let usage = ProcessInfoSnapshot.cpuSeconds()
        return block("CPU", [
            ("used_cpu_sys", usage.system),
            ("used_cpu_user", usage.user),
            ("used_cpu_sys_children", "0.000000"),
            ("used_cpu_user_children", "0.000000"),
        ])
    }

    /// `cmdstat_get:calls=N,usec=N,usec_per_call=N.NN,rejected_calls=N,failed_calls=N`, for the
    /// commands called at least once.
    private func commandStats() -> String {
        let fields: [(String, String)] = state.commandStats.snapshot().compactMap { command, entry in
            guard entry.calls + entry.rejected > 0 else { return nil }
            let perCall = entry.calls > 0 ? Double(entry.microseconds) / Double(entry.calls) : 0
            return ("cmdstat_\(command)", "calls=\(entry.calls),usec=\(entry.microseconds),usec_per_call=\(String(format2: perCall)),rejected_calls=\(entry.rejected),failed_calls=\(entry.failed)")
        }
        return block("Commandstats", fields)
    }

    private func errorStats() -> String {
        let fields = state.commandStats.errorCounts().sorted { $0.key < $1.key }.map { ("errorstat_\($0.key)", "count=\($0.value)") }
        return block("Errorstats", fields)
    }

    /// What Redis has no name for: the ring and its members, compression.
    private func ringcache() -> String {
        let report = state.engine.withEngine { $0.memoryReport }
        let view = state.cluster.view()
        func members(_ wanted: MemberState) -> String {
            String(view.members.filter { $0.record.state == wanted }.count)
        }
        return block("Ringcache", [
            ("ringcache_version", ServerInfo.ringcacheVersion),
            ("node_id", view.localID.hex),
            ("cluster_joined", view.isJoined ? "1" : "0"),
            ("cluster_members_alive", members(.alive)),
            ("cluster_members_suspect", members(.suspect)),
            ("cluster_members_dead", members(.dead)),
            ("cluster_members_left", members(.left)),
            ("ring_balance", String(format2: view.map.isEmpty ? 0 : view.map.imbalance())),
            ("ring_primary_slots", String(view.localIndex.map { view.map.primaryCounts()[$0] } ?? 0)),
            ("ring_replica_slots", String(view.localIndex.map { view.map.replicaCounts()[$0] } ?? 0)),
            ("compressed_values", String(report.compressedValues)),
            ("compression_saved_bytes", String(report.compressionSavedBytes)),
            ("slowlog_len", String(state.slowLog.count)),
        ] + movesAndHints(view))
    }

    /// From replication: this node's phase, slots moving and being filled, writes queued for
    /// peers (hints while a peer is away).
    private func movesAndHints(_ view: ClusterView) -> [(String, String)] {
        let fields = Dictionary(state.replication.infoFields(view), uniquingKeysWith: { first, _ in first })
        return [
            ("node_phase", fields["cluster_node_phase"] ?? "serving"),
            ("slots_moving", fields["cluster_slots_moving"] ?? "0"),
            ("slots_filling", fields["cluster_slots_filling"] ?? "0"),
            ("hints_pending", fields["cluster_replication_pending_ops"] ?? "0"),
        ]
    }

    private func keyspace() -> String {
        let (keys, expires) = state.engine.withEngine { ($0.keyspace.count, $0.keyspace.volatileCount) }
        guard keys > 0 else { return "# Keyspace\r\n" }
        return block("Keyspace", [("db0", "keys=\(keys),expires=\(expires),avg_ttl=0")])
    }
}

extension String {
    /// A number with two decimals, as Redis prints ratios and human sizes.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}
