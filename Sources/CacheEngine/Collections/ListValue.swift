/// A list: a ring buffer of byte strings, so pushes and pops at both ends are O(1) and
/// LINDEX and LSET are O(1) by position (Redis's quicklist makes them O(n)). Elements are
/// compressed when that pays (`StoredBytes`).
final class ListValue: CollectionValue {
    private var storage: ContiguousArray<StoredBytes> = []
    private var head = 0
    private(set) var length = 0

    init() {
        super.init(footprint: Self.objectCost)
    }

    override var count: Int { length }
    override var kind: ValueKind { .list }
    override var encodingName: String { "quicklist" }

    static func cost(_ element: StoredBytes) -> Int { elementCost(element.storedCount) + 8 }

    private var capacity: Int { storage.count }

    private func physical(_ index: Int) -> Int {
        let position = head + index
        return position >= capacity ? position - capacity : position
    }

    /// The element at `index` as clients see it.
    subscript(index: Int) -> [UInt8] { storage[physical(index)].bytes }

    func replace(at index: Int, with element: StoredBytes) {
        let position = physical(index)
        footprint += Self.cost(element) - Self.cost(storage[position])
        storage[position] = element
    }

    private func grow() {
        let newCapacity = Swift.max(8, capacity * 2)
        var grown = ContiguousArray<StoredBytes>(repeating: .empty, count: newCapacity)
        for index in 0..<length { grown[index] = storage[physical(index)] }
        footprint += (newCapacity - capacity) * 8
        storage = grown
        head = 0
    }

    private func shrinkIfSparse() {
        guard capacity > 64, length * 4 < capacity else { return }
        let newCapacity = Swift.max(8, capacity / 2)
        var shrunk = ContiguousArray<StoredBytes>(repeating: .empty, count: newCapacity)
        for index in 0..<length { shrunk[index] = storage[physical(index)] }
        footprint -= (capacity - newCapacity) * 8
        storage = shrunk
        head = 0
    }

    func pushFront(_ element: StoredBytes) {
        if length == capacity { grow() }
        head = head == 0 ? capacity - 1 : head - 1
        storage[head] = element
        length += 1
        footprint += Self.cost(element)
    }

    func pushBack(_ element: StoredBytes) {
        if length == capacity { grow() }
        storage[physical(length)] = element
        length += 1
        footprint += Self.cost(element)
    }

    func popFront() -> StoredBytes? {
        guard length > 0 else { return nil }
        let element = storage[head]
        storage[head] = .empty
        head = head + 1 == capacity ? 0 : head + 1
        length -= 1
        footprint -= Self.cost(element)
        shrinkIfSparse()
        return element
    }

    func popBack() -> StoredBytes? {
        guard length > 0 else { return nil }
        let position = physical(length - 1)
        let element = storage[position]
        storage[position] = .empty
        length -= 1
        footprint -= Self.cost(element)
        shrinkIfSparse()
        return element
    }

    /// The elements in order, as stored (O(n); for LINSERT and LREM, O(n) in Redis too).
    var storedElements: [StoredBytes] { (0..<length).map { storage[physical($0)] } }

    /// Replaces the whole content.
    func replaceAll(with elements: [StoredBytes]) {
        var cost = 0
        for index in 0..<length { cost += Self.cost(storage[physical(index)]) }
        footprint -= cost + capacity * 8
        storage = ContiguousArray(elements)
        if storage.count < 8 { storage.append(contentsOf: repeatElement(.empty, count: 8 - storage.count)) }
        head = 0
        length = elements.count
        footprint += capacity * 8
        for element in elements { footprint += Self.cost(element) }
    }

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(length)
        for index in 0..<length { bytes.appendBlob(self[index]) }
    }

    static func decode(_ reader: inout CollectionReader) -> ListValue? {
        guard let count = reader.uvarint() else { return nil }
        let list = ListValue()
        for _ in 0..<count {
            guard let element = reader.blob() else { return nil }
            list.pushBack(.plain(element))
        }
        return list
    }

}
