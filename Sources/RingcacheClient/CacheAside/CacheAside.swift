import Foundation
import Synchronization

/// Cache-aside in front of a `BackingStore`: a hit returns from the cache; a miss loads from
/// the store once — however many tasks (in-process, coalesced) or processes (through a short
/// lock key) ask at the same time — and fills the cache with a TTL plus jitter, so keys filled
/// together do not expire together. Misses the store confirms are cached briefly too (negative
/// caching). With `staleWhileRevalidate`, a value past its TTL is still served for that long
/// while one refresh runs. If the cache cannot be reached, reads go to the store and say so
/// in `statistics.cacheErrors` instead of failing.
public final class CacheAside<Store: BackingStore>: Sendable {
    public struct Options: Sendable {
        public var ttl: Duration = .seconds(300)
        /// Each fill's TTL is stretched by a random fraction up to this.
        public var ttlJitter = 0.1
        /// How long "the store has no such key" is cached; nil = not at all.
        public var negativeTTL: Duration? = .seconds(30)
        /// Serve a value this long past its TTL while one refresh runs; nil = never stale.
        public var staleWhileRevalidate: Duration?
        public var keyPrefix = ""
        public var writeMode = WriteMode.invalidate
        /// How long a process may hold the fill lock of a key before others load themselves.
        public var lockTTL: Duration = .seconds(5)
        public var codec: any ValueCodec = JSONValueCodec()
        /// Entries kept in process in front of the cluster; nil = no near cache.
        public var nearCacheCapacity: Int?
        /// Where writes announce the keys they change, so near caches everywhere drop them.
        public var invalidationChannel = "ringcache:invalidate"

        public init() {}
    }

    public enum WriteMode: Sendable {
        /// Writes go to the store, then the new value into the cache.
        case writeThrough
        /// Writes go to the store, then the cached copy is deleted (the next read refills).
        case invalidate
    }

    public struct Statistics: Sendable, Equatable {
        public var hits = 0
        public var negativeHits = 0
        public var misses = 0
        public var loads = 0
        public var loadErrors = 0
        public var staleServes = 0
        /// Hits served by the near cache, without a round trip (also counted in `hits`).
        public var nearHits = 0
        public var coalescedWaits = 0
        /// Reads that fell through to the store because the cache failed.
        public var cacheErrors = 0
    }

    public let client: RingcacheClient
    public let store: Store
    public let options: Options
    private let now: @Sendable () -> Int64
    private let inFlight = Mutex<[String: Task<Store.Value?, any Error>]>([:])
    private let counters = Mutex(Statistics())
    let nearCache: NearCache?
    let invalidations: InvalidationListener?

    /// `now` gives Unix milliseconds; tests pass their own.
    public init(client: RingcacheClient, store: Store, options: Options = .init(),
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.client = client
        self.store = store
        self.options = options
        self.now = now
        if let capacity = options.nearCacheCapacity {
            let nearCache = NearCache(capacity: capacity)
            let listener = InvalidationListener(channel: options.invalidationChannel, nearCache: nearCache, group: client.group) { [client] in
                (client.topology?.endpoints.sorted { $0.description < $1.description } ?? []) + client.configuration.seeds
            }
            listener.start()
            self.nearCache = nearCache
            invalidations = listener
        } else {
            nearCache = nil
            invalidations = nil
        }
    }

    /// Stops the invalidation listener (the near cache then empties itself).
    public func close() {
        invalidations?.stop()
        nearCache?.removeAll()
    }

    deinit {
        invalidations?.stop()
    }

    public var statistics: Statistics { counters.withLock { $0 } }

    // MARK: Reads

    public func get(_ key: String) async throws -> Store.Value? {
        if let nearCache, let entry = nearCache.get(key, now: now()) {
            count {
                $0.hits += entry.payload == nil ? 0 : 1
                $0.negativeHits += entry.payload == nil ? 1 : 0
                $0.nearHits += 1
            }
            return try entry.payload.map { try options.codec.decode(Store.Value.self, from: $0) }
        }
        let cached: [UInt8]?
        do {
            cached = try await client.get(options.keyPrefix + key)
        } catch {
            count { $0.cacheErrors += 1 }
            count { $0.loads += 1 }
            return try await store.load(key)
        }
        if let cached, let entry = CacheEntry(decoding: cached) {
            if entry.softExpiry > now() {
                nearCache?.put(key, entry)
                guard let payload = entry.payload else {
                    count { $0.negativeHits += 1 }
                    return nil
                }
                count { $0.hits += 1 }
                return try options.codec.decode(Store.Value.self, from: payload)
            }
            if let payload = entry.payload {
                // Stale but within the grace window: serve it, refresh once in the background.
                count { $0.staleServes += 1 }
                Task { _ = try? await self.loadOnce(key) }
                return try options.codec.decode(Store.Value.self, from: payload)
            }
        }
        count { $0.misses += 1 }
        return try await loadOnce(key)
    }

    /// Many keys: cached ones from one MGET per slot, the rest from one store call.
    public func get(_ keys: [String]) async throws -> [String: Store.Value] {
        var result: [String: Store.Value] = [:]
        var missing: [String] = []
        let cached: [[UInt8]?]
        do {
            cached = try await client.get(many: keys.map { Array((options.keyPrefix + $0).utf8) })
        } catch {
            count { $0.cacheErrors += 1 }
            count { $0.loads += 1 }
            return try await store.load(many: keys)
        }
        let time = now()
        for (key, bytes) in zip(keys, cached) {
            if let bytes, let entry = CacheEntry(decoding: bytes), entry.softExpiry > time {
                if let payload = entry.payload {
                    result[key] = try options.codec.decode(Store.Value.self, from: payload)
                    count { $0.hits += 1 }
                } else {
                    count { $0.negativeHits += 1 }
                }
            } else {
                missing.append(key)
                count { $0.misses += 1 }
            }
        }
        guard !missing.isEmpty else { return result }
        count { $0.loads += 1 }
        let loaded = try await store.load(many: missing)
        for key in missing {
            try? await fill(key, loaded[key])
            if let value = loaded[key] { result[key] = value }
        }
        return result
    }

    // MARK: Writes

    public func set(_ key: String, _ value: Store.Value) async throws {
        try await store.write(key, value)
        switch options.writeMode {
        case .writeThrough: try await fill(key, value)
        case .invalidate: try await client.delete([options.keyPrefix + key])
        }
        try await announceChange(key)
    }

    public func delete(_ key: String) async throws {
        try await store.delete(key)
        try await client.delete([options.keyPrefix + key])
        try await announceChange(key)
    }

    /// Drops the key from this near cache and tells every other one (when near caching).
    private func announceChange(_ key: String) async throws {
        guard let nearCache else { return }
        nearCache.remove(key)
        let reply = try await client.execute([Array("PUBLISH".utf8), Array(options.invalidationChannel.utf8), Array(key.utf8)], key: nil, isRead: false)
        try RingcacheClient.checkError(reply)
    }

    // MARK: Loading

    /// One load per key at a time in this process: later callers wait for the first.
    private func loadOnce(_ key: String) async throws -> Store.Value? {
        let (task, joined) = inFlight.withLock { flights -> (Task<Store.Value?, any Error>, Bool) in
            if let running = flights[key] { return (running, true) }
            let task = Task { try await self.loadAcrossProcesses(key) }
            flights[key] = task
            return (task, false)
        }
        if joined { count { $0.coalescedWaits += 1 } }
        defer { if !joined { _ = inFlight.withLock { $0.removeValue(forKey: key) } } }
        return try await task.value
    }

    /// Takes the key's fill lock (SET NX with `lockTTL`) so one process loads; the others
    /// poll the cache for its result, and load themselves only if it never comes.
    private func loadAcrossProcesses(_ key: String) async throws -> Store.Value? {
        let lockKey = options.keyPrefix + key + ":fill-lock"
        let token = UUID().uuidString
        let locked = (try? await client.set(lockKey, token, ttl: options.lockTTL, condition: .ifAbsent)) ?? true
        if !locked {
            let deadline = ContinuousClock.now + options.lockTTL
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
                if let bytes = try? await client.get(options.keyPrefix + key), let entry = CacheEntry(decoding: bytes), entry.softExpiry > now() {
                    count { $0.coalescedWaits += 1 }
                    return try entry.payload.map { try options.codec.decode(Store.Value.self, from: $0) }
                }
            }
        }
        defer { if locked { Task { _ = try? await self.client.delete([lockKey]) } } }
        count { $0.loads += 1 }
        let value: Store.Value?
        do {
            value = try await store.load(key)
        } catch {
            count { $0.loadErrors += 1 }
            throw error
        }
        try? await fill(key, value)
        return value
    }

    /// Caches `value` (or, with negative caching, its absence) with TTL plus jitter.
    private func fill(_ key: String, _ value: Store.Value?) async throws {
        let ttl: Duration
        if value == nil {
            guard let negative = options.negativeTTL else { return }
            ttl = negative
        } else {
            ttl = options.ttl * (1 + Double.random(in: 0...max(0, options.ttlJitter)))
        }
        let softExpiry = now() + RingcacheClient.milliseconds(ttl)
        let hardTTL = value == nil ? ttl : ttl + (options.staleWhileRevalidate ?? .zero)
        let entry = CacheEntry(softExpiry: softExpiry, payload: try value.map { try options.codec.encode($0) })
        try await client.set(bytes: Array((options.keyPrefix + key).utf8), entry.encoded(), ttl: hardTTL)
        nearCache?.put(key, entry)
    }

    private func count(_ update: (inout Statistics) -> Void) {
        counters.withLock { update(&$0) }
    }
}
