/// One key's whole state as it travels between owners: state transfer, not command
/// replication, so every command type (INCR, APPEND, SETRANGE, EXPIRE…) replicates alike and
/// applying the same record twice is harmless.
public struct ReplicatedKey: Sendable, Equatable {
    public var key: [UInt8]
    /// The hybrid-logical-clock version of the write; the higher version wins everywhere.
    public var version: UInt64
    /// Absolute expiry, Unix milliseconds: every owner expires the key at the same instant.
    public var expiry: Int64?
    /// The value, or nil for a tombstone (the key was deleted by that write). A collection
    /// travels in its portable form (`CollectionCodec`).
    public var value: [UInt8]?
    /// The value's type: the snapshot type tag (0 string, 1 hash, 2 list, 3 set, 4 zset).
    public var type: UInt8

    public init(key: [UInt8], version: UInt64, expiry: Int64? = nil, value: [UInt8]?, type: UInt8 = 0) {
        self.key = key
        self.version = version
        self.expiry = expiry
        self.value = value
        self.type = type
    }

    public var isTombstone: Bool { value == nil }
}

/// Deletes remembered for a while, so a write older than the delete that arrives later (from
/// a slower link, a fill, or the other side of a healed partition) cannot bring the key back.
/// "As long as needed" is bounded by time and count: after `retention` every path that could
/// still carry an older write has been acknowledged or has failed over.
struct TombstoneTable {
    static let retention: Int64 = Engine.tombstoneRetention
    static let capacity = 100_000

    private var versions: [[UInt8]: UInt64] = [:]
    private var order: [(key: [UInt8], version: UInt64, at: Int64)] = []
    private var head = 0

    var count: Int { versions.count }

    func version(of key: [UInt8]) -> UInt64? { versions[key] }

    var all: [(key: [UInt8], version: UInt64)] { versions.map { ($0.key, $0.value) } }

    mutating func remember(_ key: [UInt8], version: UInt64, now: Int64) {
        if let known = versions[key], known >= version { return }
        versions[key] = version
        order.append((key, version, now))
        prune(now: now)
    }

    mutating func forget(_ key: [UInt8]) {
        versions[key] = nil
    }

    mutating func prune(now: Int64) {
        while head < order.count && (order[head].at < now - Self.retention || order.count - head > Self.capacity) {
            let oldest = order[head]
            // A key deleted again later has a newer listing; only that one may drop it.
            if versions[oldest.key] == oldest.version { versions[oldest.key] = nil }
            head += 1
        }
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}

extension Engine {
    /// How long deletes are remembered, in milliseconds.
    public static let tombstoneRetention: Int64 = 60_000

    /// The version new and replaced entries take while a write runs.
    var newEntryVersion: UInt64? { versioning ? (keyspace.versionStamp ?? 0) : nil }

    /// Keys the write commands since the last call changed, in order, without repeats.
    public func takeChangedKeys() -> [[UInt8]] {
        let keys = keyspace.changedKeys
        keyspace.changedKeys.removeAll(keepingCapacity: true)
        guard keys.count > 1 else { return keys }
        var seen = Set<[UInt8]>()
        return keys.filter { seen.insert($0).inserted }
    }

    /// What to send the other owners about `key` after a local write: its value, expiry and
    /// version, or a tombstone at `deletedVersion` (which this node also remembers).
    public func replicatedState(of key: [UInt8], deletedVersion: UInt64, now: Int64) -> ReplicatedKey {
        key.withUnsafeBytes { keyBytes in
            if let (_, entry) = keyspace.findLive(keyBytes, hash: keyspace.hash(keyBytes), now: now) {
                return ReplicatedKey(key: key, version: entry.version, expiry: entry.expiryIfAny, value: plainValue(of: entry), type: entry.kind.rawValue)
            }
            tombstones.remember(key, version: deletedVersion, now: now)
            return ReplicatedKey(key: key, version: deletedVersion, value: nil)
        }
    }

    /// Applies a record from another owner if it is newer than what this node holds (last
    /// writer wins by version). Returns whether anything changed. Records nothing for the
    /// replication stream: a replica never re-sends what it received.
    @discardableResult
    public func apply(_ record: ReplicatedKey, now: Int64) -> Bool {
        tombstones.prune(now: now)
        if let deleted = tombstones.version(of: record.key), deleted >= record.version { return false }
        return record.key.withUnsafeBytes { key in
            let hash = keyspace.hash(key)
            if let (_, entry) = keyspace.find(key, hash: hash), entry.version >= record.version, entry.hasVersion {
                return false
            }
            keyspace.versionStamp = record.version
            defer { keyspace.versionStamp = nil }
            // A write from another owner changes the key as a local one would.
            if !watchers.isEmpty { touchWatched([record.key]) }
            guard let value = record.value else {
                tombstones.remember(record.key, version: record.version, now: now)
                deleteKey(key, now: now)
                return true
            }
            if let expiry = record.expiry, expiry < now {
                deleteKey(key, now: now)
                return true
            }
            tombstones.forget(record.key)
            if let kind = ValueKind(rawValue: record.type), kind != .string {
                _ = value.withUnsafeBytes { bytes in
                    storeDecoded(key, kind: kind, encoded: bytes, expiry: record.expiry, version: versioning ? record.version : nil, now: now)
                }
                return true
            }
            value.withUnsafeBytes { bytes in
                storeString(key, value: bytes, expiry: record.expiry.map { .at($0) } ?? .remove, now: now)
            }
            if let (_, entry) = keyspace.find(key, hash: hash) { entry.version = record.version }
            return true
        }
    }

    /// The version of a live key, 0 for one stored without, nil for a missing key.
    public func version(of key: [UInt8], now: Int64) -> UInt64? {
        key.withUnsafeBytes { keyBytes in
            keyspace.findLive(keyBytes, hash: keyspace.hash(keyBytes), now: now).map { $0.1.version }
        }
    }

    /// Keys removed for their TTL since the last call, as tombstones one step newer than the
    /// value that expired (so a write made after it still wins), remembered here too.
    public func takeExpirations(now: Int64) -> [ReplicatedKey] {
        guard let expired = keyspace.expirations, !expired.isEmpty else { return [] }
        keyspace.expirations = []
        return expired.map { key, version in
            tombstones.remember(key, version: version &+ 1, now: now)
            return ReplicatedKey(key: key, version: version &+ 1, value: nil)
        }
    }

    /// Deletes remembered as tombstones (INFO's `replication_tombstones`).
    public var tombstoneCount: Int { tombstones.count }

    /// One bounded step of a walk over the keyspace, for streaming slots to another owner or
    /// for dropping slots this node no longer owns. Visits the live keys whose table buckets
    /// the SCAN cursor covers next, at least `budget` buckets' worth; returns the next cursor,
    /// 0 when the walk is complete. SCAN's guarantee carries over: every key present for the
    /// whole walk is visited at least once, whatever rebuilds happen between steps.
    public func walkStep(cursor: UInt64, budget: Int, now: Int64, _ visit: (UnsafeRawBufferPointer, ReplicatedKeyView) -> Void) -> UInt64 {
        var cursor = cursor
        var steps = 0
        repeat {
            cursor = keyspace.scanStep(cursor: cursor) { entry in
                guard !Keyspace.isExpired(entry, now: now) else { return }
                visit(entry.key, ReplicatedKeyView(engine: self, entry: entry))
            }
            steps += 1
        } while cursor != 0 && steps < budget
        return cursor
    }

    /// Deletes every key `matches` selects, in one bounded step of a walk like `walkStep`.
    public func removeStep(cursor: UInt64, budget: Int, _ matches: (UnsafeRawBufferPointer) -> Bool) -> (cursor: UInt64, removed: Int) {
        var doomed: [[UInt8]] = []
        var cursor = cursor
        var steps = 0
        repeat {
            cursor = keyspace.scanStep(cursor: cursor) { entry in
                if matches(entry.key) { doomed.append(Array(entry.key)) }
            }
            steps += 1
        } while cursor != 0 && steps < budget
        for key in doomed {
            key.withUnsafeBytes { bytes in
                if let (location, _) = keyspace.find(bytes, hash: keyspace.hash(bytes)) { keyspace.remove(at: location) }
            }
        }
        return (cursor, doomed.count)
    }

    func plainValue(of entry: Entry) -> [UInt8] {
        if entry.isCollection { return CollectionCodec.encode(entry.collection) }
        return withPlainValue(entry) { Array($0) }
    }
}

/// A key met during a walk, read only if the walk wants it.
public struct ReplicatedKeyView {
    let engine: Engine
    let entry: Entry

    public var version: UInt64 { entry.version }

    public func record() -> ReplicatedKey {
        ReplicatedKey(key: Array(entry.key), version: entry.version, expiry: entry.expiryIfAny, value: engine.plainValue(of: entry), type: entry.kind.rawValue)
    }
}

/// A fill in progress on the receiving side: anti-entropy between this node's copy of some
/// slots and a donor's. Keys are merged by version (never by "the donor wins"), so writes
/// either side took while they could not see each other survive on both.
public struct SlotMerge: Sendable {
    /// Which slots the fill covers, by slot number.
    public let slots: [Bool]
    /// Local keys the donor did not send are kept (and sent back) when at least this new:
    /// they may be writes the donor never saw. Older ones are stale copies of keys the donor
    /// deleted or dropped long enough ago that its tombstone is gone.
    public let keepLocalFrom: UInt64
    var seen = Set<[UInt8]>()
    var newerHere = Set<[UInt8]>()
    var deletedHere: [ReplicatedKey] = []

    public init(slots: [Bool], keepLocalFrom: UInt64) {
        self.slots = slots
        self.keepLocalFrom = keepLocalFrom
    }
}

extension Engine {
    /// Applies a record that arrived during `merge` (from the fill or live from the donor).
    @discardableResult
    public func apply(_ record: ReplicatedKey, merging merge: inout SlotMerge, now: Int64) -> Bool {
        merge.seen.insert(record.key)
        if apply(record, now: now) { return true }
        // Not applied: this node holds something newer (or equal), a value or a delete. Newer
        // goes back.
        if let local = version(of: record.key, now: now), local > record.version {
            merge.newerHere.insert(record.key)
        } else if let deleted = tombstones.version(of: record.key), deleted > record.version {
            merge.deletedHere.append(ReplicatedKey(key: record.key, version: deleted, value: nil))
        }
        return false
    }

    /// Ends a merge: drops stale local-only keys of the merged slots and returns what the
    /// donor lacks (keys only here and recent enough, keys newer here), for sending back.
    public func finishMerge(_ merge: SlotMerge, slotOf: (UnsafeRawBufferPointer) -> Int, now: Int64) -> [ReplicatedKey] {
        var back = merge.deletedHere
        var stale: [[UInt8]] = []
        var cursor: UInt64 = 0
        repeat {
            cursor = keyspace.scanStep(cursor: cursor) { entry in
                guard !Keyspace.isExpired(entry, now: now), merge.slots[slotOf(entry.key)] else { return }
                let key = Array(entry.key)
                if merge.newerHere.contains(key) || (!merge.seen.contains(key) && entry.version >= merge.keepLocalFrom) {
                    back.append(ReplicatedKey(key: key, version: entry.version, expiry: entry.expiryIfAny, value: plainValue(of: entry)))
                } else if !merge.seen.contains(key) {
                    stale.append(key)
                }
            }
        } while cursor != 0
        for key in stale { key.withUnsafeBytes { _ = deleteKey($0, now: now) } }
        return back
    }

    /// Deletes remembered for keys `matches` selects: a donor sends them after its keys, so
    /// a receiver drops copies the donor deleted recently.
    public func tombstones(matching matches: (UnsafeRawBufferPointer) -> Bool, now: Int64) -> [ReplicatedKey] {
        tombstones.prune(now: now)
        return tombstones.all.compactMap { key, version in
            key.withUnsafeBytes { matches($0) } ? ReplicatedKey(key: key, version: version, value: nil) : nil
        }
    }
}

extension Engine {
    /// Per-slot digests for anti-entropy: the XOR over the slot's live keys of a hash of the
    /// key and its version, so two owners holding the same writes of a slot have equal
    /// digests whatever order they received them in, and comparing 8 bytes per slot tells
    /// which slots differ (Dynamo §4.7 compares Merkle trees for the same purpose). Slots
    /// `wanted` does not select are left 0. One walk over the keyspace.
    public func slotDigests(slotOf: (UnsafeRawBufferPointer) -> Int, wanted: [Bool], now: Int64) -> [UInt64] {
        var digests = [UInt64](repeating: 0, count: wanted.count)
        var cursor: UInt64 = 0
        repeat {
            cursor = keyspace.scanStep(cursor: cursor) { entry in
                guard !Keyspace.isExpired(entry, now: now) else { return }
                let slot = slotOf(entry.key)
                guard wanted[slot] else { return }
                digests[slot] ^= Self.digest(entry.key, version: entry.version)
            }
        } while cursor != 0
        return digests
    }

    /// FNV-1a over the key, then the version mixed in with SplitMix64's finaliser. Not
    /// seeded: every node must compute the same value.
    static func digest(_ key: UnsafeRawBufferPointer, version: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        var mixed = hash ^ version &+ 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
