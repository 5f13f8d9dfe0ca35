import CacheEngine
import Logging

/// Everything a node is configured with. Directive names, value syntax and defaults follow
/// redis.conf wherever Redis has the concept, so operators' habits and tools carry over.
public struct ServerConfiguration: Sendable, Equatable {
    /// `bind`: addresses to listen on.
    public var bind: [String] = ["127.0.0.1"]
    /// `port`: the client (RESP) port.
    public var port = 7000
    /// `loglevel`: debug, verbose, notice or warning.
    public var logLevel: Logger.Level = .notice
    /// `logfile`: empty logs to standard output.
    public var logFile = ""
    /// `hz`: how many times a second background work (active expiry) runs.
    public var hz = 10
    /// `proto-max-bulk-len`: the largest bulk string a request may carry.
    public var protoMaxBulkLength = 512 * 1024 * 1024
    /// `client-query-buffer-limit`: the most unparsed bytes one connection may hold.
    public var clientQueryBufferLimit = 1024 * 1024 * 1024
    /// `maxclients`: connections beyond this are refused with Redis's error.
    public var maxClients = 10_000
    /// `maxblockedclients`: how many clients may wait in BLPOP and its kin at once; past it a
    /// blocking command that would wait is refused (0 = no cap but `maxclients`).
    public var maxBlockedClients = 0
    /// `io-threads`: event-loop threads serving connections.
    public var ioThreads = 1
    /// `busy-poll`: microseconds an event loop keeps polling its sockets after answering
    /// requests before it sleeps; 0 = off (see BusyPoller).
    public var busyPollMicroseconds = 3
    /// `tcp-backlog`: the listen backlog.
    public var tcpBacklog = 511
    /// `maxmemory`: 0 = no limit.
    public var maxMemory = 0
    /// `maxmemory-policy`.
    public var evictionPolicy = EvictionPolicy.allkeysLRU
    /// `maxmemory-samples`.
    public var evictionSamples = 5
    /// `hll-sparse-max-bytes`.
    public var hyperLogLogSparseMaxBytes = 3000
    /// `hash-max-listpack-entries`, `hash-max-listpack-value` (and their Redis 6 names,
    /// `hash-max-ziplist-*`).
    public var hashEncoding = ListpackLimits.hashDefaults
    /// `zset-max-listpack-entries`, `zset-max-listpack-value` (and `zset-max-ziplist-*`).
    public var sortedSetEncoding = ListpackLimits.sortedSetDefaults
    /// `set-max-intset-entries`.
    public var setMaxIntsetEntries = 512
    /// `lfu-log-factor`, `lfu-decay-time`.
    public var lfuLogFactor = 10
    public var lfuDecayTime = 1
    /// `value-compression-threshold`: 0 = off.
    public var compressionThreshold = EngineConfiguration.defaultCompressionThreshold
    /// `save`: snapshot when at least `changes` writes happened in `seconds`; empty = never.
    public var savePoints: [SavePoint] = []
    /// `dir` and `dbfilename`: where the snapshot lives.
    public var directory = "."
    public var snapshotFileName = "ringcache.snapshot"
    /// `ignore-bad-snapshot`: start empty instead of refusing to start on a bad snapshot.
    public var ignoreBadSnapshot = false
    /// `slowlog-log-slower-than` (microseconds; negative = off, 0 = every command) and
    /// `slowlog-max-len`.
    public var slowlogThreshold = 10_000
    public var slowlogMaxLength = 128
    /// `latency-tracking`: time every command (commandstats, latency histograms, SLOWLOG).
    public var latencyTracking = true
    /// `latency-monitor-threshold` (ms): commands at least this slow are LATENCY events; 0 = off.
    public var latencyMonitorThreshold = 0
    /// `admin-port`: HTTP port for /metrics, /health, /ready and /cluster; 0 = off.
    public var adminPort = 0
    /// `cluster-port`: the cluster bus (UDP gossip) port; 0 = client port + 10000, as in Redis.
    public var clusterPort = 0
    /// `cluster-seeds`: `host:port` client addresses of nodes to join through (a host name may
    /// resolve to several); none = found a one-node cluster.
    public var clusterSeeds: [String] = []
    /// `cluster-replicas`: copies of each slot besides its primary (RF = replicas + 1).
    public var clusterReplicas = 1
    /// `cluster-secret`: shared key authenticating every cluster bus message; empty = none.
    public var clusterSecret = ""
    /// `cluster-routing`: `moved` redirects clients to a slot's owner as Redis Cluster does;
    /// `proxy` forwards their commands there and relays the reply.
    public var clusterRouting = ClusterRouting.moved
    /// `cluster-announce-ip`: the address other nodes and clients are told to use.
    public var clusterAnnounceIP = ""
    /// `cluster-config-file`: where the node id and ring tokens are kept, under `dir`;
    /// empty = `nodes-<port>.conf`.
    public var clusterConfigFile = ""
    /// `cluster-probe-interval` (ms): the SWIM protocol period; the other timers scale with it.
    public var clusterProbeInterval = 200
    /// `min-replicas-ack`: replica acknowledgements every write waits for before its reply
    /// (0 = reply at once, replicate asynchronously).
    public var minReplicasAck = 0
    /// `replica-ack-timeout` (ms): how long a write waits for them before it fails with
    /// NOREPLICAS.
    public var replicaAckTimeout = 1_000
    /// `migration-max-bytes-per-sec`: the rate at which a node streams slots to a new owner;
    /// 0 = as fast as the link takes them.
    public var migrationMaxBytesPerSecond = 0
    /// `notify-keyspace-events`: which keyspace notifications are published (none by default).
    public var keyspaceEvents: KeyspaceEventClasses = []
    /// `requirepass`: the default user's password; empty = none.
    public var requirePass = ""
    /// `aclfile`: ACL users loaded at start and by ACL LOAD, written by ACL SAVE.
    public var aclFile = ""
    /// `protected-mode`: with no password on the default user, only loopback clients.
    public var protectedMode = true
    /// `client-rate-limit ops-per-sec burst`: per-connection token bucket; 0 = off.
    public var clientRateLimit = 0
    public var clientRateBurst = 0
    /// `timeout`: seconds a client may stay idle before it is closed; 0 = never. Subscribers
    /// and blocked clients are exempt, as in Redis.
    public var idleTimeout = 0
    /// TLS for clients (`tls-port`, 0 = off; certificate, key and CA files in PEM;
    /// `tls-auth-clients` yes, no or optional, as in Redis).
    public var tlsPort = 0
    public var tlsCertFile = ""
    public var tlsKeyFile = ""
    public var tlsCACertFile = ""
    public var tlsAuthClients = "yes"
    /// `tls-replication yes`: the replication and slot-fill links between nodes use TLS with
    /// the same certificate, key and CA (each side verifies the other). `tls-cluster yes` does
    /// the same; the membership datagrams stay HMAC-authenticated with `cluster-secret`, not
    /// encrypted (swift-nio-ssl has no DTLS), and carry no keys or values.
    public var tlsReplication = false
    public var tlsCluster = false
    /// `client-output-buffer-limit <class> <hard> <soft> <soft-seconds> ...`, as Redis keeps it
    /// (classes normal, replica, pubsub). Enforced for normal and pubsub clients: one with more
    /// unsent bytes than the hard limit, or above the soft limit for soft-seconds, is
    /// disconnected. Besides, a normal client's reads pause while its socket is not writable.
    /// The replica class is accepted for compatibility; links between nodes have their own
    /// bounded queues.
    public var outputBufferLimits: [String: [Int]] = [
        "normal": [0, 0, 0], "replica": [256 << 20, 64 << 20, 60], "pubsub": [32 << 20, 8 << 20, 60],
    ]
    /// The config file this node was started with, if any (INFO's `config_file`).
    public var configFile: String?

    public init() {}

    /// The bus port in effect.
    var effectiveClusterPort: Int { clusterPort != 0 ? clusterPort : port + 10000 }

    var effectiveClusterConfigFile: String { clusterConfigFile.isEmpty ? "nodes-\(port).conf" : clusterConfigFile }

    var engineConfiguration: EngineConfiguration {
        EngineConfiguration(
            protoMaxBulkLength: protoMaxBulkLength, maxMemory: maxMemory, evictionPolicy: evictionPolicy,
            evictionSamples: evictionSamples, lfuLogFactor: lfuLogFactor, lfuDecayTime: lfuDecayTime,
            compressionThreshold: compressionThreshold, keyspaceEvents: keyspaceEvents,
            hyperLogLogSparseMaxBytes: hyperLogLogSparseMaxBytes, hashEncoding: hashEncoding,
            sortedSetEncoding: sortedSetEncoding, setMaxIntsetEntries: setMaxIntsetEntries)
    }
}

/// How a node answers a command for a slot it does not own.
public enum ClusterRouting: String, Sendable, CaseIterable {
    case moved
    case proxy
}

/// One `save <seconds> <changes>` rule, as in redis.conf.
public struct SavePoint: Sendable, Equatable {
    public var seconds: Int
    public var changes: Int
}

public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var directive: String
    public var reason: String
    /// Where it came from, e.g. `line 3 of node.conf` or `the command line`.
    public var origin: String?

    public var description: String {
        if let origin {
            return "bad directive '\(directive)' (\(origin)): \(reason)"
        }
        return "bad directive '\(directive)': \(reason)"
    }
}

extension ServerConfiguration {
    /// How a directive reads, prints and whether it can change at run time.
    struct Directive: Sendable {
        let name: String
        let mutable: Bool
        let get: @Sendable (ServerConfiguration) -> String
        let set: @Sendable (inout ServerConfiguration, [String]) throws(DirectiveValueError) -> Void
    }

    /// Why a value was refused; CONFIG SET and start-up word it differently.
    struct DirectiveValueError: Error {
        let reason: String
    }

    static func single(_ values: [String]) throws(DirectiveValueError) -> String {
        guard values.count == 1 else { throw DirectiveValueError(reason: "wrong number of arguments") }
        return values[0]
    }

    static func boolean(_ values: [String]) throws(DirectiveValueError) -> Bool {
        switch try single(values).lowercased() {
        case "yes": return true
        case "no": return false
        default: throw DirectiveValueError(reason: "argument must be 'yes' or 'no'")
        }
    }

    static func integer(_ values: [String], in range: ClosedRange<Int>) throws(DirectiveValueError) -> Int {
        let text = try single(values)
        guard let value = Int(text) else { throw DirectiveValueError(reason: "argument couldn't be parsed into an integer") }
        guard range.contains(value) else {
            throw DirectiveValueError(reason: "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        return value
    }

    static func memory(_ values: [String], in range: ClosedRange<Int>) throws(DirectiveValueError) -> Int {
        let text = try single(values)
        guard let value = MemoryUnits.parse(text) else { throw DirectiveValueError(reason: "argument must be a memory value") }
        guard range.contains(value) else {
            throw DirectiveValueError(reason: "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        return value
    }

    static let logLevels: [(String, Logger.Level)] = [("debug", .debug), ("verbose", .info), ("notice", .notice), ("warning", .warning)]

    static let directives: [Directive] = [
        Directive(name: "bind", mutable: false, get: { $0.bind.joined(separator: " ") }, set: { config, values throws(DirectiveValueError) in
            guard !values.isEmpty else { throw DirectiveValueError(reason: "wrong number of arguments") }
            config.bind = values
        }),
        Directive(name: "port", mutable: false, get: { String($0.port) }, set: { config, values throws(DirectiveValueError) in
            config.port = try integer(values, in: 1...65535)
        }),
        Directive(name: "loglevel", mutable: true, get: { config in
            logLevels.first { $0.1 == config.logLevel }?.0 ?? "notice"
        }, set: { config, values throws(DirectiveValueError) in
            let name = try single(values).lowercased()
            guard let level = logLevels.first(where: { $0.0 == name })?.1 else {
                throw DirectiveValueError(reason: "argument(s) must be one of the following: debug, verbose, notice, warning")
            }
            config.logLevel = level
        }),
        Directive(name: "logfile", mutable: false, get: { $0.logFile }, set: { config, values throws(DirectiveValueError) in
            config.logFile = try single(values)
        }),
        Directive(name: "hz", mutable: true, get: { String($0.hz) }, set: { config, values throws(DirectiveValueError) in
            config.hz = try integer(values, in: 1...500)
        }),
        // Capped below 2 GiB: an entry keeps a flag in the top bit of its 32-bit key length.
        Directive(name: "proto-max-bulk-len", mutable: true, get: { String($0.protoMaxBulkLength) }, set: { config, values throws(DirectiveValueError) in
            config.protoMaxBulkLength = try memory(values, in: 1024 * 1024...Int(Int32.max))
        }),
        Directive(name: "client-query-buffer-limit", mutable: true, get: { String($0.clientQueryBufferLimit) }, set: { config, values throws(DirectiveValueError) in
            config.clientQueryBufferLimit = try memory(values, in: 1024 * 1024...Int(Int32.max) * 2)
        }),
        Directive(name: "maxblockedclients", mutable: true, get: { String($0.maxBlockedClients) }, set: { config, values throws(DirectiveValueError) in
            config.maxBlockedClients = try integer(values, in: 0...1_000_000)
        }),
        Directive(name: "maxclients", mutable: true, get: { String($0.maxClients) }, set: { config, values throws(DirectiveValueError) in
            config.maxClients = try integer(values, in: 1...1_000_000)
        }),
        Directive(name: "io-threads", mutable: false, get: { String($0.ioThreads) }, set: { config, values throws(DirectiveValueError) in
            config.ioThreads = try integer(values, in: 1...128)
        }),
        Directive(name: "busy-poll", mutable: false, get: { String($0.busyPollMicroseconds) }, set: { config, values throws(DirectiveValueError) in
            config.busyPollMicroseconds = try integer(values, in: 0...100_000)
        }),
        Directive(name: "tcp-backlog", mutable: false, get: { String($0.tcpBacklog) }, set: { config, values throws(DirectiveValueError) in
            config.tcpBacklog = try integer(values, in: 1...65535)
        }),
        Directive(name: "maxmemory", mutable: true, get: { String($0.maxMemory) }, set: { config, values throws(DirectiveValueError) in
            config.maxMemory = try memory(values, in: 0...Int.max)
        }),
        Directive(name: "maxmemory-policy", mutable: true, get: { $0.evictionPolicy.rawValue }, set: { config, values throws(DirectiveValueError) in
            guard let policy = EvictionPolicy(rawValue: try single(values).lowercased()) else {
                throw DirectiveValueError(reason: "argument(s) must be one of the following: " + EvictionPolicy.allCases.map(\.rawValue).joined(separator: ", "))
            }
            config.evictionPolicy = policy
        }),
        Directive(name: "hll-sparse-max-bytes", mutable: true, get: { String($0.hyperLogLogSparseMaxBytes) }, set: { config, values throws(DirectiveValueError) in
            config.hyperLogLogSparseMaxBytes = try memory(values, in: 0...Int(Int32.max))
        }),
        Directive(name: "set-max-intset-entries", mutable: true, get: { String($0.setMaxIntsetEntries) }, set: { config, values throws(DirectiveValueError) in
            config.setMaxIntsetEntries = try integer(values, in: 0...Int.max)
        }),
        Directive(name: "maxmemory-samples", mutable: true, get: { String($0.evictionSamples) }, set: { config, values throws(DirectiveValueError) in
            config.evictionSamples = try integer(values, in: 1...64)
        }),
        Directive(name: "lfu-log-factor", mutable: true, get: { String($0.lfuLogFactor) }, set: { config, values throws(DirectiveValueError) in
            config.lfuLogFactor = try integer(values, in: 0...Int(Int32.max))
        }),
        Directive(name: "lfu-decay-time", mutable: true, get: { String($0.lfuDecayTime) }, set: { config, values throws(DirectiveValueError) in
            config.lfuDecayTime = try integer(values, in: 0...Int(Int32.max))
        }),
        Directive(name: "value-compression-threshold", mutable: true, get: { String($0.compressionThreshold) }, set: { config, values throws(DirectiveValueError) in
            config.compressionThreshold = try memory(values, in: 0...Int(Int32.max))
        }),
        Directive(name: "slowlog-log-slower-than", mutable: true, get: { String($0.slowlogThreshold) }, set: { config, values throws(DirectiveValueError) in
            config.slowlogThreshold = try integer(values, in: -1...Int(Int32.max))
        }),
        Directive(name: "slowlog-max-len", mutable: true, get: { String($0.slowlogMaxLength) }, set: { config, values throws(DirectiveValueError) in
            config.slowlogMaxLength = try integer(values, in: 0...Int(Int32.max))
        }),
        Directive(name: "latency-tracking", mutable: true, get: { $0.latencyTracking ? "yes" : "no" }, set: { config, values throws(DirectiveValueError) in
            switch try single(values).lowercased() {
            case "yes": config.latencyTracking = true
            case "no": config.latencyTracking = false
            default: throw DirectiveValueError(reason: "argument must be 'yes' or 'no'")
            }
        }),
        Directive(name: "latency-monitor-threshold", mutable: true, get: { String($0.latencyMonitorThreshold) }, set: { config, values throws(DirectiveValueError) in
            config.latencyMonitorThreshold = try integer(values, in: 0...Int(Int32.max))
        }),
        Directive(name: "admin-port", mutable: false, get: { String($0.adminPort) }, set: { config, values throws(DirectiveValueError) in
            config.adminPort = try integer(values, in: 0...65535)
        }),
        Directive(name: "save", mutable: true, get: { config in
            config.savePoints.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ")
        }, set: { config, values throws(DirectiveValueError) in
            // Redis accepts `save ""`, `save 3600 1 300 100`, and one pair per `save` line in a
            // file; the words may also arrive as one quoted string.
            let words = values.flatMap { $0.split(separator: " ").map(String.init) }
            guard words.count % 2 == 0 else { throw DirectiveValueError(reason: "Invalid save parameters") }
            var points: [SavePoint] = []
            for index in stride(from: 0, to: words.count, by: 2) {
                guard let seconds = Int(words[index]), let changes = Int(words[index + 1]), seconds > 0, changes >= 0 else {
                    throw DirectiveValueError(reason: "Invalid save parameters")
                }
                points.append(SavePoint(seconds: seconds, changes: changes))
            }
            config.savePoints = points
        }),
        Directive(name: "notify-keyspace-events", mutable: true, get: { $0.keyspaceEvents.flags }, set: { config, values throws(DirectiveValueError) in
            let flags = values.joined()
            guard let classes = KeyspaceEventClasses(flags: flags) else {
                throw DirectiveValueError(reason: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
            }
            config.keyspaceEvents = classes
        }),
        Directive(name: "requirepass", mutable: true, get: { $0.requirePass }, set: { config, values throws(DirectiveValueError) in
            config.requirePass = values.joined(separator: " ")
        }),
        Directive(name: "aclfile", mutable: false, get: { $0.aclFile }, set: { config, values throws(DirectiveValueError) in
            config.aclFile = values.joined(separator: " ")
        }),
        Directive(name: "protected-mode", mutable: true, get: { $0.protectedMode ? "yes" : "no" }, set: { config, values throws(DirectiveValueError) in
            config.protectedMode = try boolean(values)
        }),
        Directive(name: "client-rate-limit", mutable: true, get: { "\($0.clientRateLimit) \($0.clientRateBurst)" }, set: { config, values throws(DirectiveValueError) in
            let words = values.flatMap { $0.split(separator: " ").map(String.init) }
            guard (1...2).contains(words.count), let rate = Int(words[0]), rate >= 0, rate <= 100_000_000 else {
                throw DirectiveValueError(reason: "expected 'ops-per-sec [burst]' with ops-per-sec 0 (off) or more")
            }
            let burst = words.count == 2 ? Int(words[1]) : rate
            guard let burst, burst >= 0, burst <= 100_000_000 else { throw DirectiveValueError(reason: "burst must be 0 or more") }
            config.clientRateLimit = rate
            config.clientRateBurst = Swift.max(burst, rate > 0 ? 1 : 0)
        }),
        Directive(name: "timeout", mutable: true, get: { String($0.idleTimeout) }, set: { config, values throws(DirectiveValueError) in
            config.idleTimeout = try integer(values, in: 0...Int(Int32.max))
        }),
        Directive(name: "client-output-buffer-limit", mutable: true, get: { config in
            ["normal", "replica", "pubsub"].map { name in
                "\(name) " + (config.outputBufferLimits[name] ?? [0, 0, 0]).map(String.init).joined(separator: " ")
            }.joined(separator: " ")
        }, set: { config, values throws(DirectiveValueError) in
            let words = values.flatMap { $0.split(separator: " ").map(String.init) }
            guard !words.isEmpty, words.count % 4 == 0 else { throw DirectiveValueError(reason: "Wrong number of arguments in buffer limit configuration.") }
            var limits = config.outputBufferLimits
            for start in stride(from: 0, to: words.count, by: 4) {
                let name = words[start].lowercased() == "slave" ? "replica" : words[start].lowercased()
                guard ["normal", "replica", "pubsub"].contains(name) else { throw DirectiveValueError(reason: "Invalid client class specified in buffer limit configuration.") }
                guard let hard = MemoryUnits.parse(words[start + 1]), let soft = MemoryUnits.parse(words[start + 2]),
                      let seconds = Int(words[start + 3]), seconds >= 0 else {
                    throw DirectiveValueError(reason: "Error in hard, soft or soft_seconds setting in buffer limit configuration.")
                }
                limits[name] = [hard, soft, seconds]
            }
            config.outputBufferLimits = limits
        }),
        Directive(name: "tls-port", mutable: false, get: { String($0.tlsPort) }, set: { config, values throws(DirectiveValueError) in
            config.tlsPort = try integer(values, in: 0...65535)
        }),
        Directive(name: "tls-cert-file", mutable: false, get: { $0.tlsCertFile }, set: { config, values throws(DirectiveValueError) in
            config.tlsCertFile = try single(values)
        }),
        Directive(name: "tls-key-file", mutable: false, get: { $0.tlsKeyFile }, set: { config, values throws(DirectiveValueError) in
            config.tlsKeyFile = try single(values)
        }),
        Directive(name: "tls-ca-cert-file", mutable: false, get: { $0.tlsCACertFile }, set: { config, values throws(DirectiveValueError) in
            config.tlsCACertFile = try single(values)
        }),
        Directive(name: "tls-auth-clients", mutable: false, get: { $0.tlsAuthClients }, set: { config, values throws(DirectiveValueError) in
            let value = try single(values).lowercased()
            guard ["yes", "no", "optional"].contains(value) else { throw DirectiveValueError(reason: "argument must be 'yes', 'no' or 'optional'") }
            config.tlsAuthClients = value
        }),
        Directive(name: "tls-replication", mutable: false, get: { $0.tlsReplication ? "yes" : "no" }, set: { config, values throws(DirectiveValueError) in
            config.tlsReplication = try boolean(values)
        }),
        Directive(name: "tls-cluster", mutable: false, get: { $0.tlsCluster ? "yes" : "no" }, set: { config, values throws(DirectiveValueError) in
            config.tlsCluster = try boolean(values)
        }),
        Directive(name: "dir", mutable: true, get: { $0.directory }, set: { config, values throws(DirectiveValueError) in
            let path = try single(values)
            guard !path.isEmpty else { throw DirectiveValueError(reason: "dir can't be empty") }
            config.directory = path
        }),
        Directive(name: "dbfilename", mutable: true, get: { $0.snapshotFileName }, set: { config, values throws(DirectiveValueError) in
            let name = try single(values)
            guard !name.isEmpty, !name.contains("/") else { throw DirectiveValueError(reason: "dbfilename can't be a path, just a filename") }
            config.snapshotFileName = name
        }),
        Directive(name: "ignore-bad-snapshot", mutable: true, get: { $0.ignoreBadSnapshot ? "yes" : "no" }, set: { config, values throws(DirectiveValueError) in
            // A bare `--ignore-bad-snapshot` flag means yes.
            switch values.isEmpty ? "yes" : try single(values).lowercased() {
            case "yes": config.ignoreBadSnapshot = true
            case "no": config.ignoreBadSnapshot = false
            default: throw DirectiveValueError(reason: "argument must be 'yes' or 'no'")
            }
        }),
        Directive(name: "cluster-enabled", mutable: false, get: { _ in "yes" }, set: { _, values throws(DirectiveValueError) in
            guard try single(values).lowercased() == "yes" else {
                throw DirectiveValueError(reason: "every Ringcache node is a cluster node (a node without cluster-seeds is a one-node cluster); only cluster-enabled yes is accepted")
            }
        }),
        Directive(name: "cluster-port", mutable: false, get: { String($0.clusterPort) }, set: { config, values throws(DirectiveValueError) in
            config.clusterPort = try integer(values, in: 0...65535)
        }),
        Directive(name: "cluster-seeds", mutable: false, get: { $0.clusterSeeds.joined(separator: ",") }, set: { config, values throws(DirectiveValueError) in
            let seeds = values.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init) }
            for seed in seeds where ClusterSeed(seed) == nil {
                throw DirectiveValueError(reason: "'\(seed)' is not host:port")
            }
            config.clusterSeeds = seeds
        }),
        Directive(name: "cluster-replicas", mutable: false, get: { String($0.clusterReplicas) }, set: { config, values throws(DirectiveValueError) in
            config.clusterReplicas = try integer(values, in: 0...5)
        }),
        Directive(name: "cluster-secret", mutable: false, get: { $0.clusterSecret.isEmpty ? "" : "(set)" }, set: { config, values throws(DirectiveValueError) in
            config.clusterSecret = try single(values)
        }),
        Directive(name: "cluster-routing", mutable: true, get: { $0.clusterRouting.rawValue }, set: { config, values throws(DirectiveValueError) in
            guard let routing = ClusterRouting(rawValue: try single(values).lowercased()) else {
                throw DirectiveValueError(reason: "argument(s) must be one of the following: moved, proxy")
            }
            config.clusterRouting = routing
        }),
        Directive(name: "cluster-announce-ip", mutable: false, get: { $0.clusterAnnounceIP }, set: { config, values throws(DirectiveValueError) in
            config.clusterAnnounceIP = try single(values)
        }),
        Directive(name: "cluster-config-file", mutable: false, get: { $0.clusterConfigFile }, set: { config, values throws(DirectiveValueError) in
            let name = try single(values)
            guard !name.contains("/") else { throw DirectiveValueError(reason: "cluster-config-file is a file name under dir, not a path") }
            config.clusterConfigFile = name
        }),
        Directive(name: "min-replicas-ack", mutable: false, get: { String($0.minReplicasAck) }, set: { config, values throws(DirectiveValueError) in
            config.minReplicasAck = try integer(values, in: 0...5)
        }),
        Directive(name: "replica-ack-timeout", mutable: false, get: { String($0.replicaAckTimeout) }, set: { config, values throws(DirectiveValueError) in
            config.replicaAckTimeout = try integer(values, in: 1...600_000)
        }),
        Directive(name: "migration-max-bytes-per-sec", mutable: false, get: { String($0.migrationMaxBytesPerSecond) }, set: { config, values throws(DirectiveValueError) in
            config.migrationMaxBytesPerSecond = try memory(values, in: 0...Int(Int32.max))
        }),
        Directive(name: "cluster-probe-interval", mutable: false, get: { String($0.clusterProbeInterval) }, set: { config, values throws(DirectiveValueError) in
            config.clusterProbeInterval = try integer(values, in: 10...60_000)
        }),
        // Ringcache keeps no append-only file: it exists because tools such as redis-benchmark
        // ask for it, and accepts only the value that describes what the server does.
        Directive(name: "appendonly", mutable: true, get: { _ in "no" }, set: { _, values throws(DirectiveValueError) in
            guard try single(values).lowercased() == "no" else {
                throw DirectiveValueError(reason: "Ringcache is a cache and keeps no append-only file; only appendonly no is accepted")
            }
        }),
    ] + listpackDirectives("hash", \.hashEncoding) + listpackDirectives("zset", \.sortedSetEncoding)

    /// `<type>-max-listpack-entries` and `<type>-max-listpack-value`, and the same under their
    /// Redis 6 names, `<type>-max-ziplist-*`, as Redis 7 accepts both.
    static func listpackDirectives(_ type: String, _ limits: WritableKeyPath<ServerConfiguration, ListpackLimits> & Sendable) -> [Directive] {
        ["listpack", "ziplist"].flatMap { form in
            [
                Directive(name: "\(type)-max-\(form)-entries", mutable: true, get: { String($0[keyPath: limits].maxPackedEntries) }, set: { config, values throws(DirectiveValueError) in
                    config[keyPath: limits].maxPackedEntries = try integer(values, in: 0...Int.max)
                }),
                Directive(name: "\(type)-max-\(form)-value", mutable: true, get: { String($0[keyPath: limits].maxPackedValue) }, set: { config, values throws(DirectiveValueError) in
                    config[keyPath: limits].maxPackedValue = try memory(values, in: 0...Int.max)
                }),
            ]
        }
    }

    static func directive(named name: String) -> Directive? {
        let lowered = name.lowercased()
        return directives.first { $0.name == lowered }
    }

    /// Applies one directive, as from a config file line or a command-line flag.
    public mutating func apply(_ name: String, _ values: [String], origin: String? = nil) throws(ConfigurationError) {
        guard let directive = Self.directive(named: name) else {
            throw ConfigurationError(directive: name, reason: "unknown directive", origin: origin)
        }
        do {
            try directive.set(&self, values)
        } catch {
            throw ConfigurationError(directive: name, reason: error.reason, origin: origin)
        }
    }

    /// The current value of a directive as CONFIG GET prints it.
    public func value(of name: String) -> String? {
        Self.directive(named: name)?.get(self)
    }

    /// Names of every directive, for CONFIG GET patterns.
    public static var directiveNames: [String] { directives.map(\.name) }
}

/// Redis's memory units (config.c, memtoull): `1k` = 1000, `1kb` = 1024, likewise m/mb, g/gb;
/// case-insensitive; a bare number is bytes.
public enum MemoryUnits {
    public static func parse(_ text: String) -> Int? {
        let lowered = text.lowercased()
        let units: [(String, Int)] = [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024), ("k", 1000), ("m", 1_000_000), ("g", 1_000_000_000), ("b", 1)]
        for (suffix, multiplier) in units where lowered.hasSuffix(suffix) {
            guard let number = Int(lowered.dropLast(suffix.count)), number >= 0 else { return nil }
            let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : product
        }
        guard let number = Int(lowered), number >= 0 else { return nil }
        return number
    }
}

/// A `cluster-seeds` entry: `host:port` (client port; the bus is port + 10000) or
/// `host:port@busport`; IPv6 hosts in brackets (`[::1]:7001`).
struct ClusterSeed: Equatable, Sendable {
    var host: String
    var port: Int
    var busPort: Int

    init?(_ text: String) {
        var rest = Substring(text)
        var busPort: Int?
        if let at = rest.lastIndex(of: "@") {
            guard let bus = Int(rest[rest.index(after: at)...]), (1...65535).contains(bus) else { return nil }
            busPort = bus
            rest = rest[..<at]
        }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = rest[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.host = String(host)
        self.port = port
        self.busPort = busPort ?? port + 10000
        guard self.busPort <= 65535 else { return nil }
    }
}
