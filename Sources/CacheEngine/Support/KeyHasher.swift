/// A seeded 64-bit hash of key bytes for the keyspace table.
///
/// Seeded per process (the seed is injected, so tests are reproducible) so that clients cannot
/// precompute colliding keys and degrade the table (the reason Redis moved to SipHash). It is a
/// multiply-fold construction: each 8-byte word is mixed with the state through a 64x64->128-bit
/// multiply whose halves are folded with xor, which spreads every input bit over the output.
struct KeyHasher: Sendable {
    let seed: UInt64

    static let multiplierA: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let multiplierB: UInt64 = 0xD6E8_FEB8_6659_FD93
    static let multiplierC: UInt64 = 0xA076_1D64_78BD_642F

    init(seed: UInt64) {
        self.seed = seed
    }

    @inline(__always)
    static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state = seed ^ (UInt64(truncatingIfNeeded: bytes.count) &* Self.multiplierA)
        guard let base = bytes.baseAddress else { return Self.fold(state ^ Self.multiplierB, Self.multiplierC) }
        var offset = 0
        let count = bytes.count
        while count - offset >= 16 {
            let first = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let second = base.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
            state = Self.fold(first ^ state ^ Self.multiplierA, second ^ Self.multiplierB)
            offset += 16
        }
        var tail: UInt64 = 0
        var tail2: UInt64 = 0
        let remaining = count - offset
        if remaining >= 8 {
            tail = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            var shift: UInt64 = 0
            for index in (offset + 8)..<count {
                tail2 |= UInt64(base.load(fromByteOffset: index, as: UInt8.self)) << shift
                shift += 8
            }
        } else {
            var shift: UInt64 = 0
            for index in offset..<count {
                tail |= UInt64(base.load(fromByteOffset: index, as: UInt8.self)) << shift
                shift += 8
            }
        }
        state = Self.fold(tail ^ state ^ Self.multiplierC, tail2 ^ Self.multiplierB ^ UInt64(truncatingIfNeeded: remaining))
        return Self.fold(state ^ Self.multiplierA, Self.multiplierC)
    }
}

/// SplitMix64: a small, fast, seedable generator for sampling (active expiry, RANDOMKEY).
/// Deterministic for a given seed, which keeps engine tests reproducible.
struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
