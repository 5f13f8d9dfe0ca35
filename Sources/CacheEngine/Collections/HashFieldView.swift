/// A hash's field and its value where they are stored, in either of a hash's encodings;
/// valid during the call that hands it out only.
struct HashFieldView {
    let field: UnsafeRawBufferPointer
    /// The value as stored: its bytes, or LZ4 in `ValueCompressor`'s form when `compressed`.
    let storedValue: UnsafeRawBufferPointer
    let compressed: Bool

    /// Calls `body` with the value as clients see it: in place when stored plain, else
    /// decompressed into a temporary buffer.
    func withValueBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard compressed else { return body(storedValue) }
        return withUnsafeTemporaryAllocation(byteCount: valueCount, alignment: 1) { restored in
            ValueCompressor.decompress(storedValue, into: restored)
            return body(UnsafeRawBufferPointer(restored))
        }
    }

    /// The value's length as clients see it.
    var valueCount: Int {
        compressed ? Int(storedValue.loadUnaligned(as: UInt32.self)) : storedValue.count
    }
}
