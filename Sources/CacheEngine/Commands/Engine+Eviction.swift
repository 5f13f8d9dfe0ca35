/// Eviction when `used_memory` passes `maxmemory` (Redis evict.c, performEvictions).
extension Engine {
    public enum EvictionResult: Equatable, Sendable {
        /// Memory is at or under the limit.
        case underLimit
        /// Keys were evicted but memory is still over; background steps carry on.
        case evicting
        /// Nothing can be evicted: `noeviction`, or no candidate key (e.g. no key with a TTL
        /// under a volatile policy).
        case cannotEvict
    }

    /// Evicts keys until memory is under the limit or `maxKeys` keys are gone.
    public func performEvictions(now: Int64, maxKeys: Int) -> EvictionResult {
        let limit = configuration.maxMemory
        guard limit > 0 else { return .underLimit }
        var evicted = 0
        while keyspace.memoryUsed > limit {
            if configuration.evictionPolicy == .noeviction { return .cannotEvict }
            if evicted >= maxKeys { return .evicting }
            guard evictOne(now: now) else { return .cannotEvict }
            evicted += 1
        }
        return .underLimit
    }

    func evictOne(now: Int64) -> Bool {
        switch configuration.evictionPolicy {
        case .noeviction:
            return false
        case .allkeysRandom:
            guard let (location, _) = keyspace.randomEntry(using: &random) else { return false }
            evict(at: location)
            return true
        case .volatileRandom:
            guard !keyspace.volatileEntries.isEmpty else { return false }
            let entry = Entry(keyspace.volatileEntries[Int.random(in: 0..<keyspace.volatileEntries.count, using: &random)])
            guard let (location, _) = keyspace.find(entry.key, hash: keyspace.hash(entry.key)) else { return false }
            evict(at: location)
            return true
        case .allkeysLRU, .volatileLRU, .allkeysLFU, .volatileLFU, .volatileTTL:
            return evictFromPool(now: now)
        case .allkeysS3FIFO:
            return evictS3FIFO()
        }
    }

    private func evict(at location: Keyspace.Location) {
        if keyspace.eventsEnabled { notify(.evicted, "evicted", keyspace.entry(at: location).key) }
        keyspace.remove(at: location)
        stats.evictedKeys += 1
    }

    /// How strongly a key asks to be evicted: higher goes first.
    private func evictionScore(_ entry: Entry, now: Int64) -> UInt64 {
        switch configuration.evictionPolicy {
        case .allkeysLFU, .volatileLFU:
            return UInt64(255 - LFU.decayedCounter(entry.accessClock, now: now, decayTime: configuration.lfuDecayTime))
        case .volatileTTL:
            return UInt64(bitPattern: Int64.max - entry.expiry)
        case .noeviction, .allkeysLRU, .volatileLRU, .allkeysRandom, .volatileRandom, .allkeysS3FIFO:
            return UInt64((Self.clock(now) &- entry.accessClock) & 0xFF_FFFF)
        }
    }

    /// Samples `maxmemory-samples` keys into the pool and evicts its best candidate that still
    /// exists; a few rounds at most.
    private func evictFromPool(now: Int64) -> Bool {
        let volatileOnly = configuration.evictionPolicy.volatileOnly
        for _ in 0..<8 {
            if volatileOnly && keyspace.volatileEntries.isEmpty { return false }
            if keyspace.count == 0 { return false }
            let samples = Swift.max(configuration.evictionSamples, 1)
            if volatileOnly {
                for _ in 0..<samples {
                    let entry = Entry(keyspace.volatileEntries[Int.random(in: 0..<keyspace.volatileEntries.count, using: &random)])
                    offerToPool(entry, now: now)
                }
            } else {
                keyspace.sampleEntries(samples, using: &random) { offerToPool($0, now: now) }
            }
            while let candidate = evictionPool.popBest() {
                let found = candidate.key.withUnsafeBytes { keyspace.find($0, hash: candidate.hash) }
                guard let (location, entry) = found, !volatileOnly || entry.hasExpiry else { continue }
                evict(at: location)
                return true
            }
        }
        return false
    }

    private func offerToPool(_ entry: Entry, now: Int64) {
        let score = evictionScore(entry, now: now)
        guard evictionPool.wouldAccept(score: score) else { return }
        let key = entry.key
        evictionPool.offer(score: score, hash: keyspace.hash(key), key: key)
    }

    // MARK: S3-FIFO

    /// Builds S3-FIFO's queues for the keys already stored: they enter the main queue, as keys
    /// that were worth keeping so far.
    func startS3FIFO() {
        var queues = S3FIFOQueues()
        keyspace.forEachEntry { entry in
            entry.accessCount = 0
            entry.inMainQueue = true
            queues.main.push(keyspace.hash(entry.key))
        }
        keyspace.fifo = queues
    }

    /// S3-FIFO's eviction (Algorithm 1 of the paper): from the small queue, a key read while
    /// there moves to the main queue and any other is evicted and remembered in the ghost; from
    /// the main queue, a key read since it was last looked at goes round again with one read
    /// fewer, and any other is evicted.
    ///
    /// The paper promotes keys "accessed more than once", counting the insertion; in cache-aside
    /// the insertion is the SET after a miss, not a read, so one read is the same bar. Measured
    /// (bench/hit_ratio.py, Zipf 0.99): 79.6% hits with one read, 79.0% with two.
    private func evictS3FIFO() -> Bool {
        guard keyspace.fifo != nil else { return false }
        compactS3FIFOIfStale()
        // Each key is moved at most a few times before one is evicted (counts are capped at 3).
        var budget = 4 * keyspace.fifo!.queuedCount + 16
        while budget > 0 {
            budget -= 1
            if keyspace.fifo!.shouldEvictFromSmall() {
                guard let hash = keyspace.fifo!.small.pop() else { continue }
                guard let (location, entry) = keyspace.find(hash: hash), !entry.inMainQueue else { continue }
                if entry.accessCount > 0 {
                    entry.accessCount = 0
                    entry.inMainQueue = true
                    keyspace.fifo!.main.push(hash)
                    continue
                }
                keyspace.fifo!.remember(hash)
                evict(at: location)
                return true
            }
            guard let hash = keyspace.fifo!.main.pop() else { return false }
            guard let (location, entry) = keyspace.find(hash: hash), entry.inMainQueue else { continue }
            if entry.accessCount > 0 {
                entry.accessCount -= 1
                keyspace.fifo!.main.push(hash)
                continue
            }
            evict(at: location)
            return true
        }
        return false
    }

    /// Keys deleted or expired (rather than evicted) leave stale hashes in the queues; when
    /// those outnumber the live keys, drop them in one pass so the queues stay bounded.
    private func compactS3FIFOIfStale() {
        guard keyspace.fifo!.queuedCount > 2 * keyspace.count + 1024 else { return }
        keyspace.fifo!.small.filter { hash in keyspace.find(hash: hash).map { !$0.1.inMainQueue } ?? false }
        keyspace.fifo!.main.filter { hash in keyspace.find(hash: hash).map { $0.1.inMainQueue } ?? false }
    }
}
