/// Point-in-time snapshots without fork (the consistency BGSAVE gets from fork in Redis).
///
/// Every entry carries a parity bit. Starting a snapshot flips the keyspace's parity, so every
/// existing entry reads as "not saved yet". A walker saves unsaved entries slot by slot, in
/// short slices between client commands; and any change to an unsaved entry — overwrite,
/// delete, expiry, eviction — first saves the entry as it was (its pre-image). New entries
/// take the current parity: they did not exist when the snapshot began. So the snapshot holds
/// exactly the keyspace of the moment it began, and no client waits for more than a slice.
///
/// The walker visits the draining table before the main one, because a rebuild only moves
/// entries from the first to the second; when a rebuild starts or ends it starts over
/// (saved entries are skipped, so a restart costs a scan of control bytes).
struct SnapshotWalk {
    var pending: [UInt8] = []
    var pendingRecords = 0
    var generation: Int
    var inDraining: Bool
    var index = 0
    /// Set when the snapshot is abandoned (a write error): the walk still runs to the end, to
    /// leave every entry with the same parity, but records nothing.
    var discard = false
}

extension Keyspace {
    /// Saves `entry` into the running snapshot before it changes, if the snapshot does not
    /// hold it yet.
    func willMutate(_ entry: Entry) {
        // Every mutation passes here first, so this is also where replication learns of it.
        if recordsChanges { changedKeys.append(Array(entry.key)) }
        if let versionStamp { entry.version = versionStamp }
        guard snapshot != nil, entry.snapshotParity != snapshotParity else { return }
        preserve(entry)
    }

    private func preserve(_ entry: Entry) {
        if !snapshot!.discard {
            SnapshotFormat.appendRecord(entry, to: &snapshot!.pending)
            snapshot!.pendingRecords += 1
        }
        entry.snapshotParity = snapshotParity
    }

    func beginSnapshot() -> Bool {
        guard snapshot == nil else { return false }
        snapshotParity.toggle()
        snapshot = SnapshotWalk(generation: structureGeneration, inDraining: draining != nil)
        return true
    }

    /// Saves up to `maxRecords` more entries (scanning at most 64 slots per record asked for)
    /// and hands over the records gathered since the last call, pre-images included.
    func snapshotStep(maxRecords: Int) -> (bytes: [UInt8], records: Int, finished: Bool) {
        guard snapshot != nil else { return ([], 0, true) }
        if snapshot!.generation != structureGeneration {
            snapshot!.generation = structureGeneration
            snapshot!.inDraining = draining != nil
            snapshot!.index = 0
        }
        var saved = 0
        var scanned = 0
        var finished = false
        while saved < maxRecords && scanned < maxRecords * 64 {
            if snapshot!.inDraining && draining == nil {
                snapshot!.inDraining = false
                snapshot!.index = 0
            }
            let source = snapshot!.inDraining ? draining! : table
            if snapshot!.index >= source.capacity {
                if snapshot!.inDraining {
                    snapshot!.inDraining = false
                    snapshot!.index = 0
                    continue
                }
                finished = true
                break
            }
            if let entry = source.entry(at: snapshot!.index), entry.snapshotParity != snapshotParity {
                preserve(entry)
                saved += 1
            }
            snapshot!.index += 1
            scanned += 1
        }
        let bytes = snapshot!.pending
        let records = snapshot!.pendingRecords
        snapshot!.pending = []
        snapshot!.pendingRecords = 0
        if finished { snapshot = nil }
        return (bytes, records, finished)
    }

    func abandonSnapshot() {
        guard snapshot != nil else { return }
        snapshot!.discard = true
        snapshot!.pending = []
        snapshot!.pendingRecords = 0
    }
}
