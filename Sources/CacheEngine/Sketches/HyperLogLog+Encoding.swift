/// Reading and writing Redis's HYLL string (see `HyperLogLog` for the layout).
extension HyperLogLog {
    public enum DecodingError: Error, Equatable {
        /// Not a HyperLogLog at all: too short, no `HYLL`, an unknown encoding, or a dense
        /// value of the wrong length (Redis: "WRONGTYPE Key is not a valid HyperLogLog string
        /// value.").
        case notHyperLogLog
        /// A sparse body whose opcodes do not cover exactly 16,384 registers (Redis:
        /// "INVALIDOBJ Corrupted HLL object detected").
        case corrupt
    }

    static let denseEncoding: UInt8 = 0
    static let sparseEncoding: UInt8 = 1

    /// Whether `bytes` carries a HyperLogLog header Redis would accept.
    static func isHyperLogLog(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= headerSize, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "Y"),
              bytes[2] == UInt8(ascii: "L"), bytes[3] == UInt8(ascii: "L") else { return false }
        switch bytes[4] {
        case denseEncoding: return bytes.count == denseSize
        case sparseEncoding: return true
        default: return false
        }
    }

    /// The cardinality cached in the header of a valid HyperLogLog string, unless marked stale.
    /// Values written here always mark it stale; Redis fills it in on PFCOUNT, so a value
    /// copied from Redis may carry one, which PFCOUNT of that one key answers with, as Redis
    /// does.
    static func cachedCardinality(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard isHyperLogLog(bytes), bytes[15] & 0x80 == 0 else { return nil }
        var cached: UInt64 = 0
        for offset in stride(from: 15, through: 8, by: -1) { cached = cached << 8 | UInt64(bytes[offset]) }
        return Int(cached)
    }

    /// Whether `bytes` is a valid dense HyperLogLog, whose registers can be edited in place.
    static func isDense(_ bytes: UnsafeRawBufferPointer) -> Bool {
        isHyperLogLog(bytes) && bytes[4] == denseEncoding
    }

    /// Register `index` of a dense value's packed registers.
    static func denseRegister(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> UInt8 {
        let bit = index * 6
        let low = Int(bytes[headerSize + bit >> 3])
        let highByte = headerSize + bit >> 3 + 1
        let high = highByte < bytes.count ? Int(bytes[highByte]) : 0
        return UInt8(((low >> (bit & 7)) | (high << (8 - bit & 7))) & 63)
    }

    /// Sets register `index` of a dense value's packed registers to `value` (0...63).
    static func setDenseRegister(_ bytes: UnsafeMutableRawBufferPointer, _ index: Int, _ value: UInt8) {
        let bit = index * 6
        let byte = headerSize + bit >> 3
        let shift = bit & 7
        bytes[byte] = bytes[byte] & ~UInt8(truncatingIfNeeded: 63 << shift) | UInt8(truncatingIfNeeded: Int(value) << shift)
        if shift > 2 {
            bytes[byte + 1] = bytes[byte + 1] & ~UInt8(63 >> (8 - shift)) | value >> UInt8(8 - shift)
        }
    }

    /// Stores `cardinality` as the header's valid cache (what Redis's PFCOUNT does).
    static func cache(_ cardinality: Int, in bytes: UnsafeMutableRawBufferPointer) {
        var remaining = UInt64(cardinality)
        for offset in 8..<16 {
            bytes[offset] = UInt8(truncatingIfNeeded: remaining)
            remaining >>= 8
        }
    }

    /// Marks the header's cache stale the way Redis does, keeping the old count's other bytes.
    static func invalidateCache(in bytes: UnsafeMutableRawBufferPointer) {
        bytes[15] |= 0x80
    }

    public init(decoding bytes: UnsafeRawBufferPointer) throws(DecodingError) {
        guard Self.isHyperLogLog(bytes) else { throw .notHyperLogLog }
        self.init()
        if bytes[4] == Self.denseEncoding {
            registers.withUnsafeMutableBufferPointer { registers in
                for index in 0..<Self.registerCount { registers[index] = Self.denseRegister(bytes, index) }
            }
            return
        }
        var index = 0
        var offset = Self.headerSize
        let valid = registers.withUnsafeMutableBufferPointer { registers -> Bool in
            while offset < bytes.count {
                let opcode = bytes[offset]
                let run: Int
                var value: UInt8 = 0
                switch opcode >> 6 {
                case 0:
                    run = Int(opcode & 63) + 1
                    offset += 1
                case 1:
                    guard offset + 1 < bytes.count else { return false }
                    run = (Int(opcode & 63) << 8 | Int(bytes[offset + 1])) + 1
                    offset += 2
                default:
                    value = (opcode >> 2 & 31) + 1
                    run = Int(opcode & 3) + 1
                    offset += 1
                }
                guard index + run <= Self.registerCount else { return false }
                if value != 0 {
                    for register in index..<index + run { registers[register] = value }
                }
                index += run
            }
            return index == Self.registerCount
        }
        guard valid else { throw .corrupt }
    }

    /// The HYLL string: sparse while that takes at most `sparseMaxBytes` (header included,
    /// Redis's `hll-sparse-max-bytes`) and no register exceeds 32, else dense. The cached
    /// cardinality is marked stale, as Redis leaves it after a write, so a reader computes it.
    public func encoded(sparseMaxBytes: Int) -> [UInt8] {
        if sparseMaxBytes > 0, let sparse = sparseEncoded(limit: sparseMaxBytes) { return sparse }
        var bytes = Self.header(encoding: Self.denseEncoding)
        bytes.reserveCapacity(Self.denseSize)
        var packed = [UInt8](repeating: 0, count: Self.denseSize - Self.headerSize)
        for index in 0..<Self.registerCount where registers[index] != 0 {
            let bit = index * 6
            let value = Int(registers[index])
            packed[bit >> 3] |= UInt8(truncatingIfNeeded: value << (bit & 7))
            if bit & 7 > 2 { packed[bit >> 3 + 1] |= UInt8(truncatingIfNeeded: value >> (8 - bit & 7)) }
        }
        bytes.append(contentsOf: packed)
        return bytes
    }

    private static func header(encoding: UInt8) -> [UInt8] {
        // The cardinality cache's top bit set: not valid.
        [UInt8(ascii: "H"), UInt8(ascii: "Y"), UInt8(ascii: "L"), UInt8(ascii: "L"), encoding, 0, 0, 0,
         0, 0, 0, 0, 0, 0, 0, 0x80]
    }

    private func sparseEncoded(limit: Int) -> [UInt8]? {
        var bytes = Self.header(encoding: Self.sparseEncoding)
        var index = 0
        while index < Self.registerCount {
            let value = registers[index]
            let end = registers.withUnsafeBytes { Self.endOfRun(of: value, in: $0, from: index + 1) }
            var run = end - index
            if value == 0 {
                if run <= 64 {
                    bytes.append(UInt8(run - 1))
                } else {
                    bytes.append(0x40 | UInt8((run - 1) >> 8))
                    bytes.append(UInt8(truncatingIfNeeded: run - 1))
                }
            } else {
                guard value <= Self.sparseValueMax else { return nil }
                while run > 0 {
                    let chunk = Swift.min(run, 4)
                    bytes.append(0x80 | (value - 1) << 2 | UInt8(chunk - 1))
                    run -= chunk
                }
            }
            guard bytes.count <= limit else { return nil }
            index = end
        }
        return bytes
    }

    /// The first register from `start` on that differs from `value` (or the count). A sparse
    /// sketch is mostly zeros: those are skipped eight registers at a time.
    private static func endOfRun(of value: UInt8, in registers: UnsafeRawBufferPointer, from start: Int) -> Int {
        var end = start
        if value == 0 {
            while end + 8 <= registerCount && registers.loadUnaligned(fromByteOffset: end, as: UInt64.self) == 0 { end += 8 }
        }
        while end < registerCount && registers[end] == value { end += 1 }
        return end
    }
}
