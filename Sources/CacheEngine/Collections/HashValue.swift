/// A hash: fields and their values (values compressed when that pays, see `StoredBytes`).
final class HashValue: CollectionValue {
    var table = IndexedTable<StoredBytes>()

    init() {
        super.init(footprint: Self.objectCost)
    }

    override var count: Int { table.count }
    override var kind: ValueKind { .hash }
    /// Redis reports `listpack` for small hashes and `hashtable` beyond 128 fields or 64-byte
    /// values; Ringcache has one representation and names it by the same thresholds.
    override var encodingName: String {
        table.count <= 128 && !table.values.contains { $0.count > 64 } && !table.keys.contains { $0.count > 64 } ? "listpack" : "hashtable"
    }

    static func cost(field: Int, value: Int) -> Int {
        elementCost(field) + elementCost(value) + indexedKeyCost + valueSlotCost
    }

    /// The value of a field as clients see it.
    func value(_ field: [UInt8]) -> [UInt8]? { table[field]?.bytes }

    func value(_ field: UnsafeRawBufferPointer) -> [UInt8]? { table[field]?.bytes }

    /// Sets a field; returns whether it is new.
    @discardableResult
    func set(_ field: [UInt8], _ value: StoredBytes) -> Bool {
        noteSet(fieldCount: field.count, value, replacing: table.set(field, value))
    }

    /// Sets a field straight from argument bytes, copying them only when the field is new.
    @discardableResult
    func set(_ field: UnsafeRawBufferPointer, _ value: StoredBytes) -> Bool {
        noteSet(fieldCount: field.count, value, replacing: table.set(field, value))
    }

    private func noteSet(fieldCount: Int, _ value: StoredBytes, replacing old: StoredBytes?) -> Bool {
        if let old {
            footprint += Self.elementCost(value.storedCount) - Self.elementCost(old.storedCount)
            return false
        }
        footprint += Self.cost(field: fieldCount, value: value.storedCount)
        return true
    }

    @discardableResult
    func set(_ field: [UInt8], _ value: [UInt8]) -> Bool {
        set(field, .plain(value))
    }

    @discardableResult
    func remove(_ field: [UInt8]) -> Bool {
        field.withUnsafeBytes { remove($0) }
    }

    @discardableResult
    func remove(_ field: UnsafeRawBufferPointer) -> Bool {
        guard let old = table.remove(field) else { return false }
        footprint -= Self.cost(field: field.count, value: old.storedCount)
        return true
    }

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(table.count)
        for index in 0..<table.count {
            bytes.appendBlob(table.keys[index])
            bytes.appendBlob(table.values[index].bytes)
        }
    }

    static func decode(_ reader: inout CollectionReader) -> HashValue? {
        guard let count = reader.uvarint() else { return nil }
        let hash = HashValue()
        for _ in 0..<count {
            guard let field = reader.blob(), let value = reader.blob() else { return nil }
            hash.set(field, value)
        }
        return hash
    }

}

/// A set of byte strings.
final class SetValue: CollectionValue {
    var table = IndexedTable<Void>()

    init() {
        super.init(footprint: Self.objectCost)
    }

    override var count: Int { table.count }
    override var kind: ValueKind { .set }
    override var encodingName: String {
        if table.count <= 512 && table.keys.allSatisfy({ $0.withUnsafeBytes { ByteParsing.int64($0) != nil } }) { return "intset" }
        return table.count <= 128 && !table.keys.contains { $0.count > 64 } ? "listpack" : "hashtable"
    }

    func contains(_ member: [UInt8]) -> Bool { table.position(of: member) != nil }

    func contains(_ member: UnsafeRawBufferPointer) -> Bool { table.position(of: member) != nil }

    @discardableResult
    func insert(_ member: [UInt8]) -> Bool {
        guard table.set(member, ()) == nil else { return false }
        footprint += Self.elementCost(member.count) + Self.indexedKeyCost
        return true
    }

    /// Adds a member straight from argument bytes, copying them only when it is new.
    @discardableResult
    func insert(_ member: UnsafeRawBufferPointer) -> Bool {
        guard table.set(member, ()) == nil else { return false }
        footprint += Self.elementCost(member.count) + Self.indexedKeyCost
        return true
    }

    @discardableResult
    func remove(_ member: [UInt8]) -> Bool {
        member.withUnsafeBytes { remove($0) }
    }

    @discardableResult
    func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        guard table.remove(member) != nil else { return false }
        footprint -= Self.elementCost(member.count) + Self.indexedKeyCost
        return true
    }

    var members: ContiguousArray<[UInt8]> { table.keys }

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(table.count)
        for member in table.keys { bytes.appendBlob(member) }
    }

    static func decode(_ reader: inout CollectionReader) -> SetValue? {
        guard let count = reader.uvarint() else { return nil }
        let set = SetValue()
        for _ in 0..<count {
            guard let member = reader.blob() else { return nil }
            set.insert(member)
        }
        return set
    }

}
