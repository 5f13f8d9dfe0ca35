import Foundation
import BenchCore
import Testing

@Suite struct LatencyHistogramTests {
    @Test func percentilesAgreeWithSortingWithinTheHistogramsPrecision() {
        var random = FastRandom(seed: 3)
        var histogram = LatencyHistogram()
        var values: [UInt64] = []
        for _ in 0..<50_000 {
            // Log-uniform from 1 µs to 100 ms, like latencies with a long tail.
            let value = UInt64(1000 * pow(100_000, Double.random(in: 0..<1, using: &random)))
            values.append(value)
            histogram.record(value)
        }
        values.sort()
        for percentile in [50.0, 90, 99, 99.9] {
            let exact = Double(values[Int((percentile / 100 * Double(values.count)).rounded(.up)) - 1])
            let reported = Double(histogram.value(atPercentile: percentile))
            #expect(abs(reported - exact) / exact <= 0.002, "p\(percentile): \(reported) vs \(exact)")
        }
        #expect(histogram.max == values.last! && histogram.min == values.first!)
        #expect(histogram.value(atPercentile: 100) == values.last!)
    }

    @Test func mergedHistogramsEqualOneFedEverything() {
        var one = LatencyHistogram()
        var left = LatencyHistogram()
        var right = LatencyHistogram()
        for value in stride(from: UInt64(1), to: 10_000_000, by: 7919) {
            one.record(value)
            if value % 2 == 0 { left.record(value) } else { right.record(value) }
        }
        left.add(right)
        #expect(left == one)
        #expect(LatencyHistogram().value(atPercentile: 99) == 0)
    }
}

@Suite struct KeyDistributionTests {
    @Test func zipfPutsTheExpectedShareOnTheHottestKeys() {
        let keys = 10_000
        let zipf = KeyDistribution(.zipf(alpha: 0.99), keyCount: keys)
        var random = FastRandom(seed: 9)
        var hits = [Int](repeating: 0, count: keys)
        let draws = 200_000
        for _ in 0..<draws { hits[zipf.nextRank(using: &random)] += 1 }
        // Expected share of the top 1% of ranks: H(100, 0.99) / H(10000, 0.99).
        func harmonic(_ n: Int) -> Double { (1...n).reduce(0) { $0 + 1 / pow(Double($1), 0.99) } }
        let expected = harmonic(100) / harmonic(keys)
        let measured = Double(hits.prefix(100).reduce(0, +)) / Double(draws)
        #expect(abs(measured - expected) < 0.01, "\(measured) vs \(expected)")
        #expect(hits[0] > hits[1] && hits[1] > hits[10])
    }

    @Test func ranksMapToEveryKeyExactlyOnce() {
        for count in [1, 7, 1000, 100_000] {
            let distribution = KeyDistribution(.uniform, keyCount: count)
            #expect(Set((0..<count).map { distribution.keyIndex(ofRank: $0) }).count == count)
        }
    }
}
