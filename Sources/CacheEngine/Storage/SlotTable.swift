#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open-addressing hash table of entry pointers with linear probing.
///
/// Each slot costs 9 bytes: a control byte (empty, tombstone, or `0x80 | 7 hash bits`) and a
/// pointer. A probe compares control bytes, which sit contiguously in memory, and follows a
/// pointer only when the 7-bit tag matches, so a lookup usually touches one entry.
///
/// Deletion leaves a tombstone, so entries never move while they live in a table. That keeps
/// the invariant SCAN relies on: every entry whose home slot is `h` lies in the run of non-empty
/// slots that starts at `h`. Tombstones are cleared by rebuilding the table (see `Keyspace`).
struct SlotTable {
    static let empty: UInt8 = 0
    static let tombstone: UInt8 = 1

    let capacity: Int
    let mask: Int
    let control: UnsafeMutablePointer<UInt8>
    let slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Entries stored.
    var live = 0
    /// Slots holding a tombstone.
    var tombstones = 0

    /// `capacity` must be a power of two.
    init(capacity: Int) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity must be a power of two")
        self.capacity = capacity
        mask = capacity - 1
        // calloc, not allocate-and-fill: `empty` and nil are all-zero bytes, and a large
        // calloc gets fresh pages from mmap that the kernel zeroes as they are first touched.
        // Filling the new table up front stalled the write that started a rebuild: SLOWLOG
        // showed a SET of 9.5 ms when a table grew to 2M slots (18 MB). Now the cost is
        // spread over the writes and rebuild steps that first touch each page.
        guard let control = calloc(capacity, 1), let slots = calloc(capacity, MemoryLayout<UnsafeMutableRawPointer?>.stride) else {
            fatalError("out of memory for a table of \(capacity) slots")
        }
        self.control = control.bindMemory(to: UInt8.self, capacity: capacity)
        self.slots = slots.bindMemory(to: UnsafeMutableRawPointer?.self, capacity: capacity)
    }

    /// Frees the table's arrays, not the entries it points to.
    func deallocate() {
        free(control)
        free(slots)
    }

    /// Bytes one slot costs: its control byte and its pointer.
    static let slotBytes = 1 + MemoryLayout<UnsafeMutableRawPointer?>.stride

    /// Bytes the table itself occupies.
    var footprint: Int { capacity * Self.slotBytes }

    @inline(__always)
    static func tag(_ hash: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: hash >> 57) | 0x80
    }

    @inline(__always)
    func home(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: hash) & mask
    }

    /// The slot holding `key`, or nil.
    func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        let tag = Self.tag(hash)
        var index = home(hash)
        var probes = 0
        while probes < capacity {
            let byte = control[index]
            if byte == Self.empty { return nil }
            if byte == tag, Entry(slots[index].unsafelyUnwrapped).keyEquals(key) { return index }
            index = (index + 1) & mask
            probes += 1
        }
        return nil
    }

    /// Stores a new entry whose key is known to be absent; the caller keeps the load in bounds,
    /// so a free slot always exists.
    @discardableResult
    mutating func insert(_ entry: Entry, hash: UInt64) -> Int {
        var index = home(hash)
        while control[index] > Self.tombstone {
            index = (index + 1) & mask
        }
        if control[index] == Self.tombstone { tombstones -= 1 }
        control[index] = Self.tag(hash)
        slots[index] = entry.raw
        live += 1
        return index
    }

    mutating func remove(at index: Int) {
        control[index] = Self.tombstone
        slots[index] = nil
        tombstones += 1
        live -= 1
    }

    func entry(at index: Int) -> Entry? {
        control[index] > Self.tombstone ? Entry(slots[index].unsafelyUnwrapped) : nil
    }

    /// Replaces the entry in an occupied slot (same key, new allocation).
    func replace(at index: Int, with entry: Entry) {
        slots[index] = entry.raw
    }

    /// Calls `body` with every entry whose home slot is `bucket`: they all lie in the run of
    /// non-empty slots starting there.
    func forEachEntry(homedAt bucket: Int, hasher: KeyHasher, _ body: (Entry) -> Void) {
        var index = bucket
        var probes = 0
        while probes < capacity {
            let byte = control[index]
            if byte == Self.empty { return }
            if byte != Self.tombstone {
                let entry = Entry(slots[index].unsafelyUnwrapped)
                if home(hasher.hash(entry.key)) == bucket { body(entry) }
            }
            index = (index + 1) & mask
            probes += 1
        }
    }
}
