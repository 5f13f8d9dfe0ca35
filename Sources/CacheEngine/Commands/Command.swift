import RESP

/// Every command Ringcache serves. The engine executes the data commands; the server shell
/// executes the ones that need a connection or the process (`CommandSpec.executor`).
public enum Command: UInt8, CaseIterable, Sendable {
    // connection and server
    case ping, echo, quit, hello, reset, select, client, command, info, config, dbsize, flushdb, flushall, time, memory, shutdown, cluster
    case save, bgsave, lastsave, slowlog
    case readonly, readwrite, asking, monitor, latency, wait
    case subscribe, unsubscribe, psubscribe, punsubscribe, publish, pubsub
    case auth, acl
    case multi, exec, discard, watch, unwatch
    // strings
    case get, set, setnx, setex, psetex, getset, getdel, getex, mget, mset, msetnx
    case incr, decr, incrby, decrby, incrbyfloat, append, strlen, getrange, substr, setrange
    // keys
    case del, unlink, exists, expire, pexpire, expireat, pexpireat, ttl, pttl, expiretime, pexpiretime
    case persist, type, keys, scan, randomkey, rename, renamenx, copy, touch, object
    // hashes
    case hset, hsetnx, hget, hmget, hmset, hdel, hexists, hlen, hstrlen, hkeys, hvals, hgetall, hincrby, hincrbyfloat, hrandfield, hscan
    // lists
    case lpush, rpush, lpushx, rpushx, lpop, rpop, llen, lrange, lindex, lset, linsert, lrem, ltrim, lpos, lmove, rpoplpush
    case blpop, brpop, blmove, brpoplpush
    // sets
    case sadd, srem, sismember, smismember, smembers, scard, spop, srandmember, smove
    case sinter, sunion, sdiff, sinterstore, sunionstore, sdiffstore, sintercard, sscan
    // sorted sets
    case zadd, zrem, zscore, zmscore, zincrby, zcard, zcount, zlexcount, zrank, zrevrank
    case zrange, zrevrange, zrangebyscore, zrevrangebyscore, zrangebylex, zrevrangebylex
    case zremrangebyscore, zremrangebyrank, zremrangebylex, zpopmin, zpopmax, bzpopmin, bzpopmax, zscan
    case zunion, zinter, zdiff, zunionstore, zinterstore, zdiffstore, zintercard, zrangestore, zrandmember
    case lmpop, zmpop, blmpop, bzmpop
    // bitmaps
    case setbit, getbit, bitcount, bitpos, bitop
    // HyperLogLog
    case pfadd, pfcount, pfmerge
    // longest common subsequence
    case lcs
    // sorting
    case sort, sort_ro
    // geospatial
    case geoadd, geopos, geodist, geohash, georadius, georadius_ro, georadiusbymember, georadiusbymember_ro, geosearch, geosearchstore
    // rate limiting
    case clThrottle
}

/// Who carries a command out.
public enum CommandExecutor: Sendable {
    /// `Engine.execute`: it needs only the keyspace.
    case engine
    /// The server's connection handler: it needs the connection, the configuration or the process.
    case server
}

/// What COMMAND INFO and COMMAND DOCS say about a command, in Redis's terms
/// (https://redis.io/docs/latest/commands/command/): arity is exact when positive and a minimum
/// when negative, counting the name; keys sit at first...last by step (last -1 = to the end).
// A class, not a struct: a lookup hands out one reference instead of copying six
// reference-counted fields (the name, flags and texts) once per command.
public final class CommandSpec: Sendable {
    public let command: Command
    public let name: String
    public let arity: Int
    public let flags: [String]
    public let firstKey: Int
    public let lastKey: Int
    public let keyStep: Int
    /// For a command whose keys follow a count (`numkeys`: SINTERCARD, ZUNION, ZINTERSTORE…),
    /// the count's position; 0 = none. Those keys come on top of first...last.
    public let keyCountIndex: Int
    /// Where a STORE option names a further key (SORT, GEORADIUS).
    public let storeKeyOption: StoreKeyOption
    public let aclCategories: [String]
    public let group: String
    public let since: String
    public let summary: String
    public let executor: CommandExecutor
    /// `write`: the command may change the keyspace.
    public let isWrite: Bool
    /// `denyoom`: the command may grow memory, so it is refused when over `maxmemory` and
    /// nothing can be evicted.
    public let denyOOM: Bool
    /// `readonly`: the command never changes the keyspace (what READONLY connections may send
    /// to a replica owner).
    public let isReadOnly: Bool
    /// `fast`: O(1) or O(log n); the latency monitor files these under `fast-command`.
    public let isFast: Bool

    init(
        command: Command, name: String, arity: Int, flags: [String], firstKey: Int, lastKey: Int, keyStep: Int,
        keyCountIndex: Int = 0, storeKeyOption: StoreKeyOption = .none, aclCategories: [String], group: String, since: String, summary: String,
        executor: CommandExecutor
    ) {
        self.command = command
        self.name = name
        self.arity = arity
        self.flags = flags
        self.firstKey = firstKey
        self.lastKey = lastKey
        self.keyStep = keyStep
        self.keyCountIndex = keyCountIndex
        self.storeKeyOption = storeKeyOption
        self.aclCategories = aclCategories
        self.group = group
        self.since = since
        self.summary = summary
        self.executor = executor
        isWrite = flags.contains("write")
        denyOOM = flags.contains("denyoom")
        isReadOnly = flags.contains("readonly")
        isFast = flags.contains("fast")
    }

    /// Calls `body` with the position of every key in `argv`, in order: first...last by step,
    /// then a STORE key (`storeKeyOption`), then the keys a `numkeys` argument counts (as many as are present; a count that is not
    /// a positive number names none, and the command answers that error itself). What cluster
    /// routing, ACL key patterns and a transaction's slot check all walk.
    @inline(__always)
    public func forEachKeyPosition(in argv: Argv, _ body: (Int) -> Void) {
        guard firstKey > 0 else { return }
        let last = lastKey >= 0 ? lastKey : argv.count + lastKey
        var index = firstKey
        while index <= last && index < argv.count {
            body(index)
            index += Swift.max(1, keyStep)
        }
        storeKeyOption.forEachKeyPosition(in: argv, body)
        guard keyCountIndex > 0, keyCountIndex < argv.count, let count = ByteParsing.int64(argv[keyCountIndex]), count > 0 else { return }
        let start = keyCountIndex + 1
        let end = Swift.min(argv.count, start + Int(Swift.min(count, Int64(argv.count))))
        for position in start..<end where position < firstKey || position > last { body(position) }
    }

    /// Whether `argumentCount` (including the name) fits the arity.
    public func accepts(argumentCount: Int) -> Bool {
        arity > 0 ? argumentCount == arity : argumentCount >= -arity
    }
}

/// Where a command's STORE option names a key, found as Redis 7 finds it.
public enum StoreKeyOption: Sendable {
    case none
    /// GEORADIUS and GEORADIUSBYMEMBER: the argument after each STORE or STOREDIST among the
    /// options (from argument 5 on), as their key specs say.
    case geoRadius
    /// SORT: the argument after the last STORE, skipping the arguments of LIMIT, GET and BY
    /// (Redis's sortGetKeys).
    case sort

    func forEachKeyPosition(in argv: Argv, _ body: (Int) -> Void) {
        switch self {
        case .none:
            return
        case .geoRadius:
            var option = 5
            while option + 1 < argv.count {
                if ByteParsing.equalsIgnoringCase(argv[option], "STORE") || ByteParsing.equalsIgnoringCase(argv[option], "STOREDIST") {
                    body(option + 1)
                    option += 1
                }
                option += 1
            }
        case .sort:
            var store: Int?
            var option = 2
            while option < argv.count {
                if ByteParsing.equalsIgnoringCase(argv[option], "LIMIT") {
                    option += 2
                } else if ByteParsing.equalsIgnoringCase(argv[option], "GET") || ByteParsing.equalsIgnoringCase(argv[option], "BY") {
                    option += 1
                } else if ByteParsing.equalsIgnoringCase(argv[option], "STORE") && option + 1 < argv.count {
                    store = option + 1
                }
                option += 1
            }
            if let store { body(store) }
        }
    }
}
