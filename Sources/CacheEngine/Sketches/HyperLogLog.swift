/// A HyperLogLog in Redis's layout and arithmetic, so PFADD, PFCOUNT and PFMERGE give Redis's
/// answers to the element and a value copied between the two with GET and SET keeps working.
///
/// - 16,384 six-bit registers (P = 14): an element's 64-bit MurmurHash64A (seed 0xadc83b19)
///   picks a register with its low 14 bits, and the register keeps the largest count of
///   trailing zeros, plus one, of the other 50 bits.
/// - The estimate is Ertl's (“New cardinality estimation algorithms for HyperLogLog sketches”,
///   2017), which Redis uses since 5.0: no bias tables, no linear-counting switch.
/// - Stored as a string: the 16-byte header `HYLL`, the encoding (0 dense, 1 sparse), three
///   zero bytes and an 8-byte cached cardinality; then either the registers packed six bits
///   each, least significant bit first (12,288 bytes), or the sparse run-length opcodes:
///   `00xxxxxx` 1–64 zero registers, `01xxxxxx yyyyyyyy` 1–16,384 zero registers, `1vvvvvxx`
///   1–4 registers of value 1–32. Sparse is written while it is at most `sparseMaxBytes`
///   long and every register is at most 32.
///
/// Contract: pure; `registers` always holds 16,384 values of 0...51.
public struct HyperLogLog: Equatable, Sendable {
    public static let registerCount = 16_384
    static let indexBits = 14
    static let headerSize = 16
    static let denseSize = headerSize + registerCount * 6 / 8
    static let sparseValueMax = 32

    public internal(set) var registers: [UInt8]

    /// Every register zero: the empty set.
    public init() {
        registers = [UInt8](repeating: 0, count: Self.registerCount)
    }

    // MARK: Elements

    /// The register `element` maps to and the count it would set there.
    static func position(of element: UnsafeRawBufferPointer) -> (index: Int, count: UInt8) {
        let hash = murmurHash64A(element, seed: 0xadc8_3b19)
        let index = Int(hash & UInt64(registerCount - 1))
        // The top bit set bounds the count at 51 (Redis's HLL_Q + 1).
        let rest = (hash >> UInt64(indexBits)) | (1 << 50)
        return (index, UInt8(rest.trailingZeroBitCount + 1))
    }

    /// Adds `element`; whether a register changed (PFADD's answer).
    @discardableResult
    public mutating func add(_ element: UnsafeRawBufferPointer) -> Bool {
        let (index, count) = Self.position(of: element)
        guard registers[index] < count else { return false }
        registers[index] = count
        return true
    }

    /// The union: each register the larger of the two.
    public mutating func merge(_ other: HyperLogLog) {
        for index in 0..<Self.registerCount where other.registers[index] > registers[index] {
            registers[index] = other.registers[index]
        }
    }

    // MARK: Estimate

    /// The estimated number of distinct elements added (Ertl's estimator, as Redis's hllCount).
    public var cardinality: Int {
        var histogram = [Int](repeating: 0, count: 64)
        for register in registers { histogram[Int(register)] += 1 }
        let m = Double(Self.registerCount)
        let q = 64 - Self.indexBits
        var z = m * Self.tau((m - Double(histogram[q + 1])) / m)
        for count in stride(from: q, through: 1, by: -1) {
            z += Double(histogram[count])
            z *= 0.5
        }
        z += m * Self.sigma(Double(histogram[0]) / m)
        let alphaInfinity = 0.721347520444481703680 // 1 / (2 ln 2)
        let estimate = alphaInfinity * m * m / z
        return estimate.isFinite ? Int(estimate.rounded(.toNearestOrAwayFromZero)) : 0
    }

    /// σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k-1), summed until it stops changing.
    static func sigma(_ x: Double) -> Double {
        if x == 1 { return .infinity }
        var x = x
        var y = 1.0
        var z = x
        var previous: Double
        repeat {
            x *= x
            previous = z
            z += x * y
            y += y
        } while previous != z
        return z
    }

    /// τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² 2^−k) / 3, summed until it stops changing.
    static func tau(_ x: Double) -> Double {
        if x == 0 || x == 1 { return 0 }
        var x = x
        var y = 1.0
        var z = 1 - x
        var previous: Double
        repeat {
            x = x.squareRoot()
            previous = z
            y *= 0.5
            z -= (1 - x) * (1 - x) * y
        } while previous != z
        return z / 3
    }

    // MARK: Hash

    /// Austin Appleby's MurmurHash64A, reading 8-byte blocks little-endian as Redis does on
    /// every platform.
    static func murmurHash64A(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let m: UInt64 = 0xc6a4_a793_5bd1_e995
        let r: UInt64 = 47
        var h = seed ^ (UInt64(bytes.count) &* m)
        let blocks = bytes.count / 8
        for block in 0..<blocks {
            var k = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: block * 8, as: UInt64.self))
            k &*= m
            k ^= k >> r
            k &*= m
            h ^= k
            h &*= m
        }
        let tail = bytes.count & 7
        if tail > 0 {
            for offset in stride(from: tail - 1, through: 0, by: -1) {
                h ^= UInt64(bytes[blocks * 8 + offset]) << UInt64(offset * 8)
            }
            h &*= m
        }
        h ^= h >> r
        h &*= m
        h ^= h >> r
        return h
    }
}
