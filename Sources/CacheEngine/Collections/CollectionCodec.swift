/// The portable form of a collection, for snapshots and replication: a count, then each
/// element as a length-prefixed blob (and a sorted set's score as IEEE-754 bits). The kind
/// travels beside it, as the record's type tag.
enum CollectionCodec {
    static func encode(_ collection: CollectionValue) -> [UInt8] {
        var bytes: [UInt8] = []
        collection.encode(into: &bytes)
        return bytes
    }

    /// Decodes a collection of `kind`; nil for a malformed encoding or a string kind. A hash or
    /// a set takes the encoding `configuration`'s limits give its contents.
    static func decode(kind: ValueKind, _ bytes: UnsafeRawBufferPointer, configuration: EngineConfiguration) -> CollectionValue? {
        var reader = CollectionReader(bytes)
        let value: CollectionValue?
        switch kind {
        case .string: return nil
        case .hash: value = HashValue.decode(&reader, limits: configuration.hashEncoding)
        case .list: value = ListValue.decode(&reader)
        case .set: value = SetValue.decode(&reader, maxIntegers: configuration.setMaxIntsetEntries)
        case .zset: value = SortedSetValue.decode(&reader, limits: configuration.sortedSetEncoding)
        }
        guard reader.isAtEnd else { return nil }
        return value
    }
}

/// Reads the portable form with bounds checks.
struct CollectionReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { position == bytes.count }

    mutating func uvarint() -> Int? {
        var value = 0
        var shift = 0
        while position < bytes.count && shift < 63 {
            let byte = bytes[position]
            position += 1
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    mutating func blob() -> [UInt8]? {
        guard let length = uvarint(), length <= bytes.count - position else { return nil }
        defer { position += length }
        return Array(bytes[position..<(position + length)])
    }

    mutating func u64() -> UInt64? {
        guard bytes.count - position >= 8 else { return nil }
        defer { position += 8 }
        return bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self).littleEndian
    }
}

extension Array where Element == UInt8 {
    mutating func appendBlob(_ blob: some Collection<UInt8>) {
        appendUVarint(blob.count)
        append(contentsOf: blob)
    }
}
