import RESP

/// Settings the engine needs from the server's configuration.
public struct EngineConfiguration: Sendable, Equatable {
    /// `proto-max-bulk-len`: the largest string APPEND and SETRANGE may build.
    public var protoMaxBulkLength: Int
    public init(protoMaxBulkLength: Int = 512 * 1024 * 1024) {
        self.protoMaxBulkLength = protoMaxBulkLength
    }
}

/// Counters INFO reports under Redis's names.
public struct EngineStats: Sendable, Equatable {
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
}

/// Executes data commands against a keyspace and writes their replies.
///
/// Contract: pure and single-threaded. The server owns one engine behind a lock and passes in
/// the time (`now`, Unix milliseconds) with every call; the engine reads no clock and does no
/// I/O, so tests run it on a virtual clock.
public final class Engine {
    public let keyspace: Keyspace
    public var configuration: EngineConfiguration
    public internal(set) var stats = EngineStats()
    var random: SplitMix64

    /// `seed` seeds both the key hash (so clients cannot aim collisions) and sampling.
    public init(seed: UInt64, configuration: EngineConfiguration = EngineConfiguration()) {
        keyspace = Keyspace(hashSeed: seed)
        random = SplitMix64(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B)
        self.configuration = configuration
    }

    /// Runs one data command. `spec.executor` is `.engine` and the caller has checked the arity.
    public func execute(_ spec: CommandSpec, _ argv: Argv, now: Int64, into writer: inout RESPWriter) {
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
        case .touch: touch(argv, now: now, &writer)
        case .object: object(argv, now: now, &writer)
        case .dbsize: writer.integer(keyspace.count)
        case .flushdb, .flushall: flush(argv, &writer)
        case .ping, .echo, .quit, .hello, .select, .client, .command, .info, .config, .time:
            preconditionFailure("\(spec.name) is executed by the server, not the engine")
        }
    }

    /// One bounded slice of background work: active expiry over `samples` keys with a TTL and a
    /// step of any table rebuild. The server calls it on a timer, in slices short enough that
    /// clients never wait long for the lock, and repeats while `expired` stays above a tenth of
    /// `sampled` (Redis expire.c's acceptable-stale threshold).
    public func backgroundStep(now: Int64, samples: Int) -> (sampled: Int, expired: Int) {
        keyspace.stepRebuild(slots: 4096)
        return keyspace.expireSample(now: now, samples: samples, using: &random)
    }

    /// CONFIG RESETSTAT: zeroes the counters INFO stats reports.
    public func resetStats() {
        stats = EngineStats()
        keyspace.expiredKeys = 0
    }

    // MARK: Shared helpers

    /// The access clock: seconds, 24 bits, like Redis's LRU clock.
    static func clock(_ now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: now / 1000) & 0xFF_FFFF
    }

    /// Looks a key up for reading: counts a hit or a miss and refreshes its access clock.
    func lookupRead(_ key: UnsafeRawBufferPointer, now: Int64) -> Entry? {
        guard let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) else {
            stats.keyspaceMisses += 1
            return nil
        }
        stats.keyspaceHits += 1
        entry.accessClock = Self.clock(now)
        return entry
    }

    /// Deletes a key if present (expired or not). Returns whether a live key was deleted.
    @discardableResult
    func deleteKey(_ key: UnsafeRawBufferPointer, now: Int64) -> Bool {
        guard let (location, entry) = keyspace.find(key, hash: keyspace.hash(key)) else { return false }
        let wasLive = !Keyspace.isExpired(entry, now: now)
        keyspace.remove(at: location)
        if !wasLive { keyspace.expiredKeys += 1 }
        return wasLive
    }

    /// What a write does to the key's TTL.
    enum ExpiryChange {
        case remove
        case keep
        case at(Int64)
    }

    /// Stores a string value under `key`, replacing whatever was there. Reuses the entry's
    /// allocation when the value keeps its size and the entry keeps its header.
    func storeString(_ key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiry change: ExpiryChange, now: Int64) {
        let hash = keyspace.hash(key)
        let clock = Self.clock(now)
        if let (location, old) = keyspace.find(key, hash: hash) {
            let expiry: Int64?
            switch change {
            case .remove: expiry = nil
            case .keep: expiry = Keyspace.isExpired(old, now: now) ? nil : old.expiryIfAny
            case .at(let time): expiry = time
            }
            if old.valueLength == value.count && old.hasExpiry == (expiry != nil) {
                if value.count > 0 { old.value.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: value.count) }
                if let expiry { old.expiry = expiry }
                old.accessClock = clock
                return
            }
            let replacement = Entry.allocate(key: key, valueLength: value.count, expiry: expiry, kind: .string, clock: clock)
            if value.count > 0 { replacement.value.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: value.count) }
            keyspace.replace(at: location, with: replacement)
            return
        }
        let expiry: Int64?
        if case .at(let time) = change { expiry = time } else { expiry = nil }
        let entry = Entry.allocate(key: key, valueLength: value.count, expiry: expiry, kind: .string, clock: clock)
        if value.count > 0 { entry.value.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: value.count) }
        keyspace.insertNew(entry, hash: hash)
    }

    /// Replaces a live entry's TTL, moving it to a differently sized allocation when it gains
    /// or loses one.
    func setExpiry(of key: UnsafeRawBufferPointer, to expiry: Int64?) {
        let hash = keyspace.hash(key)
        guard let (location, old) = keyspace.find(key, hash: hash) else { return }
        if old.hasExpiry, let expiry {
            old.expiry = expiry
            return
        }
        if !old.hasExpiry && expiry == nil { return }
        let replacement = Entry.allocate(key: key, valueLength: old.valueLength, expiry: expiry, kind: old.kind, clock: old.accessClock)
        if old.valueLength > 0 {
            replacement.value.baseAddress!.copyMemory(from: old.value.baseAddress!, byteCount: old.valueLength)
        }
        keyspace.replace(at: location, with: replacement)
    }

    enum TimeUnit {
        case seconds
        case milliseconds
    }
}
