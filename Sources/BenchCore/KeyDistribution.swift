/// Which key a load generator touches next.
///
/// Zipf(α) over n keys: key k (0-based) has probability proportional to 1/(k+1)^α, sampled
/// by binary search in the precomputed cumulative distribution (8 bytes per key). Keys are
/// scattered over the key space with a fixed permutation-like multiplier, so the hot keys
/// are not all neighbours (and not all in one slot).
///
/// Contract: pure; randomness comes from the caller's generator.
public struct KeyDistribution: Sendable {
    public enum Kind: Sendable, Equatable {
        case uniform
        case zipf(alpha: Double)
    }

    public let kind: Kind
    public let keyCount: Int
    private let cumulative: [Double]

    public init(_ kind: Kind, keyCount: Int) {
        precondition(keyCount > 0, "at least one key")
        self.kind = kind
        self.keyCount = keyCount
        if case .zipf(let alpha) = kind {
            var running = 0.0
            var cumulative = [Double](repeating: 0, count: keyCount)
            for rank in 0..<keyCount {
                running += 1 / pow(Double(rank + 1), alpha)
                cumulative[rank] = running
            }
            self.cumulative = cumulative.map { $0 / running }
        } else {
            cumulative = []
        }
    }

    /// A rank: 0 is the most popular key under Zipf.
    public func nextRank(using generator: inout some RandomNumberGenerator) -> Int {
        switch kind {
        case .uniform:
            return Int.random(in: 0..<keyCount, using: &generator)
        case .zipf:
            let draw = Double.random(in: 0..<1, using: &generator)
            var low = 0
            var high = keyCount - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < draw { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    /// The key index a rank maps to: a bijection of 0..<keyCount when the multiplier is
    /// coprime with it (checked at init time by falling back to the identity).
    public func keyIndex(ofRank rank: Int) -> Int {
        let multiplier = 2_654_435_761 % keyCount
        guard keyCount > 1, Self.gcd(multiplier, keyCount) == 1 else { return rank }
        return (rank * multiplier) % keyCount
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        b == 0 ? a : gcd(b, a % b)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// xorshift64*: fast, seedable, good enough to pick keys (not for anything secret).
public struct FastRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    public mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
