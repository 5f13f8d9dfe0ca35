extension Keyspace {
    /// One pass of active expiry (Redis expire.c, activeExpireCycle): looks at up to `samples`
    /// keys with a TTL, chosen at random, and deletes those that have expired.
    ///
    /// The caller repeats passes while the expired share stays high (Redis: above 10%) and its
    /// time budget lasts; the keyspace itself reads no clock.
    public func expireSample<G: RandomNumberGenerator>(now: Int64, samples: Int, using generator: inout G) -> (sampled: Int, expired: Int) {
        var sampled = 0
        var expired = 0
        while sampled < samples, !volatileEntries.isEmpty {
            let index = Int.random(in: 0..<volatileEntries.count, using: &generator)
            let entry = Entry(volatileEntries[index])
            sampled += 1
            if Self.isExpired(entry, now: now) {
                let key = entry.key
                if let (location, found) = find(key, hash: hasher.hash(key)), found == entry {
                    noteExpired(entry)
                    remove(at: location)
                    expired += 1
                }
            }
        }
        return (sampled, expired)
    }

    /// A key chosen at random (RANDOMKEY), or nil when the keyspace is empty. Expired keys may
    /// be returned; the caller checks.
    func randomEntry<G: RandomNumberGenerator>(using generator: inout G) -> (Location, Entry)? {
        let total = count
        guard total > 0 else { return nil }
        let useDraining = draining != nil && Int.random(in: 0..<total, using: &generator) < draining!.live
        let source = useDraining ? draining! : table
        guard source.live > 0 else { return nil }
        // Slots of the draining table below the cursor have all moved to the new table; start
        // past them, or a sample would walk the whole drained stretch.
        let start = useDraining ? drainCursor : 0
        var index = Int.random(in: start..<source.capacity, using: &generator)
        for _ in 0..<source.capacity {
            if let entry = source.entry(at: index) {
                return (Location(inDraining: useDraining, slot: index), entry)
            }
            index = (index + 1) & source.mask
            if index == 0 { index = start }
        }
        return nil
    }

    /// Calls `body` with up to `count` entries found in consecutive slots from one random place
    /// (the idea of Redis's dictGetSomeKeys). Slot order is hash order, so neighbours are as
    /// random a sample as independent draws, and walking them costs one cache miss for the
    /// slot arrays instead of one per sample. `body` must not modify the keyspace.
    func sampleEntries<G: RandomNumberGenerator>(_ count: Int, using generator: inout G, _ body: (Entry) -> Void) {
        let total = self.count
        guard total > 0, count > 0 else { return }
        let useDraining = draining != nil && Int.random(in: 0..<total, using: &generator) < draining!.live
        let source = useDraining ? draining! : table
        guard source.live > 0 else { return }
        let start = useDraining ? drainCursor : 0
        var index = Int.random(in: start..<source.capacity, using: &generator)
        var found = 0
        for _ in 0..<source.capacity {
            if let entry = source.entry(at: index) {
                body(entry)
                found += 1
                if found == count { return }
            }
            index = (index + 1) & source.mask
            if index == 0 { index = start }
        }
    }

    /// Calls `body` with every entry. `body` must not modify the keyspace.
    func forEachEntry(_ body: (Entry) -> Void) {
        for source in [table] + (draining.map { [$0] } ?? []) {
            for index in 0..<source.capacity {
                if let entry = source.entry(at: index) { body(entry) }
            }
        }
    }
}

extension Keyspace {
    /// One step of SCAN: visits the home buckets the cursor names and returns the next cursor
    /// (0 when the whole keyspace has been visited).
    ///
    /// The cursor counts buckets in reverse-binary order (Redis dict.c, dictScan), so a key
    /// present for the whole scan is visited at least once even if the table grows, shrinks or
    /// is being rebuilt between calls: its home bucket in any power-of-two table shares the low
    /// bits the cursor has not yet moved past. During a rebuild both tables are visited, the
    /// larger one at every bucket that expands the smaller one's.
    func scanStep(cursor: UInt64, _ visit: (Entry) -> Void) -> UInt64 {
        var cursor = cursor
        guard count > 0 else { return 0 }
        guard let draining else {
            let mask = UInt64(table.mask)
            table.forEachEntry(homedAt: Int(cursor & mask), hasher: hasher, visit)
            return Self.nextCursor(cursor, mask: mask)
        }
        let (small, large) = table.capacity <= draining.capacity ? (table, draining) : (draining, table)
        let smallMask = UInt64(small.mask)
        let largeMask = UInt64(large.mask)
        small.forEachEntry(homedAt: Int(cursor & smallMask), hasher: hasher, visit)
        repeat {
            large.forEachEntry(homedAt: Int(cursor & largeMask), hasher: hasher, visit)
            cursor = (((cursor | smallMask) &+ 1) & ~smallMask) | (cursor & smallMask)
        } while cursor & (smallMask ^ largeMask) != 0
        return Self.nextCursor(cursor, mask: smallMask)
    }

    /// Increments the cursor's bits above the mask... from the high end: set the unmasked bits,
    /// reverse, add one, reverse back.
    static func nextCursor(_ cursor: UInt64, mask: UInt64) -> UInt64 {
        var value = cursor | ~mask
        value = reverseBits(value)
        value &+= 1
        return reverseBits(value)
    }
    static func reverseBits(_ value: UInt64) -> UInt64 {
        var v = value
        v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        return v.byteSwapped
    }
}
