import CPrefetch

/// The keyspace of one node: every key, its value and its expiry.
///
/// Storage is a `SlotTable` of single-allocation `Entry`s. Growing, shrinking or clearing
/// tombstones rebuilds the table incrementally, the way Redis rehashes its dict (dict.c):
/// a new table takes all inserts while the old one ("draining") is moved over a few slots per
/// write and in bounded background steps, so no single command pays for a whole rebuild.
/// Lookups consult both tables while a rebuild runs.
///
/// Keys with a TTL are also listed in `volatileEntries`, so active expiry can sample them
/// uniformly at random (Redis keeps a separate `expires` dict for the same reason).
///
/// Contract: pure. Time comes in as `now` (Unix milliseconds) on every call that needs it, and
/// randomness from a seeded generator, so tests drive it deterministically.
/// Exclusivity: the properties marked `@exclusivity(unchecked)` are used by every command. A
/// keyspace is only ever used under its engine's lock (see `LockedEngine`), one call at a
/// time, so the runtime's dynamic access checks on them guard nothing that the lock and the
/// static checks do not; they cost several calls per command.
public final class Keyspace {
    @exclusivity(unchecked) var table: SlotTable
    @exclusivity(unchecked) var draining: SlotTable?
    @exclusivity(unchecked) var drainCursor = 0
    @exclusivity(unchecked) var volatileEntries: ContiguousArray<UnsafeMutableRawPointer> = []
    let hasher: KeyHasher
    /// What all entries' allocations cost, allocator overhead included.
    @exclusivity(unchecked) public private(set) var entryFootprint = 0
    /// Values stored LZ4-compressed, and the bytes that saves.
    @exclusivity(unchecked) public private(set) var compressedValues = 0
    @exclusivity(unchecked) public private(set) var compressionSavedBytes = 0
    /// S3-FIFO's queues, present only while that eviction policy is selected.
    @exclusivity(unchecked) var fifo: S3FIFOQueues?
    /// The snapshot being taken, if any, and the parity that marks entries it holds.
    var snapshot: SnapshotWalk?
    var snapshotParity = false
    /// Bumped whenever a rebuild starts or ends, so a snapshot walk knows to start over.
    @exclusivity(unchecked) var structureGeneration = 0
    /// Keys removed because their TTL passed (lazily or actively): INFO's `expired_keys`.
    @exclusivity(unchecked) public internal(set) var expiredKeys = 0
    /// While set, every entry that changes takes this version (see `Engine.versioning`).
    var versionStamp: UInt64?
    /// While set, the key of every entry inserted, changed or removed is listed in
    /// `changedKeys`, for the replication stream.
    var recordsChanges = false
    @exclusivity(unchecked) var changedKeys: [[UInt8]] = []
    /// While set (a node with peers), keys removed because their TTL passed, with their
    /// versions, for the primary to send as tombstones. Bounded: past the cap the oldest
    /// are dropped (the other owners expire the same keys at the same instant anyway).
    var expirations: [(key: [UInt8], version: UInt64)]?
    static let expirationLogCapacity = 100_000
    /// Keyspace notifications raised and not yet published.
    var events = KeyspaceEventLog() {
        didSet { eventsEnabled = events.classes.isActive }
    }
    /// Whether any notification class is selected: one load on the write path.
    private(set) var eventsEnabled = false
    /// Set when a command leaves work for the server (events to publish, a block request,
    /// waiters to wake), so the server checks one flag per command.
    @exclusivity(unchecked) var needsAttention = false

    func raise(_ eventClass: KeyspaceEventClasses, _ event: StaticString, _ key: UnsafeRawBufferPointer) {
        if events.record(eventClass, event, key) { needsAttention = true }
    }

    /// Counts a key removed for its TTL (INFO's `expired_keys`) and logs it for replication.
    func noteExpired(_ entry: Entry) {
        expiredKeys += 1
        if eventsEnabled { raise(.expired, "expired", entry.key) }
        guard expirations != nil else { return }
        if expirations!.count >= Self.expirationLogCapacity { expirations!.removeFirst(expirations!.count / 2) }
        expirations!.append((Array(entry.key), entry.version))
    }

    static let minimumCapacity = 16
    /// Slots migrated from the draining table per write. Enough with margin: a rebuild
    /// starts with the new table at most half full, so it is done long before the writes
    /// could fill that table to its limit (which would force the rest of the rebuild at once)
    /// even at 4/3 of a slot per write. Kept small because every live slot moved is a cache
    /// miss (its key is hashed again), paid by the write that moves it.
    static let migrationSlotsPerWrite = 8
    /// How many slots ahead of the one being moved a rebuild prefetches the entry.
    static let migrationPrefetchDistance = 4
    public init(hashSeed: UInt64) {
        hasher = KeyHasher(seed: hashSeed)
        table = SlotTable(capacity: Self.minimumCapacity)
    }

    deinit {
        releaseAll()
        table.deallocate()
    }

    /// Number of keys stored, counting expired keys not yet reclaimed.
    public var count: Int { table.live + (draining?.live ?? 0) }

    /// Number of keys with a TTL.
    public var volatileCount: Int { volatileEntries.count }

    /// Whether an incremental table rebuild is in progress.
    public var isRebuilding: Bool { draining != nil }

    /// Bytes held by the tables' slot arrays.
    public var tableBytes: Int { table.footprint + (draining?.footprint ?? 0) }

    /// Everything the keyspace holds: entries, tables, the volatile list and eviction queues.
    /// This is `used_memory`, and what `maxmemory` limits.
    public var memoryUsed: Int {
        entryFootprint + tableBytes + volatileEntries.capacity * MemoryLayout<UnsafeMutableRawPointer>.stride + (fifo?.footprint ?? 0)
    }

    private func account(_ entry: Entry, _ sign: Int) {
        entryFootprint += sign * (entry.footprint + entry.collectionFootprint)
        if entry.isCompressed {
            compressedValues += sign
            compressionSavedBytes += sign * (entry.plainLength - entry.valueLength)
        }
    }

    /// A collection held by a live entry grew or shrank by `delta` bytes.
    func collectionResized(by delta: Int) {
        entryFootprint += delta
    }

    // MARK: Locating keys

    struct Location {
        var inDraining: Bool
        var slot: Int

        init(inDraining: Bool, slot: Int) {
            self.inDraining = inDraining
            self.slot = slot
        }
    }

    func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        hasher.hash(key)
    }

    /// Starts loading the cache lines a lookup of `key` reads first — its control byte and
    /// slot pointer in the main table — so that a lookup issued a little later finds them
    /// in cache. A hint: it changes nothing, and a wrong or stale guess costs one wasted load.
    @inline(__always)
    public func prefetch(_ key: UnsafeRawBufferPointer) {
        let home = table.home(hasher.hash(key))
        ringcache_prefetch(table.control + home)
        ringcache_prefetch(table.slots + home)
    }

    /// The second stage, for a key whose `prefetch` has had time to land: starts loading the
    /// entry its home slot points to when the slot's tag matches the key's hash. Reads only
    /// the two lines the first stage fetched.
    @inline(__always)
    public func prefetchEntry(_ key: UnsafeRawBufferPointer) {
        let hash = hasher.hash(key)
        let home = table.home(hash)
        if table.control[home] == SlotTable.tag(hash), let entry = table.slots[home] {
            ringcache_prefetch(entry)
        }
    }

    func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> (Location, Entry)? {
        if let slot = table.find(key, hash: hash) {
            return (Location(inDraining: false, slot: slot), Entry(table.slots[slot].unsafelyUnwrapped))
        }
        if let draining, let slot = draining.find(key, hash: hash) {
            return (Location(inDraining: true, slot: slot), Entry(draining.slots[slot].unsafelyUnwrapped))
        }
        return nil
    }

    static func isExpired(_ entry: Entry, now: Int64) -> Bool {
        // Redis (db.c keyIsExpired): a key expiring at T is still there at T.
        entry.hasExpiry && entry.expiry < now
    }

    /// Finds a key that has not expired. An expired key found on the way is deleted (lazy
    /// expiry), so it is never returned.
    func findLive(_ key: UnsafeRawBufferPointer, hash: UInt64, now: Int64) -> (Location, Entry)? {
        guard let (location, entry) = find(key, hash: hash) else { return nil }
        if Self.isExpired(entry, now: now) {
            noteExpired(entry)
            remove(at: location)
            return nil
        }
        return (location, entry)
    }

    // MARK: Mutations

    /// The key whose full hash is `hash`, for the eviction queues that remember keys by hash.
    /// A 64-bit hash collision between live keys is as unlikely as it gets; it would only make
    /// the queue treat one key as the other.
    func find(hash: UInt64) -> (Location, Entry)? {
        let tag = SlotTable.tag(hash)
        for (inDraining, source) in [(false, table)] + (draining.map { [(true, $0)] } ?? []) {
            var index = source.home(hash)
            for _ in 0..<source.capacity {
                let byte = source.control[index]
                if byte == SlotTable.empty { break }
                if byte == tag {
                    let entry = Entry(source.slots[index].unsafelyUnwrapped)
                    if hasher.hash(entry.key) == hash { return (Location(inDraining: inDraining, slot: index), entry) }
                }
                index = (index + 1) & source.mask
            }
        }
        return nil
    }

    func entry(at location: Location) -> Entry {
        if location.inDraining {
            return Entry(draining!.slots[location.slot].unsafelyUnwrapped)
        }
        return Entry(table.slots[location.slot].unsafelyUnwrapped)
    }

    /// Inserts an entry whose key is absent from the keyspace.
    func insertNew(_ entry: Entry, hash: UInt64) {
        if recordsChanges { changedKeys.append(Array(entry.key)) }
        stepRebuild(slots: Self.migrationSlotsPerWrite)
        reserveForInsert()
        entry.snapshotParity = snapshotParity
        table.insert(entry, hash: hash)
        account(entry, 1)
        if entry.hasExpiry { addVolatile(entry) }
        fifo?.admit(entry, hash: hash)
    }

    /// Puts `replacement` (same key, new allocation) where `location`'s entry was, frees the old
    /// allocation and keeps the volatile list in step.
    func replace(at location: Location, with replacement: Entry) {
        let old = entry(at: location)
        willMutate(old)
        replacement.snapshotParity = snapshotParity
        switch (old.hasExpiry, replacement.hasExpiry) {
        case (true, true):
            replacement.volatileIndex = old.volatileIndex
            volatileEntries[old.volatileIndex] = replacement.raw
        case (true, false):
            removeVolatile(old)
        case (false, true):
            addVolatile(replacement)
        case (false, false):
            break
        }
        if location.inDraining {
            draining!.replace(at: location.slot, with: replacement)
        } else {
            table.replace(at: location.slot, with: replacement)
        }
        account(old, -1)
        account(replacement, 1)
        old.free()
    }

    /// Deletes the entry at `location` and frees it.
    func remove(at location: Location) {
        let entry = entry(at: location)
        willMutate(entry)
        if location.inDraining {
            draining!.remove(at: location.slot)
        } else {
            table.remove(at: location.slot)
        }
        if entry.hasExpiry { removeVolatile(entry) }
        account(entry, -1)
        entry.free()
        if draining != nil {
            stepRebuild(slots: Self.migrationSlotsPerWrite)
        } else {
            shrinkIfSparse()
        }
    }

    /// Deletes every key.
    public func removeAll() {
        // A running snapshot must keep what it has not saved yet: save it all now. This makes
        // FLUSHALL during BGSAVE cost one pass over the keyspace.
        if snapshot != nil { forEachEntry { willMutate($0) } }
        releaseAll()
        table.deallocate()
        table = SlotTable(capacity: Self.minimumCapacity)
        volatileEntries = []
        entryFootprint = 0
        compressedValues = 0
        compressionSavedBytes = 0
        if fifo != nil { fifo = S3FIFOQueues() }
    }

    private func releaseAll() {
        for table in [table] + (draining.map { [$0] } ?? []) {
            for index in 0..<table.capacity {
                if let entry = table.entry(at: index) { entry.free() }
            }
        }
        draining?.deallocate()
        draining = nil
        drainCursor = 0
        structureGeneration &+= 1
    }

    // MARK: Volatile list

    func addVolatile(_ entry: Entry) {
        entry.volatileIndex = volatileEntries.count
        volatileEntries.append(entry.raw)
    }

    func removeVolatile(_ entry: Entry) {
        let index = entry.volatileIndex
        let last = volatileEntries.removeLast()
        if index < volatileEntries.count {
            volatileEntries[index] = last
            Entry(last).volatileIndex = index
        }
    }

    // MARK: Incremental rebuild

    /// Makes room for one more entry in the main table, starting a rebuild when live entries
    /// plus tombstones would pass 3/4 of the slots.
    func reserveForInsert() {
        guard (table.live + table.tombstones + 1) * 4 > table.capacity * 3 else { return }
        if draining != nil { finishRebuild() }
        guard (table.live + table.tombstones + 1) * 4 > table.capacity * 3 else { return }
        startRebuild(capacity: Self.capacity(for: count + 1))
    }

    /// The capacity a rebuild targets: at most half full, so the table has room to grow
    /// while the old one drains.
    static func capacity(for liveCount: Int) -> Int {
        var capacity = minimumCapacity
        while capacity < liveCount * 2 { capacity <<= 1 }
        return capacity
    }

    func startRebuild(capacity: Int) {
        precondition(draining == nil)
        structureGeneration &+= 1
        draining = table
        table = SlotTable(capacity: capacity)
        drainCursor = 0
    }

    func shrinkIfSparse() {
        guard draining == nil, table.capacity > Self.minimumCapacity, table.live * 8 < table.capacity else { return }
        startRebuild(capacity: Self.capacity(for: table.live))
    }

    /// Moves up to `slots` slots of the draining table into the main one. Returns whether a
    /// rebuild is still in progress.
    @discardableResult
    func stepRebuild(slots: Int) -> Bool {
        guard draining != nil else { return false }
        let end = Swift.min(drainCursor + slots, draining!.capacity)
        while drainCursor < end {
            let ahead = drainCursor + Self.migrationPrefetchDistance
            if ahead < draining!.capacity, let pointer = draining!.slots[ahead] {
                ringcache_prefetch(pointer)
            }
            if let entry = draining!.entry(at: drainCursor) {
                draining!.remove(at: drainCursor)
                table.insert(entry, hash: hasher.hash(entry.key))
            }
            drainCursor += 1
        }
        if drainCursor == draining!.capacity {
            draining!.deallocate()
            draining = nil
            drainCursor = 0
            structureGeneration &+= 1
            // Deletions during the rebuild may have left the new table sparse in turn.
            shrinkIfSparse()
            return draining != nil
        }
        return true
    }

    func finishRebuild() {
        while stepRebuild(slots: 1 << 16) {}
    }
}
