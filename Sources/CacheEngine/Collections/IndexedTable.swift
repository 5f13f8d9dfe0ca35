/// What an `IndexedTable` holds: an element found by byte-string key it carries (a set's
/// member is its own key; a hash's `HashField` carries its field).
protocol IndexedElement {
    /// Calls `body` with the bytes this element is found by, valid during the call only.
    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
}

extension Array: IndexedElement where Element == UInt8 {
    @inline(__always)
    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { withUnsafeBytes(body) }
}

/// Elements found by byte-string keys, in a dense array plus a hash index of positions: O(1)
/// lookup, insert and delete (a deleted slot is filled by the last element), and O(1) access
/// by position, which is what makes SPOP, SRANDMEMBER and HRANDFIELD uniform without a walk.
///
/// The index is an open-addressing table of 8-byte slots, each a key's 32-bit hash and its
/// position in the array, probed linearly and kept at most 3/4 full; a deletion shifts the
/// rest of its run back (Knuth's Algorithm R), so there are no tombstones. Against the Swift
/// dictionary it replaces, that is 8 bytes a slot instead of 16 (a key reference and a
/// position), and a lookup straight from argument bytes: no array is made for the key only
/// to look it up, and its bytes are hashed in one call.
///
/// A lookup compares the stored hash before it touches a key, so a probe costs a key's
/// cache line only on a probable match. Hashes are seeded per process
/// (`collectionKeyHasher`), as the keyspace's are, so clients cannot aim collisions at one
/// member list.
struct IndexedTable<Element: IndexedElement> {
    private(set) var elements: ContiguousArray<Element> = []
    /// 0 = empty; otherwise `hash << 32 | (position + 1)`. Empty or a power of two long.
    private var slots: [UInt64] = []

    /// Generic types cannot have stored statics, hence a computed one.
    static var minimumCapacity: Int { 8 }

    init() {}

    var count: Int { elements.count }
    var isEmpty: Bool { elements.isEmpty }

    /// Index slots allocated (the tests check the 3/4 load bound against it).
    var indexCapacity: Int { slots.count }

    func position(of key: [UInt8]) -> Int? {
        key.withUnsafeBytes { position(of: $0) }
    }

    func position(of key: UnsafeRawBufferPointer) -> Int? {
        find(key, hash: Self.hash(key)).position
    }

    subscript(key: [UInt8]) -> Element? {
        position(of: key).map { elements[$0] }
    }

    subscript(key: UnsafeRawBufferPointer) -> Element? {
        position(of: key).map { elements[$0] }
    }

    /// Adds the element `make` builds for `key` unless `key` is present; returns whether it
    /// was added. `make` runs only when it is.
    @discardableResult
    mutating func insert(_ key: UnsafeRawBufferPointer, _ make: () -> Element) -> Bool {
        let hash = Self.hash(key)
        let (slot, position) = find(key, hash: hash)
        guard position == nil else { return false }
        append(make(), hash: hash, freeSlot: slot)
        return true
    }

    /// Stores the element `make` builds for `key`, in place of the one there if any; returns
    /// the element it replaced.
    @discardableResult
    mutating func upsert(_ key: UnsafeRawBufferPointer, _ make: () -> Element) -> Element? {
        let hash = Self.hash(key)
        let (slot, position) = find(key, hash: hash)
        if let position {
            let old = elements[position]
            elements[position] = make()
            return old
        }
        append(make(), hash: hash, freeSlot: slot)
        return nil
    }

    private mutating func append(_ element: Element, hash: UInt32, freeSlot slot: Int) {
        if (elements.count + 1) * 4 > slots.count * 3 {
            grow()
            // The slot found belongs to the old index; insert into the new one.
            insertSlot(hash: hash, position: elements.count)
        } else {
            slots[slot] = Self.slot(hash: hash, position: elements.count)
        }
        elements.append(element)
    }

    /// Removes `key`; returns its element if it was present.
    @discardableResult
    mutating func remove(_ key: [UInt8]) -> Element? {
        key.withUnsafeBytes { remove($0) }
    }

    /// Removes `key`; returns its element if it was present.
    @discardableResult
    mutating func remove(_ key: UnsafeRawBufferPointer) -> Element? {
        let (slot, found) = find(key, hash: Self.hash(key))
        guard let position = found else { return nil }
        deleteSlot(slot)
        let removed = elements[position]
        let last = elements.removeLast()
        if position < elements.count {
            // The last element fills the hole; its slot learns its new position.
            let lastSlot = slotOf(position: elements.count, hash: last.withKeyBytes { Self.hash($0) })
            slots[lastSlot] = Self.slot(hash: Self.storedHash(slots[lastSlot]), position: position)
            elements[position] = last
        }
        return removed
    }

    mutating func removeAll() {
        elements = []
        slots = []
    }

    // MARK: The index

    /// The 32-bit hash kept in a slot; its low bits pick the key's home slot.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(truncatingIfNeeded: collectionKeyHasher.hash(key) >> 32)
    }

    @inline(__always)
    private static func slot(hash: UInt32, position: Int) -> UInt64 {
        UInt64(hash) << 32 | UInt64(position + 1)
    }

    @inline(__always)
    private static func storedHash(_ slot: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: slot >> 32) }

    @inline(__always)
    private static func storedPosition(_ slot: UInt64) -> Int { Int(UInt32(truncatingIfNeeded: slot)) - 1 }

    /// The slot holding `key`, or the empty slot ending its probe run (where it would go).
    private func find(_ key: UnsafeRawBufferPointer, hash: UInt32) -> (slot: Int, position: Int?) {
        guard !slots.isEmpty else { return (0, nil) }
        let mask = slots.count - 1
        var index = Int(hash) & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return (index, nil) }
            if Self.storedHash(slot) == hash {
                let position = Self.storedPosition(slot)
                let matches = elements[position].withKeyBytes { ByteOrder.equal($0, key) }
                if matches { return (index, position) }
            }
            index = (index + 1) & mask
        }
    }

    /// The slot of the element at `position`, whose key hashes to `hash`.
    private func slotOf(position: Int, hash: UInt32) -> Int {
        let mask = slots.count - 1
        var index = Int(hash) & mask
        while Self.storedPosition(slots[index]) != position {
            index = (index + 1) & mask
        }
        return index
    }

    private mutating func insertSlot(hash: UInt32, position: Int) {
        let mask = slots.count - 1
        var index = Int(hash) & mask
        while slots[index] != 0 {
            index = (index + 1) & mask
        }
        slots[index] = Self.slot(hash: hash, position: position)
    }

    /// Empties `hole` and moves back every later slot of its run that may move, so that no
    /// key is left beyond an empty slot from its home (Knuth, TAOCP vol. 3, 6.4, Algorithm R).
    private mutating func deleteSlot(_ hole: Int) {
        let mask = slots.count - 1
        var hole = hole
        var index = (hole + 1) & mask
        while slots[index] != 0 {
            let home = Int(Self.storedHash(slots[index])) & mask
            // The slot at `index` may fill the hole unless its home lies cyclically in
            // (hole, index].
            if (index - home) & mask >= (index - hole) & mask {
                slots[hole] = slots[index]
                hole = index
            }
            index = (index + 1) & mask
        }
        slots[hole] = 0
    }

    /// Doubles the index (or makes the first one) and places every stored slot again; the
    /// hashes are kept in the slots, so no key is hashed again.
    private mutating func grow() {
        let old = slots
        slots = Array(repeating: 0, count: Swift.max(Self.minimumCapacity, old.count * 2))
        for slot in old where slot != 0 {
            insertSlot(hash: Self.storedHash(slot), position: Self.storedPosition(slot))
        }
    }
}

/// The hasher of every collection index: seeded once per process from the system's random
/// source, so a client cannot pick members that collide.
private let collectionKeyHasher = KeyHasher(seed: UInt64.random(in: .min ... .max))
