/// `maxmemory-policy`: what goes when memory passes `maxmemory`. The Redis policies behave as
/// Redis documents them (https://redis.io/docs/latest/develop/reference/eviction/);
/// `allkeys-s3fifo` is S3-FIFO (SOSP 2023), which keeps more of the hot set than LRU on skewed
/// workloads.
public enum EvictionPolicy: String, CaseIterable, Sendable {
    case noeviction = "noeviction"
    case allkeysLRU = "allkeys-lru"
    case volatileLRU = "volatile-lru"
    case allkeysLFU = "allkeys-lfu"
    case volatileLFU = "volatile-lfu"
    case allkeysRandom = "allkeys-random"
    case volatileRandom = "volatile-random"
    case volatileTTL = "volatile-ttl"
    case allkeysS3FIFO = "allkeys-s3fifo"

    /// Whether only keys with a TTL may be evicted.
    public var volatileOnly: Bool {
        switch self {
        case .volatileLRU, .volatileLFU, .volatileRandom, .volatileTTL: return true
        case .noeviction, .allkeysLRU, .allkeysLFU, .allkeysRandom, .allkeysS3FIFO: return false
        }
    }

    /// Whether keys' access clocks hold LFU counters rather than LRU times.
    public var usesLFU: Bool {
        switch self {
        case .allkeysLFU, .volatileLFU: return true
        case .noeviction, .allkeysLRU, .volatileLRU, .allkeysRandom, .volatileRandom, .volatileTTL, .allkeysS3FIFO: return false
        }
    }
}

/// What INFO memory reports from the engine.
public struct MemoryReport: Sendable, Equatable {
    public var usedMemory: Int
    public var peakMemory: Int
    public var compressedValues: Int
    public var compressionSavedBytes: Int
    public var compressionAttempts: Int
    public var compressionSkips: Int
}

/// Redis's LFU counter (evict.c): the 24-bit access clock holds the last decrement time in
/// minutes (16 bits) and a logarithmic access counter (8 bits) that grows with probability
/// 1 / ((counter - 5) * lfu-log-factor + 1) and loses one per lfu-decay-time minutes idle.
enum LFU {
    static let initialCounter: UInt32 = 5

    static func minutes(_ now: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: now / 60_000) & 0xFFFF
    }

    static func initialClock(now: Int64) -> UInt32 {
        minutes(now) << 8 | initialCounter
    }

    /// The counter after decay for the minutes elapsed since the clock's time.
    static func decayedCounter(_ clock: UInt32, now: Int64, decayTime: Int) -> UInt32 {
        let counter = clock & 0xFF
        guard decayTime > 0 else { return counter }
        let last = clock >> 8
        let current = minutes(now)
        let elapsed = current >= last ? current - last : 65535 - last + current
        let periods = elapsed / UInt32(decayTime)
        return periods >= counter ? 0 : counter - periods
    }

    static func accessed<G: RandomNumberGenerator>(_ clock: UInt32, now: Int64, logFactor: Int, decayTime: Int, using generator: inout G) -> UInt32 {
        var counter = decayedCounter(clock, now: now, decayTime: decayTime)
        if counter < 255 {
            let base = Double(counter > initialCounter ? counter - initialCounter : 0)
            let probability = 1.0 / (base * Double(logFactor) + 1.0)
            if Double.random(in: 0..<1, using: &generator) < probability { counter += 1 }
        }
        return minutes(now) << 8 | counter
    }
}

/// The best eviction candidates seen so far (Redis evict.c's EVPOOL): sampling a few keys per
/// round and keeping the 16 best across rounds approximates true LRU/LFU/TTL order closely
/// without any per-key list. Candidates are kept by key, not pointer, so a key deleted in the
/// meantime is simply not found.
struct EvictionPool {
    struct Candidate {
        var score: UInt64
        var hash: UInt64
        var key: [UInt8]
    }

    static let capacity = 16
    /// Ascending by score: the best candidate is last.
    private(set) var candidates: [Candidate] = []

    /// Whether a key with this score would enter the pool (checked before hashing and copying
    /// the key).
    func wouldAccept(score: UInt64) -> Bool {
        candidates.count < Self.capacity || score > candidates[0].score
    }

    mutating func offer(score: UInt64, hash: UInt64, key: UnsafeRawBufferPointer) {
        guard wouldAccept(score: score) else { return }
        if candidates.contains(where: { $0.hash == hash && $0.key.elementsEqual(key) }) { return }
        if candidates.count == Self.capacity { candidates.removeFirst() }
        let index = candidates.firstIndex { $0.score > score } ?? candidates.count
        candidates.insert(Candidate(score: score, hash: hash, key: Array(key)), at: index)
    }

    mutating func popBest() -> Candidate? {
        candidates.popLast()
    }
}
