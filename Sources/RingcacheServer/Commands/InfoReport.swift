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

    static let defaultSections = ["server", "clients", "stats", "keyspace"]

    func render(sections requested: [String], now: Int64) -> String {
        let lowered = requested.map { $0.lowercased() }
        let sections: [String]
        if lowered.isEmpty || lowered.contains("default") || lowered.contains("all") || lowered.contains("everything") {
            sections = Self.defaultSections
        } else {
            sections = Self.defaultSections.filter { lowered.contains($0) }
        }
        var blocks: [String] = []
        for section in sections {
            switch section {
            case "server": blocks.append(server(now: now))
            case "clients": blocks.append(clients())
            case "stats": blocks.append(stats())
            case "keyspace": blocks.append(keyspace())
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
            ("blocked_clients", "0"),
        ])
    }

    private func stats() -> String {
        let (engineStats, expired) = state.engine.withEngine { ($0.stats, $0.keyspace.expiredKeys) }
        let counters = state.stats
        return block("Stats", [
            ("total_connections_received", String(counters.totalConnectionsReceived.load(ordering: .relaxed))),
            ("total_commands_processed", String(counters.totalCommandsProcessed.load(ordering: .relaxed))),
            ("instantaneous_ops_per_sec", String(counters.instantaneousOpsPerSecond.load(ordering: .relaxed))),
            ("total_net_input_bytes", String(counters.totalNetInputBytes.load(ordering: .relaxed))),
            ("total_net_output_bytes", String(counters.totalNetOutputBytes.load(ordering: .relaxed))),
            ("rejected_connections", String(counters.rejectedConnections.load(ordering: .relaxed))),
            ("expired_keys", String(expired)),
            ("keyspace_hits", String(engineStats.keyspaceHits)),
            ("keyspace_misses", String(engineStats.keyspaceMisses)),
            ("total_error_replies", String(counters.totalErrorReplies.load(ordering: .relaxed))),
        ])
    }

    private func keyspace() -> String {
        let (keys, expires) = state.engine.withEngine { ($0.keyspace.count, $0.keyspace.volatileCount) }
        guard keys > 0 else { return "# Keyspace\r\n" }
        return block("Keyspace", [("db0", "keys=\(keys),expires=\(expires),avg_ttl=0")])
    }
}
