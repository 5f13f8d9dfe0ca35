/// Snapshots, as the server drives them: begin, step in slices until finished, and load.
extension Engine {
    /// Starts a point-in-time snapshot of the keyspace as it is now; false if one is running.
    public func beginSnapshot() -> Bool {
        keyspace.beginSnapshot()
    }

    public var snapshotInProgress: Bool { keyspace.snapshot != nil }

    /// Serialises up to `maxRecords` more keys; returns the encoded records gathered since the
    /// last call and whether the snapshot is complete.
    public func snapshotStep(maxRecords: Int) -> (bytes: [UInt8], records: Int, finished: Bool) {
        keyspace.snapshotStep(maxRecords: maxRecords)
    }

    /// Gives up on the running snapshot (the file could not be written). Steps still have to
    /// run to the end; they record nothing.
    public func abandonSnapshot() {
        keyspace.abandonSnapshot()
    }

    /// Stores one key from a snapshot being loaded; a key whose expiry has passed is dropped.
    /// Returns whether the key was stored.
    @discardableResult
    public func load(_ record: SnapshotFormat.Record, now: Int64) -> Bool {
        if let expiry = record.expiry, expiry < now { return false }
        let kind = ValueKind(rawValue: record.type) ?? .string
        if kind != .string {
            return storeDecoded(record.key, kind: kind, encoded: record.value, expiry: record.expiry,
                                version: versioning || record.version != 0 ? record.version : nil, now: now)
        }
        let entry = Entry.allocate(
            key: record.key, valueLength: record.value.count, expiry: record.expiry, kind: ValueKind(rawValue: record.type) ?? .string,
            clock: initialClock(now), compressed: record.compressed,
            // Keys saved with a version keep it: after a restart in a cluster, slots whose
            // digests still match their other owners' need no copy.
            version: versioning || record.version != 0 ? record.version : nil)
        if record.value.count > 0 {
            entry.value.baseAddress!.copyMemory(from: record.value.baseAddress!, byteCount: record.value.count)
        }
        let hash = keyspace.hash(record.key)
        if let (location, _) = keyspace.find(record.key, hash: hash) {
            keyspace.replace(at: location, with: entry)
        } else {
            keyspace.insertNew(entry, hash: hash)
        }
        return true
    }
}
