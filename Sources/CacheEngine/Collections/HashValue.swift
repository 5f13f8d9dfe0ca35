/// When a hash or a sorted set moves from its packed encoding to its table: Redis's
/// `hash-max-listpack-entries` / `-value` and `zset-max-listpack-entries` / `-value`.
public struct ListpackLimits: Sendable, Equatable {
    public var maxPackedEntries: Int
    public var maxPackedValue: Int

    /// redis-server 7's built-in defaults (its sample redis.conf lowers the hash entries to 128).
    public static let hashDefaults = ListpackLimits(maxPackedEntries: 512, maxPackedValue: 64)
    public static let sortedSetDefaults = ListpackLimits(maxPackedEntries: 128, maxPackedValue: 64)

    public init(maxPackedEntries: Int, maxPackedValue: Int) {
        self.maxPackedEntries = maxPackedEntries
        self.maxPackedValue = maxPackedValue
    }
}

/// A hash: fields and their values, packed back to back while the hash is small
/// (`PackedHashFields`, Redis's listpack) and in an indexed table of `HashField`s past
/// `ListpackLimits`, once and for good, as Redis converts a listpack to a hashtable.
final class HashValue: CollectionValue {
    private enum Storage {
        case packed(PackedHashFields)
        case table(IndexedTable<HashField>)
    }

    private var storage = Storage.packed(PackedHashFields())

    init() {
        super.init(footprint: Self.objectCost)
    }

    override var count: Int {
        switch storage {
        case .packed(let packed): packed.count
        case .table(let table): table.count
        }
    }

    override var kind: ValueKind { .hash }

    override var encodingName: String {
        if case .packed = storage { return "listpack" }
        return "hashtable"
    }

    /// What a field of `storedCount` packed bytes costs in the table: its chunk and its place.
    static func tableCost(storedCount: Int) -> Int {
        elementCost(storedCount) + indexedKeyCost
    }

    func contains(_ field: UnsafeRawBufferPointer) -> Bool {
        switch storage {
        case .packed(let packed): packed.contains(field)
        case .table(let table): table.position(of: field) != nil
        }
    }

    /// Calls `body` with `field` and its value; nil when the field is absent.
    func withField<R>(_ field: UnsafeRawBufferPointer, _ body: (HashFieldView) -> R) -> R? {
        switch storage {
        case .packed(let packed): packed.withField(field, body)
        case .table(let table): table[field]?.withView(body)
        }
    }

    /// The value of a field as clients see it, in an array of its own.
    func value(_ field: UnsafeRawBufferPointer) -> [UInt8]? {
        withField(field) { view in view.withValueBytes { Array($0) } }
    }

    func value(_ field: [UInt8]) -> [UInt8]? { field.withUnsafeBytes { value($0) } }

    /// Calls `body` with every field and its value, in the hash's order.
    func forEach(_ body: (HashFieldView) -> Void) {
        switch storage {
        case .packed(let packed): packed.forEach(body)
        case .table(let table): for field in table.elements { field.withView(body) }
        }
    }

    /// The fields in the hash's order, each a `HashField` of its own — for the commands that
    /// pick fields by position (HRANDFIELD, HSCAN). A table hands its own over; a packed hash
    /// (at most `maxPackedEntries` fields) copies them.
    var fields: ContiguousArray<HashField> {
        switch storage {
        case .table(let table):
            return table.elements
        case .packed(let packed):
            var fields = ContiguousArray<HashField>()
            fields.reserveCapacity(packed.count)
            packed.forEach { fields.append(HashField(field: $0.field, value: $0.storedValue, compressed: $0.compressed)) }
            return fields
        }
    }

    /// Sets a field to a value given in stored form (`compressed`: in the compressor's form);
    /// returns whether the field is new. `valueCount` is the value's length as clients see it,
    /// which with the field's and the count decides the encoding, as in Redis.
    @discardableResult
    func set(_ field: UnsafeRawBufferPointer, storedValue: UnsafeRawBufferPointer, compressed: Bool, valueCount: Int,
             limits: ListpackLimits) -> Bool {
        if case .packed(var packed) = storage {
            let fitsPacked = field.count <= limits.maxPackedValue && valueCount <= limits.maxPackedValue
            if fitsPacked {
                // Take the packed fields out of `storage` while they change, so the array is
                // uniquely referenced and grows in place.
                storage = .table(IndexedTable())
                let added = packed.set(field, storedValue: storedValue, compressed: compressed)
                if packed.count <= limits.maxPackedEntries {
                    storage = .packed(packed)
                    footprint = Self.objectCost + Self.elementCost(packed.capacity)
                    return added
                }
                convertToTable(packed)
                return added
            }
            convertToTable(packed)
        }
        guard case .table(var table) = storage else { preconditionFailure("a hash is packed or a table") }
        storage = .packed(PackedHashFields())
        var made = 0
        let old = table.upsert(field) {
            let packed = HashField(field: field, value: storedValue, compressed: compressed)
            made = packed.storedCount
            return packed
        }
        storage = .table(table)
        footprint += Self.tableCost(storedCount: made) - (old.map { Self.tableCost(storedCount: $0.storedCount) } ?? 0)
        return old == nil
    }

    /// Moves every field of `packed` into an indexed table, keeping their order.
    private func convertToTable(_ packed: PackedHashFields) {
        var table = IndexedTable<HashField>()
        var cost = Self.objectCost
        packed.forEach { view in
            let field = HashField(field: view.field, value: view.storedValue, compressed: view.compressed)
            cost += Self.tableCost(storedCount: field.storedCount)
            table.upsert(view.field) { field }
        }
        storage = .table(table)
        footprint = cost
    }

    /// Sets a field to a plain value (snapshots, HINCRBY's results).
    @discardableResult
    func set(_ field: [UInt8], _ value: [UInt8], limits: ListpackLimits) -> Bool {
        field.withUnsafeBytes { field in
            value.withUnsafeBytes { set(field, storedValue: $0, compressed: false, valueCount: $0.count, limits: limits) }
        }
    }

    @discardableResult
    func remove(_ field: UnsafeRawBufferPointer) -> Bool {
        switch storage {
        case .packed(var packed):
            storage = .table(IndexedTable())
            let removed = packed.remove(field)
            storage = .packed(packed)
            footprint = Self.objectCost + Self.elementCost(packed.capacity)
            return removed
        case .table(var table):
            storage = .packed(PackedHashFields())
            let old = table.remove(field)
            storage = .table(table)
            guard let old else { return false }
            footprint -= Self.tableCost(storedCount: old.storedCount)
            return true
        }
    }

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(count)
        forEach { view in
            bytes.appendBlob(view.field)
            view.withValueBytes { bytes.appendBlob($0) }
        }
    }

    static func decode(_ reader: inout CollectionReader, limits: ListpackLimits) -> HashValue? {
        guard let count = reader.uvarint() else { return nil }
        let hash = HashValue()
        for _ in 0..<count {
            guard let field = reader.blob(), let value = reader.blob() else { return nil }
            hash.set(field, value, limits: limits)
        }
        return hash
    }
}
