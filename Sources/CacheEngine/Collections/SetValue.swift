/// A set of byte strings: an `IntegerSet` while every member is a canonical integer and
/// there are at most `set-max-intset-entries` of them (Redis's intset, with its rules), and an
/// indexed table of member arrays once either stops holding, for good.
final class SetValue: CollectionValue {
    private enum Storage {
        case integers(IntegerSet)
        case table(IndexedTable<[UInt8]>)
    }

    private var storage = Storage.integers(IntegerSet())

    init() {
        super.init(footprint: Self.objectCost)
    }

    override var count: Int {
        switch storage {
        case .integers(let integers): integers.count
        case .table(let table): table.count
        }
    }

    override var kind: ValueKind { .set }

    /// `intset` or `hashtable`, as Redis 7.0 names a set's encodings.
    override var encodingName: String {
        if case .integers = storage { return "intset" }
        return "hashtable"
    }

    func contains(_ member: [UInt8]) -> Bool { member.withUnsafeBytes { contains($0) } }

    func contains(_ member: UnsafeRawBufferPointer) -> Bool {
        switch storage {
        case .integers(let integers):
            guard let value = IntegerSet.canonicalInteger(member) else { return false }
            return integers.contains(value)
        case .table(let table):
            return table.position(of: member) != nil
        }
    }

    /// Adds a member; returns whether it is new. `maxIntegers` is `set-max-intset-entries`.
    @discardableResult
    func insert(_ member: [UInt8], maxIntegers: Int) -> Bool {
        member.withUnsafeBytes { insert($0, maxIntegers: maxIntegers, makeArray: { member }) }
    }

    /// Adds a member straight from argument bytes, copying them only when it is new.
    @discardableResult
    func insert(_ member: UnsafeRawBufferPointer, maxIntegers: Int) -> Bool {
        insert(member, maxIntegers: maxIntegers, makeArray: { Array(member) })
    }

    private func insert(_ member: UnsafeRawBufferPointer, maxIntegers: Int, makeArray: () -> [UInt8]) -> Bool {
        if case .integers(var integers) = storage {
            if let value = IntegerSet.canonicalInteger(member) {
                // Out of `storage` while it changes, so its array is uniquely referenced.
                storage = .table(IndexedTable())
                let added = integers.insert(value)
                if integers.count <= maxIntegers {
                    storage = .integers(integers)
                    footprint = Self.objectCost + Self.elementCost(integers.capacity)
                } else {
                    convertToTable(integers)
                }
                return added
            }
            convertToTable(integers)
        }
        guard case .table(var table) = storage else { preconditionFailure("a set is integers or a table") }
        storage = .integers(IntegerSet())
        let added = table.insert(member, makeArray)
        storage = .table(table)
        if added { footprint += Self.elementCost(member.count) + Self.indexedKeyCost }
        return added
    }

    /// Moves every value into a table of member arrays, in ascending order.
    private func convertToTable(_ integers: IntegerSet) {
        var table = IndexedTable<[UInt8]>()
        var cost = Self.objectCost
        for position in 0..<integers.count {
            integers.withMember(at: position) { member in
                table.insert(member) { Array(member) }
                cost += Self.elementCost(member.count) + Self.indexedKeyCost
            }
        }
        storage = .table(table)
        footprint = cost
    }

    @discardableResult
    func remove(_ member: [UInt8]) -> Bool {
        member.withUnsafeBytes { remove($0) }
    }

    @discardableResult
    func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        switch storage {
        case .integers(var integers):
            guard let value = IntegerSet.canonicalInteger(member) else { return false }
            storage = .table(IndexedTable())
            let removed = integers.remove(value)
            storage = .integers(integers)
            footprint = Self.objectCost + Self.elementCost(integers.capacity)
            return removed
        case .table(var table):
            storage = .integers(IntegerSet())
            let removed = table.remove(member) != nil
            storage = .table(table)
            if removed { footprint -= Self.elementCost(member.count) + Self.indexedKeyCost }
            return removed
        }
    }

    /// The member at `position` (below `count`), in an array of its own: SPOP's and
    /// SRANDMEMBER's uniform pick.
    func member(at position: Int) -> [UInt8] {
        switch storage {
        case .integers(let integers): integers.withMember(at: position) { Array($0) }
        case .table(let table): table.elements[position]
        }
    }

    /// Calls `body` with every member's bytes, valid during the call: integers ascending, a
    /// table in its order.
    func forEachMember(_ body: (UnsafeRawBufferPointer) -> Void) {
        switch storage {
        case .integers(let integers):
            for position in 0..<integers.count { integers.withMember(at: position, body) }
        case .table(let table):
            for member in table.elements { member.withUnsafeBytes(body) }
        }
    }

    /// Every member in an array of its own; a table hands its own over.
    var members: ContiguousArray<[UInt8]> {
        if case .table(let table) = storage { return table.elements }
        var members = ContiguousArray<[UInt8]>()
        members.reserveCapacity(count)
        forEachMember { members.append(Array($0)) }
        return members
    }

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(count)
        forEachMember { bytes.appendBlob($0) }
    }

    static func decode(_ reader: inout CollectionReader, maxIntegers: Int) -> SetValue? {
        guard let count = reader.uvarint() else { return nil }
        let set = SetValue()
        for _ in 0..<count {
            guard let member = reader.blob() else { return nil }
            set.insert(member, maxIntegers: maxIntegers)
        }
        return set
    }
}
