import RESP

/// Settings the engine needs from the server's configuration.
public struct EngineConfiguration: Sendable, Equatable {
    /// `proto-max-bulk-len`: the largest string APPEND and SETRANGE may build.
    public var protoMaxBulkLength: Int
    /// `maxmemory`: the most `used_memory` may be before keys are evicted; 0 = no limit.
    public var maxMemory: Int
    /// `maxmemory-policy`.
    public var evictionPolicy: EvictionPolicy
    /// `maxmemory-samples`: keys sampled per eviction round by the approximated policies.
    public var evictionSamples: Int
    /// `lfu-log-factor` and `lfu-decay-time`, as Redis defines them.
    public var lfuLogFactor: Int
    public var lfuDecayTime: Int
    /// `value-compression-threshold`: values this long or longer are stored LZ4-compressed
    /// when that saves an eighth; 0 turns compression off.
    public var compressionThreshold: Int
    /// `notify-keyspace-events`.
    public var keyspaceEvents: KeyspaceEventClasses
    /// `hll-sparse-max-bytes`: the longest a HyperLogLog is kept in the sparse encoding.
    public var hyperLogLogSparseMaxBytes: Int
    /// `hash-max-listpack-entries` and `hash-max-listpack-value`.
    public var hashEncoding: ListpackLimits
    /// `zset-max-listpack-entries` and `zset-max-listpack-value`.
    public var sortedSetEncoding: ListpackLimits
    /// `set-max-intset-entries`: the most integers a set keeps in its intset encoding.
    public var setMaxIntsetEntries: Int

    /// The threshold chosen by measurement (bench/compression.py, in bench/RESULTS.md): JSON-like
    /// values of 256 bytes and less never compressed by an eighth, values of 512 bytes always
    /// did (saving a fifth).
    public static let defaultCompressionThreshold = 512

    public init(
        protoMaxBulkLength: Int = 512 * 1024 * 1024, maxMemory: Int = 0, evictionPolicy: EvictionPolicy = .allkeysLRU,
        evictionSamples: Int = 5, lfuLogFactor: Int = 10, lfuDecayTime: Int = 1,
        compressionThreshold: Int = EngineConfiguration.defaultCompressionThreshold, keyspaceEvents: KeyspaceEventClasses = [],
        hyperLogLogSparseMaxBytes: Int = 3000, hashEncoding: ListpackLimits = .hashDefaults, sortedSetEncoding: ListpackLimits = .sortedSetDefaults,
        setMaxIntsetEntries: Int = 512
    ) {
        self.hashEncoding = hashEncoding
        self.sortedSetEncoding = sortedSetEncoding
        self.setMaxIntsetEntries = setMaxIntsetEntries
        self.keyspaceEvents = keyspaceEvents
        self.hyperLogLogSparseMaxBytes = hyperLogLogSparseMaxBytes
        self.protoMaxBulkLength = protoMaxBulkLength
        self.maxMemory = maxMemory
        self.evictionPolicy = evictionPolicy
        self.evictionSamples = evictionSamples
        self.lfuLogFactor = lfuLogFactor
        self.lfuDecayTime = lfuDecayTime
        self.compressionThreshold = compressionThreshold
    }
}

/// Counters INFO reports under Redis's names.
public struct EngineStats: Sendable, Equatable {
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    public var evictedKeys = 0
    /// Write commands since the last snapshot (INFO's `rdb_changes_since_last_save`).
    public var changesSinceSave = 0
}

/// Executes data commands against a keyspace and writes their replies.
///
/// Contract: pure and single-threaded. The server owns one engine behind a lock and passes in
/// the time (`now`, Unix milliseconds) with every call; the engine reads no clock and does no
/// I/O, so tests run it on a virtual clock.
/// Exclusivity: as for `Keyspace`, the properties every command touches skip the runtime's
/// dynamic access checks (`@exclusivity(unchecked)`): the engine is used under one lock, one
/// call at a time.
public final class Engine {
    public let keyspace: Keyspace
    public var configuration: EngineConfiguration {
        didSet { configurationChanged(from: oldValue) }
    }
    @exclusivity(unchecked) public internal(set) var stats = EngineStats()
    /// The highest `used_memory` seen (INFO's `used_memory_peak`).
    @exclusivity(unchecked) public internal(set) var peakMemory = 0
    @exclusivity(unchecked) var random: SplitMix64
    @exclusivity(unchecked) var compressor: ValueCompressor
    @exclusivity(unchecked) var evictionPool = EvictionPool()
    /// Where compressed values are restored for commands that need the original bytes.
    @exclusivity(unchecked) var plainScratch: [UInt8] = []
    /// Replication (cluster mode with replicas): every entry carries a version, and write
    /// commands record the keys they change. Set once, before the first key is stored.
    public var versioning = false {
        didSet { keyspace.expirations = versioning ? (keyspace.expirations ?? []) : nil }
    }
    /// The version the next write command stamps on what it changes: the caller's hybrid
    /// logical clock reading, set before each write.
    @exclusivity(unchecked) public var writeVersion: UInt64 = 0
    /// Recent deletes, so an older write replayed from elsewhere cannot resurrect a key.
    @exclusivity(unchecked) var tombstones = TombstoneTable()
    /// Blocking (see Engine+Blocking): the current command's request to wait, how many
    /// waiters each key has, and keys given elements while waited on.
    @exclusivity(unchecked) var blockRequest: BlockRequest?
    @exclusivity(unchecked) var waitedKeys: [[UInt8]: Int] = [:]
    @exclusivity(unchecked) var readyKeys: [[UInt8]] = []
    /// Collections this command emptied and deleted, whose `del` event waits for the
    /// command's own event about the key (see `notify`); only while events are enabled.
    @exclusivity(unchecked) var emptiedKeys: [[UInt8]] = []
    /// WATCHed keys and who watches each (see `WatchedKeys`); empty costs writes nothing.
    @exclusivity(unchecked) var watchers: [[UInt8]: [WatchedKeys]] = [:]

    /// Keys one command may evict before it runs; the rest is left to background steps, so
    /// a lowered `maxmemory` never makes a single client wait for a long sweep.
    public static let evictionsPerCommand = 64

    /// `seed` seeds both the key hash (so clients cannot aim collisions) and sampling.
    public init(seed: UInt64, configuration: EngineConfiguration = EngineConfiguration()) {
        keyspace = Keyspace(hashSeed: seed)
        random = SplitMix64(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B)
        compressor = ValueCompressor(threshold: configuration.compressionThreshold)
        self.configuration = configuration
        configurationChanged(from: EngineConfiguration(evictionPolicy: .noeviction))
    }

    deinit {
        compressor.deallocate()
    }

    private func configurationChanged(from old: EngineConfiguration) {
        compressor.threshold = configuration.compressionThreshold
        keyspace.events.classes = configuration.keyspaceEvents
        if configuration.evictionPolicy != old.evictionPolicy {
            evictionPool = EvictionPool()
            if configuration.evictionPolicy == .allkeysS3FIFO {
                startS3FIFO()
            } else {
                keyspace.fifo = nil
            }
        }
    }

    /// The OOM error Redis sends for a write it cannot make room for.
    static let outOfMemory: StaticString = "OOM command not allowed when used memory > 'maxmemory'."

    /// Runs one data command. `spec.executor` is `.engine` and the caller has checked the arity.
    public func execute(_ spec: CommandSpec, _ argv: Argv, now: Int64, into writer: inout RESPWriter) {
        // As Redis does before every command (server.c, processCommand): make room, and refuse
        // commands that may grow memory when nothing can be evicted.
        if configuration.maxMemory > 0 && keyspace.memoryUsed > configuration.maxMemory {
            if performEvictions(now: now, maxKeys: Self.evictionsPerCommand) == .cannotEvict && spec.denyOOM {
                writer.error(Self.outOfMemory)
                return
            }
        }
        let watching = spec.isWrite && !watchers.isEmpty
        if versioning && spec.isWrite {
            // Every key this command touches takes the command's version and is listed for
            // the replication stream (see Engine+Replication).
            keyspace.versionStamp = writeVersion
            keyspace.recordsChanges = true
            dispatch(spec, argv, now: now, &writer)
            keyspace.versionStamp = nil
            keyspace.recordsChanges = false
        } else if watching {
            keyspace.recordsChanges = true
            dispatch(spec, argv, now: now, &writer)
            keyspace.recordsChanges = false
        } else {
            dispatch(spec, argv, now: now, &writer)
        }
        if watching {
            // The changed keys stay listed for the replication stream when it takes them.
            touchWatched(keyspace.changedKeys)
            if !versioning { keyspace.changedKeys.removeAll(keepingCapacity: true) }
            if spec.command == .flushall || spec.command == .flushdb { touchAllWatched() }
        }
        if !emptiedKeys.isEmpty { announceEmptiedKeys() }
        if spec.isWrite {
            stats.changesSinceSave += 1
            let used = keyspace.memoryUsed
            if used > peakMemory { peakMemory = used }
        }
    }

    private func dispatch(_ spec: CommandSpec, _ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        switch spec.command {
        case .get: get(argv, now: now, &writer)
        case .set: set(argv, now: now, &writer)
        case .setnx: setnx(argv, now: now, &writer)
        case .setex: setex(argv, unit: .seconds, name: "setex", now: now, &writer)
        case .psetex: setex(argv, unit: .milliseconds, name: "psetex", now: now, &writer)
        case .getset: getset(argv, now: now, &writer)
        case .getdel: getdel(argv, now: now, &writer)
        case .getex: getex(argv, now: now, &writer)
        case .mget: mget(argv, now: now, &writer)
        case .mset: mset(argv, onlyIfNoneExist: false, now: now, &writer)
        case .msetnx: mset(argv, onlyIfNoneExist: true, now: now, &writer)
        case .incr: increment(argv, by: 1, now: now, &writer)
        case .decr: increment(argv, by: -1, now: now, &writer)
        case .incrby: incrby(argv, negate: false, now: now, &writer)
        case .decrby: incrby(argv, negate: true, now: now, &writer)
        case .incrbyfloat: incrbyfloat(argv, now: now, &writer)
        case .append: append(argv, now: now, &writer)
        case .strlen: strlen(argv, now: now, &writer)
        case .getrange, .substr: getrange(argv, now: now, &writer)
        case .setrange: setrange(argv, now: now, &writer)
        case .del, .unlink: del(argv, now: now, &writer)
        case .exists: exists(argv, now: now, &writer)
        case .expire: expire(argv, unit: .seconds, relative: true, name: "expire", now: now, &writer)
        case .pexpire: expire(argv, unit: .milliseconds, relative: true, name: "pexpire", now: now, &writer)
        case .expireat: expire(argv, unit: .seconds, relative: false, name: "expireat", now: now, &writer)
        case .pexpireat: expire(argv, unit: .milliseconds, relative: false, name: "pexpireat", now: now, &writer)
        case .ttl: ttl(argv, milliseconds: false, absolute: false, now: now, &writer)
        case .pttl: ttl(argv, milliseconds: true, absolute: false, now: now, &writer)
        case .expiretime: ttl(argv, milliseconds: false, absolute: true, now: now, &writer)
        case .pexpiretime: ttl(argv, milliseconds: true, absolute: true, now: now, &writer)
        case .persist: persist(argv, now: now, &writer)
        case .type: type(argv, now: now, &writer)
        case .keys: keys(argv, now: now, &writer)
        case .scan: scan(argv, now: now, &writer)
        case .randomkey: randomkey(now: now, &writer)
        case .rename: rename(argv, onlyIfAbsent: false, now: now, &writer)
        case .renamenx: rename(argv, onlyIfAbsent: true, now: now, &writer)
        case .copy: copy(argv, now: now, &writer)
        case .touch: touch(argv, now: now, &writer)
        case .object: object(argv, now: now, &writer)
        case .dbsize: writer.integer(keyspace.count)
        case .memory: memory(argv, now: now, &writer)
        case .flushdb, .flushall: flush(argv, &writer)
        case .hset, .hmset: run(hset, argv, now: now, &writer)
        case .hsetnx: run(hsetnx, argv, now: now, &writer)
        case .hget: run(hget, argv, now: now, &writer)
        case .hmget: run(hmget, argv, now: now, &writer)
        case .hdel: run(hdel, argv, now: now, &writer)
        case .hexists: run(hexists, argv, now: now, &writer)
        case .hlen: run(hlen, argv, now: now, &writer)
        case .hstrlen: run(hstrlen, argv, now: now, &writer)
        case .hkeys: run({ (a, n, w) throws(CommandError) in try self.hgetall(a, part: .keys, now: n, &w) }, argv, now: now, &writer)
        case .hvals: run({ (a, n, w) throws(CommandError) in try self.hgetall(a, part: .values, now: n, &w) }, argv, now: now, &writer)
        case .hgetall: run({ (a, n, w) throws(CommandError) in try self.hgetall(a, part: .all, now: n, &w) }, argv, now: now, &writer)
        case .hincrby: run(hincrby, argv, now: now, &writer)
        case .hincrbyfloat: run(hincrbyfloat, argv, now: now, &writer)
        case .hrandfield: run(hrandfield, argv, now: now, &writer)
        case .hscan: run(hscan, argv, now: now, &writer)
        case .lpush: run({ (a, n, w) throws(CommandError) in try self.push(a, .left, onlyIfExists: false, now: n, &w) }, argv, now: now, &writer)
        case .rpush: run({ (a, n, w) throws(CommandError) in try self.push(a, .right, onlyIfExists: false, now: n, &w) }, argv, now: now, &writer)
        case .lpushx: run({ (a, n, w) throws(CommandError) in try self.push(a, .left, onlyIfExists: true, now: n, &w) }, argv, now: now, &writer)
        case .rpushx: run({ (a, n, w) throws(CommandError) in try self.push(a, .right, onlyIfExists: true, now: n, &w) }, argv, now: now, &writer)
        case .lpop: run({ (a, n, w) throws(CommandError) in try self.pop(a, .left, now: n, &w) }, argv, now: now, &writer)
        case .rpop: run({ (a, n, w) throws(CommandError) in try self.pop(a, .right, now: n, &w) }, argv, now: now, &writer)
        case .llen: run(llen, argv, now: now, &writer)
        case .lrange: run(lrange, argv, now: now, &writer)
        case .lindex: run(lindex, argv, now: now, &writer)
        case .lset: run(lset, argv, now: now, &writer)
        case .linsert: run(linsert, argv, now: now, &writer)
        case .lrem: run(lrem, argv, now: now, &writer)
        case .ltrim: run(ltrim, argv, now: now, &writer)
        case .lpos: run(lpos, argv, now: now, &writer)
        case .lmove: run({ (a, n, w) throws(CommandError) in try self.lmove(a, from: nil, to: nil, now: n, &w) }, argv, now: now, &writer)
        case .rpoplpush: run({ (a, n, w) throws(CommandError) in try self.lmove(a, from: .right, to: .left, now: n, &w) }, argv, now: now, &writer)
        case .blpop: run({ (a, n, w) throws(CommandError) in try self.blockingPop(a, .left, now: n, &w) }, argv, now: now, &writer)
        case .brpop: run({ (a, n, w) throws(CommandError) in try self.blockingPop(a, .right, now: n, &w) }, argv, now: now, &writer)
        case .blmove: run({ (a, n, w) throws(CommandError) in try self.blockingMove(a, from: nil, to: nil, now: n, &w) }, argv, now: now, &writer)
        case .brpoplpush: run({ (a, n, w) throws(CommandError) in try self.blockingMove(a, from: .right, to: .left, now: n, &w) }, argv, now: now, &writer)
        case .sadd: run(sadd, argv, now: now, &writer)
        case .srem: run(srem, argv, now: now, &writer)
        case .sismember: run(sismember, argv, now: now, &writer)
        case .smismember: run(smismember, argv, now: now, &writer)
        case .smembers: run(smembers, argv, now: now, &writer)
        case .scard: run(scard, argv, now: now, &writer)
        case .spop: run(spop, argv, now: now, &writer)
        case .srandmember: run(srandmember, argv, now: now, &writer)
        case .smove: run(smove, argv, now: now, &writer)
        case .sinter: run({ (a, n, w) throws(CommandError) in try self.setCombination(a, .inter, now: n, &w) }, argv, now: now, &writer)
        case .sunion: run({ (a, n, w) throws(CommandError) in try self.setCombination(a, .union, now: n, &w) }, argv, now: now, &writer)
        case .sdiff: run({ (a, n, w) throws(CommandError) in try self.setCombination(a, .diff, now: n, &w) }, argv, now: now, &writer)
        case .sinterstore: run({ (a, n, w) throws(CommandError) in try self.setCombinationStore(a, .inter, now: n, &w) }, argv, now: now, &writer)
        case .sunionstore: run({ (a, n, w) throws(CommandError) in try self.setCombinationStore(a, .union, now: n, &w) }, argv, now: now, &writer)
        case .sdiffstore: run({ (a, n, w) throws(CommandError) in try self.setCombinationStore(a, .diff, now: n, &w) }, argv, now: now, &writer)
        case .sintercard: run(sintercard, argv, now: now, &writer)
        case .sscan: run(sscan, argv, now: now, &writer)
        case .zadd: run(zadd, argv, now: now, &writer)
        case .zrem: run(zrem, argv, now: now, &writer)
        case .zscore: run(zscore, argv, now: now, &writer)
        case .zmscore: run(zmscore, argv, now: now, &writer)
        case .zincrby: run(zincrby, argv, now: now, &writer)
        case .zcard: run(zcard, argv, now: now, &writer)
        case .zcount: run(zcount, argv, now: now, &writer)
        case .zlexcount: run(zlexcount, argv, now: now, &writer)
        case .zrank: run({ (a, n, w) throws(CommandError) in try self.zrank(a, reverse: false, now: n, &w) }, argv, now: now, &writer)
        case .zrevrank: run({ (a, n, w) throws(CommandError) in try self.zrank(a, reverse: true, now: n, &w) }, argv, now: now, &writer)
        case .zrange: run({ (a, n, w) throws(CommandError) in try self.zrange(a, base: RangeRequest(), allowKind: true, now: n, &w) }, argv, now: now, &writer)
        case .zrevrange: run({ (a, n, w) throws(CommandError) in try self.zrange(a, base: RangeRequest(reverse: true), allowKind: false, now: n, &w) }, argv, now: now, &writer)
        case .zrangebyscore: run({ (a, n, w) throws(CommandError) in try self.zrange(a, base: RangeRequest(kind: .score), allowKind: false, now: n, &w) }, argv, now: now, &writer)
        case .zrevrangebyscore: run({ (a, n, w) throws(CommandError) in try self.zrange(a, base: RangeRequest(kind: .score, reverse: true), allowKind: false, now: n, &w) }, argv, now: now, &writer)
        case .zrangebylex: run({ (a, n, w) throws(CommandError) in try self.zrange(a, base: RangeRequest(kind: .lex), allowKind: false, now: n, &w) }, argv, now: now, &writer)
        case .zrevrangebylex: run({ (a, n, w) throws(CommandError) in try self.zrange(a, base: RangeRequest(kind: .lex, reverse: true), allowKind: false, now: n, &w) }, argv, now: now, &writer)
        case .zremrangebyscore: run({ (a, n, w) throws(CommandError) in try self.zremrange(a, .score, now: n, &w) }, argv, now: now, &writer)
        case .zremrangebyrank: run({ (a, n, w) throws(CommandError) in try self.zremrange(a, .rank, now: n, &w) }, argv, now: now, &writer)
        case .zremrangebylex: run({ (a, n, w) throws(CommandError) in try self.zremrange(a, .lex, now: n, &w) }, argv, now: now, &writer)
        case .zpopmin: run({ (a, n, w) throws(CommandError) in try self.zpop(a, max: false, now: n, &w) }, argv, now: now, &writer)
        case .zpopmax: run({ (a, n, w) throws(CommandError) in try self.zpop(a, max: true, now: n, &w) }, argv, now: now, &writer)
        case .bzpopmin: run({ (a, n, w) throws(CommandError) in try self.blockingZpop(a, max: false, now: n, &w) }, argv, now: now, &writer)
        case .bzpopmax: run({ (a, n, w) throws(CommandError) in try self.blockingZpop(a, max: true, now: n, &w) }, argv, now: now, &writer)
        case .zscan: run(zscan, argv, now: now, &writer)
        case .zunion: run({ (a, n, w) throws(CommandError) in try self.sortedSetCombination(a, .union, now: n, &w) }, argv, now: now, &writer)
        case .zinter: run({ (a, n, w) throws(CommandError) in try self.sortedSetCombination(a, .inter, now: n, &w) }, argv, now: now, &writer)
        case .zdiff: run({ (a, n, w) throws(CommandError) in try self.sortedSetCombination(a, .diff, now: n, &w) }, argv, now: now, &writer)
        case .zunionstore: run({ (a, n, w) throws(CommandError) in try self.sortedSetCombinationStore(a, .union, now: n, &w) }, argv, now: now, &writer)
        case .zinterstore: run({ (a, n, w) throws(CommandError) in try self.sortedSetCombinationStore(a, .inter, now: n, &w) }, argv, now: now, &writer)
        case .zdiffstore: run({ (a, n, w) throws(CommandError) in try self.sortedSetCombinationStore(a, .diff, now: n, &w) }, argv, now: now, &writer)
        case .zintercard: run(zintercard, argv, now: now, &writer)
        case .zrangestore: run(zrangestore, argv, now: now, &writer)
        case .zrandmember: run(zrandmember, argv, now: now, &writer)
        case .lmpop: run({ (a, n, w) throws(CommandError) in try self.listMultiPop(a, blocking: false, now: n, &w) }, argv, now: now, &writer)
        case .blmpop: run({ (a, n, w) throws(CommandError) in try self.listMultiPop(a, blocking: true, now: n, &w) }, argv, now: now, &writer)
        case .zmpop: run({ (a, n, w) throws(CommandError) in try self.sortedSetMultiPop(a, blocking: false, now: n, &w) }, argv, now: now, &writer)
        case .bzmpop: run({ (a, n, w) throws(CommandError) in try self.sortedSetMultiPop(a, blocking: true, now: n, &w) }, argv, now: now, &writer)
        case .setbit: run(setbit, argv, now: now, &writer)
        case .getbit: run(getbit, argv, now: now, &writer)
        case .bitcount: run(bitcount, argv, now: now, &writer)
        case .bitpos: run(bitpos, argv, now: now, &writer)
        case .bitop: run(bitop, argv, now: now, &writer)
        case .clThrottle: run(throttle, argv, now: now, &writer)
        case .lcs: run(lcs, argv, now: now, &writer)
        case .sort: run({ (a, n, w) throws(CommandError) in try self.sort(a, readOnly: false, now: n, &w) }, argv, now: now, &writer)
        case .sort_ro: run({ (a, n, w) throws(CommandError) in try self.sort(a, readOnly: true, now: n, &w) }, argv, now: now, &writer)
        case .pfadd: run(pfadd, argv, now: now, &writer)
        case .pfcount: run(pfcount, argv, now: now, &writer)
        case .pfmerge: run(pfmerge, argv, now: now, &writer)
        case .geoadd: run(geoadd, argv, now: now, &writer)
        case .geopos: run(geopos, argv, now: now, &writer)
        case .geodist: run(geodist, argv, now: now, &writer)
        case .geohash: run(geohash, argv, now: now, &writer)
        case .georadius: run({ (a, n, w) throws(CommandError) in try self.geosearch(a, form: .radiusAroundPosition(readOnly: false), now: n, &w) }, argv, now: now, &writer)
        case .georadius_ro: run({ (a, n, w) throws(CommandError) in try self.geosearch(a, form: .radiusAroundPosition(readOnly: true), now: n, &w) }, argv, now: now, &writer)
        case .georadiusbymember: run({ (a, n, w) throws(CommandError) in try self.geosearch(a, form: .radiusAroundMember(readOnly: false), now: n, &w) }, argv, now: now, &writer)
        case .georadiusbymember_ro: run({ (a, n, w) throws(CommandError) in try self.geosearch(a, form: .radiusAroundMember(readOnly: true), now: n, &w) }, argv, now: now, &writer)
        case .geosearch: run({ (a, n, w) throws(CommandError) in try self.geosearch(a, form: .search, now: n, &w) }, argv, now: now, &writer)
        case .geosearchstore: run({ (a, n, w) throws(CommandError) in try self.geosearch(a, form: .searchStore, now: n, &w) }, argv, now: now, &writer)
        case .ping, .echo, .quit, .hello, .reset, .select, .client, .command, .info, .config, .time, .shutdown, .cluster, .save, .bgsave, .lastsave, .slowlog, .readonly, .readwrite, .asking, .monitor, .latency, .wait,
             .subscribe, .unsubscribe, .psubscribe, .punsubscribe, .publish, .pubsub, .auth, .acl, .multi, .exec, .discard, .watch, .unwatch:
            preconditionFailure("\(spec.name) is executed by the server, not the engine")
        }
    }

    /// One bounded slice of background work: a step of any table rebuild, active expiry over
    /// `samples` keys with a TTL, and up to `samples` evictions while over `maxmemory`. The
    /// server calls it on a timer, in slices short enough that clients never wait long for the
    /// lock, and repeats while `moreToDo` (expired keys above a tenth of a sample, as in Redis
    /// expire.c, or memory still over the limit). A rebuild in progress gets one step per
    /// call and does not ask for more: writes move it along too, and back-to-back steps were
    /// the largest part of SET's latency tail while a table grew (Redis's cron likewise
    /// rehashes for one millisecond per tick).
    public func backgroundStep(now: Int64, samples: Int) -> (sampled: Int, expired: Int, moreToDo: Bool, evicting: Bool) {
        keyspace.stepRebuild(slots: 4096)
        let (sampled, expired) = keyspace.expireSample(now: now, samples: samples, using: &random)
        var overLimit = false
        if configuration.maxMemory > 0 && keyspace.memoryUsed > configuration.maxMemory {
            overLimit = performEvictions(now: now, maxKeys: Swift.max(samples, 1)) == .evicting
        }
        let manyExpired = sampled > 0 && expired * 10 > sampled
        return (sampled, expired, manyExpired || overLimit, overLimit)
    }

    /// MEMORY USAGE key [SAMPLES count] | MEMORY HELP. A key's usage is its allocation as malloc
    /// hands it out plus its slot in the table.
    func memory(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let subcommand = argv[1]
        if ByteParsing.equalsIgnoringCase(subcommand, "USAGE") && (argv.count == 3 || argv.count == 5) {
            if argv.count == 5 {
                guard ByteParsing.equalsIgnoringCase(argv[3], "SAMPLES") else {
                    writer.error(ErrorReply.syntax)
                    return
                }
                guard ByteParsing.int64(argv[4]) != nil else {
                    writer.error(ErrorReply.notInteger)
                    return
                }
            }
            let key = argv[2]
            if let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) {
                writer.integer(entry.footprint + entry.collectionFootprint + SlotTable.slotBytes)
            } else {
                writer.null()
            }
        } else if ByteParsing.equalsIgnoringCase(subcommand, "HELP") && argv.count == 2 {
            let lines = [
                "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value.",
                "HELP",
                "    Print this help.",
            ]
            writer.simpleStrings(lines)
        } else {
            writer.error(ErrorReply.unknownSubcommand(ByteParsing.string(subcommand), of: "memory"))
        }
    }

    /// A snapshot of what INFO memory reports.
    public var memoryReport: MemoryReport {
        MemoryReport(
            usedMemory: keyspace.memoryUsed, peakMemory: Swift.max(peakMemory, keyspace.memoryUsed),
            compressedValues: keyspace.compressedValues, compressionSavedBytes: keyspace.compressionSavedBytes,
            compressionAttempts: compressor.attempts, compressionSkips: compressor.skippedAttempts)
    }

    /// A snapshot was written that holds the changes counted up to `changes`.
    public func snapshotSaved(changesAtStart changes: Int) {
        stats.changesSinceSave = Swift.max(0, stats.changesSinceSave - changes)
    }

    /// CONFIG RESETSTAT: zeroes the counters INFO stats reports and the memory peak.
    public func resetStats() {
        stats = EngineStats(changesSinceSave: stats.changesSinceSave)
        keyspace.expiredKeys = 0
        peakMemory = keyspace.memoryUsed
    }

    // MARK: Shared helpers

    /// The LRU access clock: deciseconds, 24 bits (wraps after 19 days; Redis uses seconds and
    /// wraps after 194). A finer clock than Redis's lets LRU tell apart keys touched within the
    /// same second.
    static func clock(_ now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: now / 100) & 0xFF_FFFF
    }

    /// Deciseconds per LRU clock tick, for OBJECT IDLETIME.
    static let clockTicksPerSecond: UInt32 = 10

    /// The access clock a new key starts with: the LRU time, or under an LFU policy Redis's
    /// packed minutes and initial counter.
    func initialClock(_ now: Int64) -> UInt32 {
        configuration.evictionPolicy.usesLFU ? LFU.initialClock(now: now) : Self.clock(now)
    }

    /// Records an access to a key for the eviction policy.
    func touch(_ entry: Entry, now: Int64) {
        if configuration.evictionPolicy.usesLFU {
            entry.accessClock = LFU.accessed(entry.accessClock, now: now, logFactor: configuration.lfuLogFactor, decayTime: configuration.lfuDecayTime, using: &random)
        } else {
            entry.accessClock = Self.clock(now)
            if keyspace.fifo != nil { entry.accessCount += 1 }
        }
    }

    /// Looks a key up for reading: counts a hit or a miss and records the access.
    func lookupRead(_ key: UnsafeRawBufferPointer, now: Int64) -> Entry? {
        guard let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) else {
            stats.keyspaceMisses += 1
            return nil
        }
        stats.keyspaceHits += 1
        touch(entry, now: now)
        return entry
    }

    // MARK: Values as clients see them

    /// Calls `body` with the value's original bytes, restoring a compressed value into scratch
    /// space first.
    func withPlainValue<Result>(_ entry: Entry, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        guard entry.isCompressed else { return body(UnsafeRawBufferPointer(entry.value)) }
        let length = entry.plainLength
        if plainScratch.count < length { plainScratch = [UInt8](repeating: 0, count: length) }
        return plainScratch.withUnsafeMutableBytes { scratch in
            let destination = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<length])
            ValueCompressor.decompress(UnsafeRawBufferPointer(entry.value), into: destination)
            return body(UnsafeRawBufferPointer(destination))
        }
    }

    /// Writes the value as a bulk string; a compressed value is restored straight into the
    /// output buffer, with no intermediate copy.
    func writeValue(_ entry: Entry, _ writer: inout RESPWriter) {
        guard entry.isCompressed else {
            writer.bulk(UnsafeRawBufferPointer(entry.value))
            return
        }
        let length = entry.plainLength
        writer.bulkHeader(length: length)
        writer.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { destination in
            ValueCompressor.decompress(UnsafeRawBufferPointer(entry.value), into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<length]))
            return length
        }
        writer.crlf()
    }

    /// Deletes a key if present (expired or not). Returns whether a live key was deleted.
    @discardableResult
    func deleteKey(_ key: UnsafeRawBufferPointer, now: Int64) -> Bool {
        guard let (location, entry) = keyspace.find(key, hash: keyspace.hash(key)) else { return false }
        let wasLive = !Keyspace.isExpired(entry, now: now)
        if !wasLive { keyspace.noteExpired(entry) }
        keyspace.remove(at: location)
        return wasLive
    }

    /// What a write does to the key's TTL.
    enum ExpiryChange {
        case remove
        case keep
        case at(Int64)
    }

    /// Stores a string value under `key`, replacing whatever was there, compressed when that
    /// pays and the value is `compressible` (one edited in place later is kept plain). Reuses
    /// the entry's allocation when the stored bytes keep their size and the entry keeps its
    /// header.
    func storeString(_ key: UnsafeRawBufferPointer, value plain: UnsafeRawBufferPointer, expiry change: ExpiryChange, now: Int64,
                     compressible: Bool = true) {
        let compressed = compressible ? compressor.compress(plain) : nil
        let stored = compressed ?? plain
        let hash = keyspace.hash(key)
        if let (location, old) = keyspace.find(key, hash: hash) {
            let expiry: Int64?
            switch change {
            case .remove: expiry = nil
            case .keep: expiry = Keyspace.isExpired(old, now: now) ? nil : old.expiryIfAny
            case .at(let time): expiry = time
            }
            if old.kind == .string && old.valueLength == stored.count && old.hasExpiry == (expiry != nil) && old.isCompressed == (compressed != nil)
                && old.hasVersion == versioning {
                keyspace.willMutate(old)
                if stored.count > 0 { old.value.baseAddress!.copyMemory(from: stored.baseAddress!, byteCount: stored.count) }
                if let expiry { old.expiry = expiry }
                touch(old, now: now)
                return
            }
            let replacement = Entry.allocate(
                key: key, valueLength: stored.count, expiry: expiry, kind: .string, clock: old.accessClock,
                compressed: compressed != nil, policyBits: old.policyBits, version: newEntryVersion)
            if stored.count > 0 { replacement.value.baseAddress!.copyMemory(from: stored.baseAddress!, byteCount: stored.count) }
            touch(replacement, now: now)
            keyspace.replace(at: location, with: replacement)
            return
        }
        let expiry: Int64?
        if case .at(let time) = change { expiry = time } else { expiry = nil }
        let entry = Entry.allocate(
            key: key, valueLength: stored.count, expiry: expiry, kind: .string, clock: initialClock(now), compressed: compressed != nil,
            version: newEntryVersion)
        if stored.count > 0 { entry.value.baseAddress!.copyMemory(from: stored.baseAddress!, byteCount: stored.count) }
        keyspace.insertNew(entry, hash: hash)
    }

    /// Replaces a live entry's TTL, moving it to a differently sized allocation when it gains
    /// or loses one.
    func setExpiry(of key: UnsafeRawBufferPointer, to expiry: Int64?) {
        let hash = keyspace.hash(key)
        guard let (location, old) = keyspace.find(key, hash: hash) else { return }
        if old.hasExpiry, let expiry, old.hasVersion == versioning {
            keyspace.willMutate(old)
            old.expiry = expiry
            return
        }
        if !old.hasExpiry && expiry == nil && old.hasVersion == versioning { return }
        let replacement = Entry.allocate(
            key: key, valueLength: old.valueLength, expiry: expiry, kind: old.kind, clock: old.accessClock,
            compressed: old.isCompressed, policyBits: old.policyBits, version: newEntryVersion)
        replacement.copyValue(from: old)
        keyspace.replace(at: location, with: replacement)
    }

    enum TimeUnit {
        case seconds
        case milliseconds
    }
}
