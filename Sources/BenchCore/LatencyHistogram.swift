/// A high-dynamic-range histogram of latencies (Gil Tene's HdrHistogram scheme): values are
/// counted exactly below 1,024 and above in buckets whose width doubles with each power of
/// two, each split into 512 linear steps, so every recorded value is kept to within 0.2% of
/// itself from one nanosecond up to about an hour, in a fixed 33,792 counters. Recording is an index computation and an
/// increment; histograms of many tasks merge by adding counters.
///
/// Contract: pure value type.
public struct LatencyHistogram: Sendable, Equatable {
    public static let subBucketBits = 10
    static let subBuckets = 1 << subBucketBits
    /// Powers of two above the linear range: 2^10 × 2^(bucketCount) ns ≈ an hour at 32.
    static let bucketCount = 32

    private(set) var counts: [UInt64]
    public private(set) var totalCount: UInt64 = 0
    public private(set) var max: UInt64 = 0
    public private(set) var min: UInt64 = .max
    private var sum: Double = 0

    public init() {
        counts = [UInt64](repeating: 0, count: (Self.bucketCount + 1) * Self.subBuckets)
    }

    /// The counter a value falls in: values below `subBuckets` exactly; above, bucket `b`
    /// (values in [2^(b+9), 2^(b+10)) for b ≥ 1) split into `subBuckets / 2` steps.
    static func index(of value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let magnitude = 63 - value.leadingZeroBitCount           // ≥ subBucketBits
        let bucket = magnitude - subBucketBits + 1                // ≥ 1
        let shift = magnitude - subBucketBits + 1
        let step = Int(value >> UInt64(shift))                    // in [subBuckets/2, subBuckets)
        return Swift.min(bucket, bucketCount) * subBuckets + step
    }

    /// The highest value that lands in counter `index` (what a percentile reports).
    static func highestValue(at index: Int) -> UInt64 {
        let bucket = index / subBuckets
        let step = UInt64(index % subBuckets)
        if bucket == 0 { return step }
        let shift = UInt64(bucket)
        return ((step + 1) << shift) - 1
    }

    public mutating func record(_ value: UInt64) {
        counts[Self.index(of: value)] += 1
        totalCount += 1
        sum += Double(value)
        if value > max { max = value }
        if value < min { min = value }
    }

    public mutating func add(_ other: LatencyHistogram) {
        for index in counts.indices where other.counts[index] != 0 { counts[index] += other.counts[index] }
        totalCount += other.totalCount
        sum += other.sum
        max = Swift.max(max, other.max)
        min = Swift.min(min, other.min)
    }

    public var mean: Double { totalCount == 0 ? 0 : sum / Double(totalCount) }

    /// The value at or below which `percentile` percent of recorded values lie (to the
    /// histogram's precision, never above the largest value recorded).
    public func value(atPercentile percentile: Double) -> UInt64 {
        guard totalCount > 0 else { return 0 }
        let wanted = Swift.max(1, UInt64((percentile / 100 * Double(totalCount)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count != 0 {
            seen += count
            if seen >= wanted { return Swift.min(Self.highestValue(at: index), max) }
        }
        return max
    }
}
