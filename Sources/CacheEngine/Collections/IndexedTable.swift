/// Byte-string keys with values, in a dense array plus a position index: O(1) lookup, insert
/// and delete (a deleted slot is filled by the last element), and O(1) access by position,
/// which is what makes SPOP, SRANDMEMBER and HRANDFIELD uniform without a walk.
///
/// The index shares each key's storage with the array (copy-on-write), so a key's bytes are
/// stored once.
struct IndexedTable<Value> {
    private(set) var keys: ContiguousArray<[UInt8]> = []
    private(set) var values: ContiguousArray<Value> = []
    private var positions: [ByteKey: Int] = [:]

    init() {}

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }

    func position(of key: [UInt8]) -> Int? { positions[ByteKey(key)] }

    func position(of key: UnsafeRawBufferPointer) -> Int? { positions[ByteKey(Array(key))] }

    subscript(key: [UInt8]) -> Value? {
        positions[ByteKey(key)].map { values[$0] }
    }

    /// Sets `key` to `value`; returns the value it replaced, if any.
    @discardableResult
    mutating func set(_ key: [UInt8], _ value: Value) -> Value? {
        if let position = positions[ByteKey(key)] {
            let old = values[position]
            values[position] = value
            return old
        }
        positions[ByteKey(key)] = keys.count
        keys.append(key)
        values.append(value)
        return nil
    }

    /// Removes `key`; returns its value if it was present.
    @discardableResult
    mutating func remove(_ key: [UInt8]) -> Value? {
        guard let position = positions.removeValue(forKey: ByteKey(key)) else { return nil }
        let value = values[position]
        let lastKey = keys.removeLast()
        let lastValue = values.removeLast()
        if position < keys.count {
            keys[position] = lastKey
            values[position] = lastValue
            positions[ByteKey(lastKey)] = position
        }
        return value
    }

    mutating func removeAll() {
        keys = []
        values = []
        positions = [:]
    }
}
