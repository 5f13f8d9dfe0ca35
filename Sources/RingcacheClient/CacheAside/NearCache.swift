import Synchronization

/// A bounded in-process LRU of cache entries, in front of the cluster: a hit costs no round
/// trip. Entries are dropped when any `CacheAside` sharing the invalidation channel writes
/// the key (see `InvalidationListener`), when they pass their soft expiry, and all at once
/// whenever the listener loses its connection (messages may have been missed).
final class NearCache: Sendable {
    private struct Slot {
        var entry: CacheEntry
        var lastUse: UInt64
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var clock: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func get(_ key: String, now: Int64) -> CacheEntry? {
        state.withLock { state in
            guard var slot = state.slots[key] else { return nil }
            guard slot.entry.softExpiry > now else {
                state.slots.removeValue(forKey: key)
                return nil
            }
            state.clock &+= 1
            slot.lastUse = state.clock
            state.slots[key] = slot
            return slot.entry
        }
    }

    func put(_ key: String, _ entry: CacheEntry) {
        state.withLock { state in
            state.clock &+= 1
            state.slots[key] = Slot(entry: entry, lastUse: state.clock)
            if state.slots.count > capacity {
                // Evict the least recently used tenth in one pass, so eviction stays cheap.
                let victims = state.slots.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(max(1, capacity / 10))
                for (victim, _) in victims { state.slots.removeValue(forKey: victim) }
            }
        }
    }

    func remove(_ key: String) {
        _ = state.withLock { $0.slots.removeValue(forKey: key) }
    }

    func removeAll() {
        state.withLock { $0.slots.removeAll() }
    }

    var count: Int { state.withLock { $0.slots.count } }
}
