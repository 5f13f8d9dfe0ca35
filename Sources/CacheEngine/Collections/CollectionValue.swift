/// A value of one of the collection types (hash, list, set, sorted set).
///
/// A collection lives in a Swift object of its own; the key's `Entry` holds a retained
/// reference to it in its eight value bytes (kind ≠ string). Strings stay inline in the entry,
/// so the per-key cost of the common case is unchanged.
///
/// Contract: `footprint` is what the collection's own allocations cost, allocator overhead
/// included, estimated from element sizes; every mutation keeps it current, and the engine
/// moves the difference into `used_memory` (see `Engine.mutate`). Elements are bytes, never
/// `String`.
class CollectionValue {
    var footprint: Int

    init(footprint: Int) {
        self.footprint = footprint
    }

    /// Elements (fields, members) held.
    var count: Int { preconditionFailure("abstract") }

    var kind: ValueKind { preconditionFailure("abstract") }

    /// The encoding name OBJECT ENCODING reports, in Redis's terms.
    var encodingName: String { preconditionFailure("abstract") }

    /// Appends the collection in the portable form snapshots and replication carry.
    func encode(into bytes: inout [UInt8]) { preconditionFailure("abstract") }

    /// What one element of `length` bytes costs as a Swift array: a 32-byte header plus the
    /// bytes, in a malloc chunk rounded to 16 with an 8-byte chunk header.
    @inline(__always)
    static func elementCost(_ length: Int) -> Int {
        length == 0 ? 0 : (32 + length + 8 + 15) & ~15
    }

    /// What a key of an `IndexedTable` costs beyond its bytes: its reference in the dense
    /// array (8) and its share of the index (8-byte slots kept between 3/8 and 3/4 full, 14
    /// on average), rounded up.
    static let indexedKeyCost = 24
    /// The object itself.
    static let objectCost = 64
}

extension Entry {
    /// The collection a non-string entry refers to (not retained again).
    var collection: CollectionValue {
        let pointer = raw.loadUnaligned(fromByteOffset: headerSize + keyLength, as: UnsafeRawPointer.self)
        return Unmanaged<CollectionValue>.fromOpaque(pointer).takeUnretainedValue()
    }

    var isCollection: Bool { kind != .string }

    /// Stores a +1 reference to `collection` in the value bytes (8 bytes, allocated by
    /// `allocate(valueLength: 8, kind: ...)`).
    func storeCollection(_ collection: CollectionValue) {
        let pointer = Unmanaged.passRetained(collection).toOpaque()
        (raw + headerSize + keyLength).storeBytes(of: UnsafeRawPointer(pointer), as: UnsafeRawPointer.self)
    }

    /// Copies another entry's value bytes into this one; a collection gains a reference, so
    /// both entries may be freed independently.
    func copyValue(from other: Entry) {
        if other.valueLength > 0 {
            value.baseAddress!.copyMemory(from: other.value.baseAddress!, byteCount: other.valueLength)
        }
        if other.isCollection { _ = Unmanaged.passUnretained(other.collection).retain() }
    }

    /// Frees the entry, dropping its reference to a collection.
    func free() {
        if isCollection { Unmanaged.passUnretained(collection).release() }
        raw.deallocate()
    }

    /// The footprint of the collection, 0 for a string.
    var collectionFootprint: Int { isCollection ? collection.footprint : 0 }
}

/// A list element as stored: its bytes, or LZ4-compressed in the compressor's
/// form (original length, then the block) when that saved an eighth — the same rule as for
/// string values (`value-compression-threshold`). Eight bytes, like the array it wraps: Swift
/// keeps the case in the reference's spare bits. Members of sets and sorted sets and hash
/// fields stay plain, since they are compared and hashed.
enum StoredBytes: Equatable {
    case plain([UInt8])
    case compressed([UInt8])

    /// The bytes as clients see them.
    var bytes: [UInt8] {
        switch self {
        case .plain(let bytes):
            return bytes
        case .compressed(let stored):
            let length = stored.withUnsafeBytes { Int($0.loadUnaligned(as: UInt32.self)) }
            var restored = [UInt8](repeating: 0, count: length)
            stored.withUnsafeBytes { source in
                restored.withUnsafeMutableBytes { ValueCompressor.decompress(source, into: $0) }
            }
            return restored
        }
    }

    /// The length clients see.
    var count: Int {
        switch self {
        case .plain(let bytes): bytes.count
        case .compressed(let stored): stored.withUnsafeBytes { Int($0.loadUnaligned(as: UInt32.self)) }
        }
    }

    /// What the stored form costs.
    var storedCount: Int {
        switch self {
        case .plain(let bytes), .compressed(let bytes): bytes.count
        }
    }

    static let empty = StoredBytes.plain([])
}

extension Engine {
    /// An element as it will be stored: compressed when that pays, else as given.
    func stored(_ bytes: UnsafeRawBufferPointer) -> StoredBytes {
        if let compressed = compressor.compress(bytes) { return .compressed(Array(compressed)) }
        return .plain(Array(bytes))
    }
}
