/// The keys one connection WATCHes, and whether one of them has changed since
/// (https://redis.io/docs/latest/develop/interact/transactions/#optimistic-locking-using-check-and-set).
///
/// A connection makes one and hands it to `Engine.watch`; the engine keeps a reference per
/// watched key and marks it touched when a command (of any connection), a replicated write or
/// FLUSHALL changes the key. A key that existed when watched and is gone at EXEC (expired or
/// evicted meanwhile) fails the check too, as in Redis 7.
public final class WatchedKeys: @unchecked Sendable {
    // @unchecked Sendable: made by a connection's handler, then read and written only inside
    // `withEngine`, under the engine's lock, like the engine itself.
    fileprivate(set) var keys: [[UInt8]] = []
    fileprivate var existedWhenWatched: [Bool] = []
    fileprivate(set) var touched = false

    public init() {}

    public var isEmpty: Bool { keys.isEmpty }
}

extension Engine {
    /// WATCH key: from now on, a change to `key` fails `watched`'s EXEC.
    public func watch(_ key: UnsafeRawBufferPointer, in watched: WatchedKeys, now: Int64) {
        let key = Array(key)
        guard !watched.keys.contains(key) else { return }
        let exists = key.withUnsafeBytes { keyspace.findLive($0, hash: keyspace.hash($0), now: now) != nil }
        watched.keys.append(key)
        watched.existedWhenWatched.append(exists)
        watchers[key, default: []].append(watched)
    }

    /// UNWATCH (and the end of every EXEC and DISCARD, and a closed connection).
    public func unwatch(_ watched: WatchedKeys) {
        for key in watched.keys {
            guard var list = watchers[key] else { continue }
            list.removeAll { $0 === watched }
            watchers[key] = list.isEmpty ? nil : list
        }
        watched.keys.removeAll()
        watched.existedWhenWatched.removeAll()
        watched.touched = false
    }

    /// Whether EXEC may run: no watched key changed, and none that existed has since expired
    /// or been evicted.
    public func watchHolds(_ watched: WatchedKeys, now: Int64) -> Bool {
        guard !watched.touched else { return false }
        for (key, existed) in zip(watched.keys, watched.existedWhenWatched) where existed {
            let exists = key.withUnsafeBytes { keyspace.findLive($0, hash: keyspace.hash($0), now: now) != nil }
            if !exists { return false }
        }
        return true
    }

    /// Keys a write changed: their watchers' transactions will fail.
    func touchWatched(_ keys: [[UInt8]]) {
        for key in keys {
            watchers[key]?.forEach { $0.touched = true }
        }
    }

    /// FLUSHALL and FLUSHDB change every key.
    func touchAllWatched() {
        for list in watchers.values {
            list.forEach { $0.touched = true }
        }
    }
}
