import Foundation
import Metrics
import Synchronization

/// Cache-aside in front of a `BackingStore`: a hit returns from the cache; a miss loads from
/// the store once — however many tasks (in-process, coalesced) or processes (through a short
/// lock key) ask at the same time — and fills the cache with a TTL plus jitter, so keys filled
/// together do not expire together. Misses the store confirms are cached briefly too (negative
/// caching). With `staleWhileRevalidate`, a value past its TTL is still served for that long
/// while one refresh runs. If the cache cannot be reached, reads go to the store and say so
/// in `statistics.cacheErrors` instead of failing. Every count in `statistics` is also a
/// swift-metrics counter (`ringcache_cache_hits_total`, … with dimension `cache`).
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
        /// The `cache` dimension of this instance's swift-metrics counters.
        public var metricsName = "default"

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
    private let metrics: [Event: Counter]
    let invalidations: InvalidationListener?

    /// `now` gives Unix milliseconds; tests pass their own.
    public init(client: RingcacheClient, store: Store, options: Options = .init(),
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.client = client
        self.store = store
        self.options = options
        self.now = now
        let dimensions = [("cache", options.metricsName)]
        metrics = Dictionary(uniqueKeysWithValues: Event.allCases.map { ($0, Counter(label: $0.metricName, dimensions: dimensions)) })
        if let capacity = options.nearCacheCapacity {
            let nearCache = NearCache(capacity: capacity)
            let tls = client.configuration.tls.flatMap { options in client.tlsContext.map { (options: options, context: $0) } }
            let listener = InvalidationListener(channel: options.invalidationChannel, nearCache: nearCache, group: client.group, tls: tls) { [client] in
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
            record(entry.payload == nil ? .negativeHit : .hit)
            record(.nearHit)
            return try entry.payload.map { try options.codec.decode(Store.Value.self, from: $0) }
        }
        let cached: [UInt8]?
        do {
            cached = try await client.get(options.keyPrefix + key)
        } catch {
            record(.cacheError)
            record(.load)
            return try await store.load(key)
        }
        if let cached, let entry = CacheEntry(decoding: cached) {
            if entry.softExpiry > now() {
                nearCache?.put(key, entry)
                guard let payload = entry.payload else {
                    record(.negativeHit)
                    return nil
                }
                record(.hit)
                return try options.codec.decode(Store.Value.self, from: payload)
            }
            if let payload = entry.payload {
                // Stale but within the grace window: serve it, refresh once in the background.
                record(.staleServe)
                Task { _ = try? await self.loadOnce(key) }
                return try options.codec.decode(Store.Value.self, from: payload)
            }
        }
        record(.miss)
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
            record(.cacheError)
            record(.load)
            return try await store.load(many: keys)
        }
        let time = now()
        for (key, bytes) in zip(keys, cached) {
            if let bytes, let entry = CacheEntry(decoding: bytes), entry.softExpiry > time {
                if let payload = entry.payload {
                    result[key] = try options.codec.decode(Store.Value.self, from: payload)
                    record(.hit)
                } else {
                    record(.negativeHit)
                }
            } else {
                missing.append(key)
                record(.miss)
            }
        }
        guard !missing.isEmpty else { return result }
        record(.load)
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
        if joined { record(.coalescedWait) }
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
                    record(.coalescedWait)
                    return try entry.payload.map { try options.codec.decode(Store.Value.self, from: $0) }
                }
            }
        }
        defer { if locked { Task { _ = try? await self.client.delete([lockKey]) } } }
        record(.load)
        let value: Store.Value?
        do {
            value = try await store.load(key)
        } catch {
            record(.loadError)
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

    enum Event: CaseIterable {
        case hit, negativeHit, nearHit, miss, load, loadError, staleServe, coalescedWait, cacheError

        /// The swift-metrics counter this event increments.
        var metricName: String {
            switch self {
            case .hit: "ringcache_cache_hits_total"
            case .negativeHit: "ringcache_cache_negative_hits_total"
            case .nearHit: "ringcache_cache_near_hits_total"
            case .miss: "ringcache_cache_misses_total"
            case .load: "ringcache_cache_loads_total"
            case .loadError: "ringcache_cache_load_errors_total"
            case .staleServe: "ringcache_cache_stale_serves_total"
            case .coalescedWait: "ringcache_cache_coalesced_waits_total"
            case .cacheError: "ringcache_cache_fallthroughs_total"
            }
        }
    }

    /// Counts an event in `statistics` and in its swift-metrics counter.
    private func record(_ event: Event) {
        counters.withLock { statistics in
            switch event {
            case .hit: statistics.hits += 1
            case .negativeHit: statistics.negativeHits += 1
            case .nearHit: statistics.nearHits += 1
            case .miss: statistics.misses += 1
            case .load: statistics.loads += 1
            case .loadError: statistics.loadErrors += 1
            case .staleServe: statistics.staleServes += 1
            case .coalescedWait: statistics.coalescedWaits += 1
            case .cacheError: statistics.cacheErrors += 1
            }
        }
        metrics[event]?.increment()
    }
}
