/// A growable FIFO ring of 64-bit key hashes: the queues of S3-FIFO hold hashes, not pointers,
/// so a key deleted behind a queue's back leaves a stale hash (skipped when it reaches the
/// tail), never a dangling pointer.
struct HashRing {
    private var storage: ContiguousArray<UInt64> = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    var footprint: Int { storage.capacity * MemoryLayout<UInt64>.stride }

    mutating func push(_ hash: UInt64) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = hash
        count += 1
    }

    mutating func pop() -> UInt64? {
        guard count > 0 else { return nil }
        let hash = storage[head]
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return hash
    }

    mutating func removeAll() {
        self = HashRing()
    }

    /// Keeps only the hashes `keep` accepts, in order.
    mutating func filter(_ keep: (UInt64) -> Bool) {
        var kept = HashRing()
        while let hash = pop() { if keep(hash) { kept.push(hash) } }
        self = kept
    }

    private mutating func grow() {
        var bigger = ContiguousArray<UInt64>(repeating: 0, count: Swift.max(16, storage.count * 2))
        for index in 0..<count {
            bigger[index] = storage[(head + index) & (storage.count - 1)]
        }
        storage = bigger
        head = 0
    }
}
