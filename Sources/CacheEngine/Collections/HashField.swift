/// A hash's field and its value in one allocation: a `LengthTag` (`fieldLength << 1 | compressed`),
/// the field's bytes, then the value as stored — its bytes, or LZ4 in `ValueCompressor`'s form
/// (original length, then the block) when compression saved an eighth.
///
/// Why one array: a field and a value in arrays of their own cost two 32-byte array headers
/// and two malloc chunks, about 130 bytes for a 16-byte field and a 16-byte value; packed,
/// the pair is one chunk of 80. The field is compared and hashed where it lies, and a value is
/// written to a reply straight from here.
struct HashField: IndexedElement {
    let storage: [UInt8]

    /// Packs `field` and `value`; `compressed` says `value` is in the compressor's form.
    init(field: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, compressed: Bool) {
        let tag = LengthTag.tag(length: field.count, compressed: compressed)
        storage = [UInt8](unsafeUninitializedCapacity: LengthTag.size(tag) + field.count + value.count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var index = LengthTag.write(tag, into: raw, at: 0)
            if field.count > 0 { (raw.baseAddress! + index).copyMemory(from: field.baseAddress!, byteCount: field.count) }
            index += field.count
            if value.count > 0 { (raw.baseAddress! + index).copyMemory(from: value.baseAddress!, byteCount: value.count) }
            initialized = index + value.count
        }
    }

    init(field: [UInt8], value: [UInt8]) {
        self = field.withUnsafeBytes { field in
            value.withUnsafeBytes { HashField(field: field, value: $0, compressed: false) }
        }
    }

    /// The field and its value where they lie, valid during `body` only.
    @inline(__always)
    func withView<R>(_ body: (HashFieldView) -> R) -> R {
        storage.withUnsafeBytes { bytes in
            let (tag, headerLength) = LengthTag.read(bytes, at: 0)
            let fieldEnd = headerLength + tag >> 1
            return body(HashFieldView(field: UnsafeRawBufferPointer(rebasing: bytes[headerLength..<fieldEnd]),
                                      storedValue: UnsafeRawBufferPointer(rebasing: bytes[fieldEnd...]), compressed: tag & 1 == 1))
        }
    }

    @inline(__always)
    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withView { body($0.field) }
    }

    /// Calls `body` with the value as clients see it (see `HashFieldView.withValueBytes`).
    func withValueBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withView { $0.withValueBytes(body) }
    }

    var field: [UInt8] { withKeyBytes { Array($0) } }

    /// The value as clients see it, in an array of its own.
    var value: [UInt8] { withValueBytes { Array($0) } }

    var valueCount: Int { withView { $0.valueCount } }

    var fieldCount: Int { withKeyBytes { $0.count } }

    /// Bytes of the packed form: what the allocation holds beyond its array header.
    var storedCount: Int { storage.count }
}
