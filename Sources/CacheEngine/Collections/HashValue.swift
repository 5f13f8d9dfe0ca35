/// A hash: fields and their values, each pair packed in one `HashField` (values compressed
/// when that pays, as string values are).
final class HashValue: CollectionValue {
    private(set) var table = IndexedTable<HashField>()

    init() {
        super.init(footprint: Self.objectCost)
    }

    override var count: Int { table.count }
    override var kind: ValueKind { .hash }
    /// Redis reports `listpack` for small hashes and `hashtable` beyond 128 fields or 64-byte
    /// values; Ringcache has one representation and names it by the same thresholds.
    override var encodingName: String {
        table.count <= 128 && !table.elements.contains { $0.fieldCount > 64 || $0.valueCount > 64 } ? "listpack" : "hashtable"
    }

    /// What a field of `storedCount` packed bytes costs: its chunk and its place in the table.
    static func cost(storedCount: Int) -> Int {
        elementCost(storedCount) + indexedKeyCost
    }

    /// The fields in table order; a position stays valid until the hash changes.
    var fields: ContiguousArray<HashField> { table.elements }

    func field(_ field: UnsafeRawBufferPointer) -> HashField? { table[field] }

    func field(_ field: [UInt8]) -> HashField? { table[field] }

    /// The value of a field as clients see it, in an array of its own.
    func value(_ field: [UInt8]) -> [UInt8]? { table[field]?.value }

    func value(_ field: UnsafeRawBufferPointer) -> [UInt8]? { table[field]?.value }

    /// Sets a field to a value given in stored form (`compressed`: in the compressor's form);
    /// returns whether the field is new.
    @discardableResult
    func set(_ field: UnsafeRawBufferPointer, storedValue: UnsafeRawBufferPointer, compressed: Bool) -> Bool {
        var made = 0
        let old = table.upsert(field) {
            let packed = HashField(field: field, value: storedValue, compressed: compressed)
            made = packed.storedCount
            return packed
        }
        footprint += Self.cost(storedCount: made) - (old.map { Self.cost(storedCount: $0.storedCount) } ?? 0)
        return old == nil
    }

    @discardableResult
    func set(_ field: [UInt8], _ value: [UInt8]) -> Bool {
        field.withUnsafeBytes { field in value.withUnsafeBytes { set(field, storedValue: $0, compressed: false) } }
    }

    @discardableResult
    func remove(_ field: [UInt8]) -> Bool {
        field.withUnsafeBytes { remove($0) }
    }

    @discardableResult
    func remove(_ field: UnsafeRawBufferPointer) -> Bool {
        guard let old = table.remove(field) else { return false }
        footprint -= Self.cost(storedCount: old.storedCount)
        return true
    }

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(table.count)
        for field in table.elements {
            field.withKeyBytes { bytes.appendBlob($0) }
            field.withValueBytes { bytes.appendBlob($0) }
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
    private(set) var table = IndexedTable<[UInt8]>()

    init() {
        super.init(footprint: Self.objectCost)
    }

    override var count: Int { table.count }
    override var kind: ValueKind { .set }
    override var encodingName: String {
        if table.count <= 512 && table.elements.allSatisfy({ $0.withUnsafeBytes { ByteParsing.int64($0) != nil } }) { return "intset" }
        return table.count <= 128 && !table.elements.contains { $0.count > 64 } ? "listpack" : "hashtable"
    }

    func contains(_ member: [UInt8]) -> Bool { table.position(of: member) != nil }

    func contains(_ member: UnsafeRawBufferPointer) -> Bool { table.position(of: member) != nil }

    @discardableResult
    func insert(_ member: [UInt8]) -> Bool {
        guard member.withUnsafeBytes({ table.insert($0) { member } }) else { return false }
        footprint += Self.elementCost(member.count) + Self.indexedKeyCost
        return true
    }

    /// Adds a member straight from argument bytes, copying them only when it is new.
    @discardableResult
    func insert(_ member: UnsafeRawBufferPointer) -> Bool {
        guard table.insert(member, { Array(member) }) else { return false }
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

    var members: ContiguousArray<[UInt8]> { table.elements }

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(table.count)
        for member in table.elements { bytes.appendBlob(member) }
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
