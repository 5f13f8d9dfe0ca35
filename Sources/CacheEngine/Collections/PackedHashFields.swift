/// A small hash's fields and values back to back in one array, as Redis keeps a small hash
/// in a listpack (https://redis.io/docs/latest/operate/oss_and_stack/management/optimization/memory-optimization/):
/// no index and no allocation per field, and a lookup walks the entries. Redis's default
/// bounds (`hash-max-listpack-entries` 128, `hash-max-listpack-value` 64) keep a walk within
/// a few kilobytes; `HashValue` moves to its indexed table past them.
///
/// An entry is the field's `LengthTag` (`fieldLength << 1 | compressed`), the stored value's
/// length as a varint, the field, then the value as stored. Entries keep their order: an
/// update rewrites its entry in place and a removal closes the gap, as in a listpack.
///
/// Contract: `capacity` is what the array has allocated; it grows by an eighth beyond what
/// an insert needs, not by doubling, so a small hash holds little unused room.
struct PackedHashFields {
    private var bytes: [UInt8] = []
    private(set) var count = 0

    var capacity: Int { bytes.capacity }

    /// The entry starting at `offset`: where its field and value lie, and where it ends.
    @inline(__always)
    private static func entry(at offset: Int, in buffer: UnsafeRawBufferPointer)
        -> (field: Range<Int>, value: Range<Int>, compressed: Bool, end: Int) {
        let (tag, tagSize) = LengthTag.read(buffer, at: offset)
        let (valueLength, lengthSize) = LengthTag.read(buffer, at: offset + tagSize)
        let fieldStart = offset + tagSize + lengthSize
        let valueStart = fieldStart + tag >> 1
        let end = valueStart + valueLength
        return (fieldStart..<valueStart, valueStart..<end, tag & 1 == 1, end)
    }

    private static func view(_ entry: (field: Range<Int>, value: Range<Int>, compressed: Bool, end: Int),
                             in buffer: UnsafeRawBufferPointer) -> HashFieldView {
        HashFieldView(field: UnsafeRawBufferPointer(rebasing: buffer[entry.field]),
                      storedValue: UnsafeRawBufferPointer(rebasing: buffer[entry.value]), compressed: entry.compressed)
    }

    /// The byte range of `field`'s entry, if present.
    private func find(_ field: UnsafeRawBufferPointer) -> Range<Int>? {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let entry = Self.entry(at: offset, in: buffer)
                if ByteOrder.equal(UnsafeRawBufferPointer(rebasing: buffer[entry.field]), field) {
                    return offset..<entry.end
                }
                offset = entry.end
            }
            return nil
        }
    }

    func contains(_ field: UnsafeRawBufferPointer) -> Bool { find(field) != nil }

    /// Calls `body` with `field`'s entry; nil when the field is absent.
    func withField<R>(_ field: UnsafeRawBufferPointer, _ body: (HashFieldView) -> R) -> R? {
        guard let range = find(field) else { return nil }
        return bytes.withUnsafeBytes { buffer in body(Self.view(Self.entry(at: range.lowerBound, in: buffer), in: buffer)) }
    }

    /// Calls `body` with every entry, in order.
    func forEach(_ body: (HashFieldView) -> Void) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let entry = Self.entry(at: offset, in: buffer)
                body(Self.view(entry, in: buffer))
                offset = entry.end
            }
        }
    }

    /// Sets `field` to a value in stored form; returns whether the field is new.
    mutating func set(_ field: UnsafeRawBufferPointer, storedValue value: UnsafeRawBufferPointer, compressed: Bool) -> Bool {
        let tag = LengthTag.tag(length: field.count, compressed: compressed)
        let entrySize = LengthTag.size(tag) + LengthTag.size(value.count) + field.count + value.count
        let existing = find(field)
        let replaced = existing?.count ?? 0
        let position = existing?.lowerBound ?? bytes.count
        let needed = bytes.count - replaced + entrySize
        if needed > bytes.capacity {
            var grown: [UInt8] = []
            grown.reserveCapacity(needed + needed / 8)
            grown.append(contentsOf: bytes)
            bytes = grown
        }
        // Resize the entry's room in place, then write the entry into it.
        if entrySize != replaced {
            bytes.replaceSubrange(position..<(position + replaced), with: repeatElement(0, count: entrySize))
        }
        bytes.withUnsafeMutableBytes { buffer in
            var offset = position
            offset += LengthTag.write(tag, into: buffer, at: offset)
            offset += LengthTag.write(value.count, into: buffer, at: offset)
            if field.count > 0 { (buffer.baseAddress! + offset).copyMemory(from: field.baseAddress!, byteCount: field.count) }
            offset += field.count
            if value.count > 0 { (buffer.baseAddress! + offset).copyMemory(from: value.baseAddress!, byteCount: value.count) }
        }
        if existing == nil { count += 1 }
        return existing == nil
    }

    /// Removes `field`; returns whether it was present.
    mutating func remove(_ field: UnsafeRawBufferPointer) -> Bool {
        guard let range = find(field) else { return false }
        bytes.removeSubrange(range)
        count -= 1
        return true
    }
}
