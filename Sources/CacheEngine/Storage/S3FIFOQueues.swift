/// The queues of S3-FIFO (Yang, Zhang, Qiu, Yue, Vinayak: "FIFO queues are all you need for
/// cache eviction", SOSP 2023): a small FIFO that new keys enter, a main FIFO for keys that
/// proved themselves, and a ghost FIFO remembering keys recently evicted from the small one.
///
/// Most keys of a skewed workload are accessed once and leave through the small queue quickly
/// ("quick demotion"), so they never push out the hot keys in the main queue; that is where it
/// beats LRU on skewed (Zipf) workloads. Each key carries a two-bit access count and a
/// main-queue bit in its entry header; the queues hold key hashes.
struct S3FIFOQueues {
    var small = HashRing()
    var main = HashRing()
    var ghost = HashRing()
    /// How many times each hash is in the ghost ring (a hash can be there more than once).
    var ghostMembers: [UInt64: UInt8] = [:]

    /// The small queue's share of the keys (the paper's 10%).
    static let smallShareNumerator = 1
    static let smallShareDenominator = 10

    var queuedCount: Int { small.count + main.count }

    var footprint: Int {
        small.footprint + main.footprint + ghost.footprint + ghostMembers.capacity * (MemoryLayout<UInt64>.stride + 2)
    }

    /// Where a newly inserted key goes: the main queue if it was evicted recently (a ghost
    /// hit), the small queue otherwise.
    mutating func admit(_ entry: Entry, hash: UInt64) {
        entry.accessCount = 0
        if ghostMembers[hash] != nil {
            entry.inMainQueue = true
            main.push(hash)
        } else {
            entry.inMainQueue = false
            small.push(hash)
        }
    }

    /// Remembers an evicted key, keeping the ghost no larger than the main queue.
    mutating func remember(_ hash: UInt64) {
        ghost.push(hash)
        ghostMembers[hash, default: 0] += 1
        let limit = Swift.max(main.count, 16)
        while ghost.count > limit, let oldest = ghost.pop() {
            if let members = ghostMembers[oldest], members > 1 {
                ghostMembers[oldest] = members - 1
            } else {
                ghostMembers.removeValue(forKey: oldest)
            }
        }
    }

    /// Whether the next eviction should come from the small queue.
    func shouldEvictFromSmall() -> Bool {
        guard !small.isEmpty else { return false }
        return main.isEmpty || small.count * Self.smallShareDenominator >= queuedCount * Self.smallShareNumerator
    }
}
