import CLZ4

/// Decides whether a value is stored LZ4-compressed and does the work.
///
/// A value at or above `threshold` bytes is compressed when that saves at least an eighth of
/// it; otherwise it is stored as is and the attempt cost only the compression itself. Values
/// that do not compress tend to come in runs of similar size (already-compressed images,
/// encrypted tokens), so the compressor keeps a failure count per power-of-two size class and,
/// after three failures in a row, tries only one value in 64 of that class until one
/// compresses again.
struct ValueCompressor {
    /// `value-compression-threshold`; 0 turns compression off.
    var threshold: Int
    private var scratch: UnsafeMutableRawBufferPointer
    private var failures = [UInt8](repeating: 0, count: 64)
    private var skipped = [UInt8](repeating: 0, count: 64)
    /// Values LZ4 was run on, and values at or above the threshold it was not run on because
    /// their size class kept failing.
    private(set) var attempts = 0
    private(set) var skippedAttempts = 0

    static let failuresBeforeSkipping: UInt8 = 3
    static let probeEvery: UInt8 = 64
    /// Stored in front of the LZ4 block: the original length.
    static let prefixLength = MemoryLayout<UInt32>.size

    init(threshold: Int) {
        self.threshold = threshold
        scratch = .allocate(byteCount: 0, alignment: 16)
    }

    func deallocate() {
        scratch.deallocate()
    }

    private static func sizeClass(_ length: Int) -> Int {
        Int.bitWidth - length.leadingZeroBitCount
    }

    /// The compressed form (original length, then the LZ4 block) when compressing `value` is
    /// worth it, or nil. The bytes live in scratch space valid until the next call.
    mutating func compress(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard threshold > 0, value.count >= threshold, value.count <= Int(Int32.max) / 2 else { return nil }
        let sizeClass = Self.sizeClass(value.count)
        if failures[sizeClass] >= Self.failuresBeforeSkipping {
            skipped[sizeClass] &+= 1
            guard skipped[sizeClass] % Self.probeEvery == 0 else {
                skippedAttempts += 1
                return nil
            }
        }
        attempts += 1
        let bound = Int(LZ4_compressBound(Int32(value.count)))
        let needed = Self.prefixLength + bound
        if scratch.count < needed {
            scratch.deallocate()
            scratch = .allocate(byteCount: needed, alignment: 16)
        }
        let budget = value.count - value.count / 8 - Self.prefixLength
        let compressedSize = Int(LZ4_compress_default(
            value.baseAddress!.assumingMemoryBound(to: CChar.self),
            (scratch.baseAddress! + Self.prefixLength).assumingMemoryBound(to: CChar.self),
            Int32(value.count), Int32(bound)))
        guard compressedSize > 0, compressedSize <= budget else {
            failures[sizeClass] = Swift.min(failures[sizeClass] &+ 1, 255)
            return nil
        }
        failures[sizeClass] = 0
        scratch.storeBytes(of: UInt32(value.count), toByteOffset: 0, as: UInt32.self)
        return UnsafeRawBufferPointer(rebasing: scratch[0..<(Self.prefixLength + compressedSize)])
    }

    /// Restores a compressed value into `destination`, which holds exactly its original length.
    static func decompress(_ stored: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
        guard destination.count > 0 else { return }
        let restored = LZ4_decompress_safe(
            (stored.baseAddress! + prefixLength).assumingMemoryBound(to: CChar.self),
            destination.baseAddress!.assumingMemoryBound(to: CChar.self),
            Int32(stored.count - prefixLength), Int32(destination.count))
        // The block was written by `compress` into memory only the engine touches.
        precondition(Int(restored) == destination.count, "a stored LZ4 block did not restore to its recorded length")
    }
}
