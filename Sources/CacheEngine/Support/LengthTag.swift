/// The header of both packed element forms, a list chunk's frames and a hash's `HashField`:
/// a stored length and a compressed flag as one unsigned LEB128 varint,
/// `length << 1 | compressed`. One byte for elements up to 63 bytes.
enum LengthTag {
    @inline(__always)
    static func tag(length: Int, compressed: Bool) -> Int { length << 1 | (compressed ? 1 : 0) }

    /// Bytes the varint of `tag` takes.
    static func size(_ tag: Int) -> Int {
        var size = 1
        var remaining = tag >> 7
        while remaining > 0 {
            size += 1
            remaining >>= 7
        }
        return size
    }

    /// Writes `tag` at `offset`; returns the bytes written (`size(tag)`).
    @inline(__always)
    static func write(_ tag: Int, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var remaining = tag
        var position = offset
        while remaining >= 0x80 {
            buffer[position] = UInt8(truncatingIfNeeded: remaining) | 0x80
            remaining >>= 7
            position += 1
        }
        buffer[position] = UInt8(remaining)
        return position + 1 - offset
    }

    /// The tag written at `offset` and its size. The caller vouches that one is there.
    @inline(__always)
    static func read(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> (tag: Int, size: Int) {
        var tag = 0
        var shift = 0
        var position = offset
        while true {
            let byte = buffer[position]
            tag |= Int(byte & 0x7F) << shift
            position += 1
            if byte < 0x80 { return (tag, position - offset) }
            shift += 7
        }
    }
}
