import CLZ4

/// The snapshot file format, version 1. All integers little-endian.
///
///     file    := header block* footer
///     header  := "RINGSNAP" version:u32 (=1) flags:u32 (=0) created:i64 (Unix ms) reserved:u64
///     block   := 'B' rawLength:u32 compressedLength:u32 records:u32 crc32c:u32 lz4-block
///                (crc32c covers the compressed bytes; a block holds up to 64 MiB of records)
///     footer  := 'E' totalRecords:u64 fileCRC:u32
///                (fileCRC is CRC-32C over every byte before it: header, blocks, 'E', count)
///     record  := type:u8 flags:u8 keyLength:uvarint key valueLength:uvarint value
///                [expiry:i64 if flags & 1] version:u64
///                type 0 = string; flags bit 0 = has expiry (absolute Unix ms), bit 1 = value is
///                stored LZ4-compressed (u32 original length, then the LZ4 block), as in memory;
///                version is the write's replication version (hybrid logical clock; 0 for a
///                key written while the node had no peers)
///
/// A file is written to a temporary name, fsynced and renamed over the old one, so a crash
/// mid-save leaves the previous snapshot whole. Loading checks every length, checksum and
/// count and reports the byte offset of the first thing wrong.
public enum SnapshotFormat {
    public static let magic = Array("RINGSNAP".utf8)
    public static let version: UInt32 = 1
    public static let headerLength = 32
    public static let blockHeaderLength = 17
    public static let footerLength = 13
    public static let maximumBlockLength = 64 * 1024 * 1024

    public static func header(created: Int64) -> [UInt8] {
        var bytes = magic
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(UInt32(0))
        bytes.appendLittleEndian(UInt64(bitPattern: created))
        bytes.appendLittleEndian(UInt64(0))
        return bytes
    }

    /// One block: its header followed by the LZ4-compressed records.
    public static func block(records: [UInt8], count: Int) -> [UInt8] {
        precondition(records.count <= maximumBlockLength)
        let bound = Int(LZ4_compressBound(Int32(records.count)))
        var compressed = [UInt8](repeating: 0, count: Swift.max(bound, 1))
        let compressedLength = records.withUnsafeBytes { source in
            compressed.withUnsafeMutableBytes { destination in
                Int(LZ4_compress_default(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self),
                    destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                    Int32(records.count), Int32(bound)))
            }
        }
        compressed.removeLast(compressed.count - compressedLength)
        var bytes: [UInt8] = [UInt8(ascii: "B")]
        bytes.appendLittleEndian(UInt32(records.count))
        bytes.appendLittleEndian(UInt32(compressedLength))
        bytes.appendLittleEndian(UInt32(count))
        bytes.appendLittleEndian(CRC32C.checksum(compressed))
        return bytes + compressed
    }

    /// The footer, given the checksum state over everything written before it.
    public static func footer(totalRecords: Int, checksum: CRC32C) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "E")]
        bytes.appendLittleEndian(UInt64(totalRecords))
        var crc = checksum
        crc.update(bytes)
        bytes.appendLittleEndian(crc.value)
        return bytes
    }

    /// What went wrong reading a snapshot, and where.
    public struct DecodingError: Error, Equatable, CustomStringConvertible {
        public var offset: Int
        public var reason: String

        public var description: String { "at offset \(offset): \(reason)" }
    }

    /// One key as stored in a snapshot.
    public struct Record {
        public var type: UInt8
        public var key: UnsafeRawBufferPointer
        /// The value as stored (compressed form when `compressed`).
        public var value: UnsafeRawBufferPointer
        public var compressed: Bool
        public var expiry: Int64?
        public var version: UInt64
    }

    /// Checks a whole snapshot and hands every record to `body`; returns the creation time.
    /// Nothing is handed over unless the entire file checks out: a truncated or corrupt file
    /// never half-loads.
    public static func decode(_ file: [UInt8], _ body: (Record) -> Void) throws(DecodingError) -> (created: Int64, records: Int) {
        var blocks: [(records: [UInt8], count: Int, offset: Int)] = []
        var reader = ByteReader(file)
        guard file.count >= headerLength + footerLength else {
            throw DecodingError(offset: file.count, reason: "file is truncated (\(file.count) bytes is shorter than a header and footer)")
        }
        guard Array(file[0..<8]) == magic else { throw DecodingError(offset: 0, reason: "not a Ringcache snapshot (bad magic)") }
        reader.offset = 8
        let version = try reader.u32()
        guard version == Self.version else { throw DecodingError(offset: 8, reason: "unsupported snapshot version \(version)") }
        _ = try reader.u32()
        let created = Int64(bitPattern: try reader.u64())
        _ = try reader.u64()
        var total = 0
        while true {
            let markerOffset = reader.offset
            let marker = try reader.u8()
            if marker == UInt8(ascii: "E") { break }
            guard marker == UInt8(ascii: "B") else {
                throw DecodingError(offset: markerOffset, reason: "expected a block or the footer, found byte \(marker)")
            }
            let rawLength = Int(try reader.u32())
            let compressedLength = Int(try reader.u32())
            let count = Int(try reader.u32())
            let expected = try reader.u32()
            guard rawLength <= maximumBlockLength, compressedLength <= Int(LZ4_compressBound(Int32(maximumBlockLength))) else {
                throw DecodingError(offset: markerOffset, reason: "block lengths out of range")
            }
            let dataOffset = reader.offset
            let compressed = try reader.bytes(compressedLength)
            guard CRC32C.checksum(Array(compressed)) == expected else {
                throw DecodingError(offset: dataOffset, reason: "block checksum mismatch")
            }
            var raw = [UInt8](repeating: 0, count: Swift.max(rawLength, 1))
            let restored = compressed.withUnsafeBytes { source in
                raw.withUnsafeMutableBytes { destination in
                    LZ4_decompress_safe(
                        source.baseAddress?.assumingMemoryBound(to: CChar.self),
                        destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                        Int32(compressedLength), Int32(rawLength))
                }
            }
            guard Int(restored) == rawLength else { throw DecodingError(offset: dataOffset, reason: "block does not decompress to its recorded length") }
            raw.removeLast(raw.count - rawLength)
            blocks.append((raw, count, dataOffset))
            total += count
        }
        let footerOffset = reader.offset - 1
        let recorded = Int(try reader.u64())
        let checksumOffset = reader.offset
        let fileChecksum = try reader.u32()
        guard reader.offset == file.count else {
            throw DecodingError(offset: reader.offset, reason: "\(file.count - reader.offset) unexpected bytes after the footer")
        }
        guard recorded == total else {
            throw DecodingError(offset: footerOffset, reason: "footer counts \(recorded) records, blocks hold \(total)")
        }
        var crc = CRC32C()
        file.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[0..<checksumOffset])) }
        guard crc.value == fileChecksum else { throw DecodingError(offset: checksumOffset, reason: "file checksum mismatch") }
        // Everything checks out: parse the records (their framing was checksummed too, but
        // parse defensively all the same) and hand them over.
        for block in blocks {
            let outcome: Result<Void, DecodingError> = block.records.withUnsafeBytes { raw in
                var position = 0
                do throws(DecodingError) {
                    for _ in 0..<block.count {
                        body(try parseRecord(raw, &position, blockOffset: block.offset))
                    }
                } catch {
                    return .failure(error)
                }
                guard position == raw.count else {
                    return .failure(DecodingError(offset: block.offset, reason: "block has bytes after its last record"))
                }
                return .success(())
            }
            try outcome.get()
        }
        return (created, total)
    }

    private static func parseRecord(_ raw: UnsafeRawBufferPointer, _ position: inout Int, blockOffset: Int) throws(DecodingError) -> Record {
        func fail(_ reason: String) -> DecodingError {
            DecodingError(offset: blockOffset, reason: "malformed record at byte \(position) of the block: \(reason)")
        }
        guard position + 2 <= raw.count else { throw fail("truncated") }
        let type = raw[position]
        let flags = raw[position + 1]
        position += 2
        guard ValueKind(rawValue: type) != nil else { throw fail("unknown type \(type)") }
        guard let keyLength = uvarint(raw, &position) else { throw fail("bad key length") }
        guard keyLength <= raw.count - position else { throw fail("key runs past the block") }
        let key = UnsafeRawBufferPointer(rebasing: raw[position..<(position + keyLength)])
        position += keyLength
        guard let valueLength = uvarint(raw, &position) else { throw fail("bad value length") }
        guard valueLength <= raw.count - position else { throw fail("value runs past the block") }
        let value = UnsafeRawBufferPointer(rebasing: raw[position..<(position + valueLength)])
        position += valueLength
        var expiry: Int64?
        if flags & 1 != 0 {
            guard position + 8 <= raw.count else { throw fail("truncated expiry") }
            expiry = Int64(bitPattern: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self).littleEndian)
            position += 8
        }
        guard position + 8 <= raw.count else { throw fail("truncated version") }
        let version = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self).littleEndian
        position += 8
        return Record(type: type, key: key, value: value, compressed: flags & 2 != 0, expiry: expiry, version: version)
    }

    private static func uvarint(_ raw: UnsafeRawBufferPointer, _ position: inout Int) -> Int? {
        var reader = CollectionReader(raw)
        reader.position = position
        defer { position = reader.position }
        return reader.uvarint()
    }

    /// Appends one record for `entry` (stored form, as in memory).
    static func appendRecord(_ entry: Entry, to bytes: inout [UInt8]) {
        let hasExpiry = entry.hasExpiry
        bytes.append(entry.kind.rawValue)
        bytes.append((hasExpiry ? 1 : 0) | (entry.isCompressed ? 2 : 0))
        bytes.appendUVarint(entry.keyLength)
        bytes.append(contentsOf: entry.key)
        if entry.isCollection {
            // A collection is saved in its portable form, not as the reference the entry holds.
            bytes.appendBlob(CollectionCodec.encode(entry.collection))
        } else {
            bytes.appendUVarint(entry.valueLength)
            bytes.append(contentsOf: UnsafeRawBufferPointer(entry.value))
        }
        if hasExpiry { bytes.appendLittleEndian(UInt64(bitPattern: entry.expiry)) }
        bytes.appendLittleEndian(entry.version)
    }
}

/// Reads little-endian integers and byte runs with bounds checks that report the offset.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func truncated(_ needed: Int) -> SnapshotFormat.DecodingError {
        SnapshotFormat.DecodingError(offset: bytes.count, reason: "file is truncated (needed \(needed) more bytes at offset \(offset))")
    }

    mutating func u8() throws(SnapshotFormat.DecodingError) -> UInt8 {
        guard offset < bytes.count else { throw truncated(1) }
        offset += 1
        return bytes[offset - 1]
    }

    mutating func u32() throws(SnapshotFormat.DecodingError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw truncated(4) }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * index) }
        offset += 4
        return value
    }

    mutating func u64() throws(SnapshotFormat.DecodingError) -> UInt64 {
        guard offset + 8 <= bytes.count else { throw truncated(8) }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * index) }
        offset += 8
        return value
    }

    mutating func bytes(_ count: Int) throws(SnapshotFormat.DecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, offset + count <= bytes.count else { throw truncated(count) }
        offset += count
        return bytes[(offset - count)..<offset]
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendUVarint(_ value: Int) {
        var remaining = UInt64(value)
        while remaining >= 0x80 {
            append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        append(UInt8(remaining))
    }
}
