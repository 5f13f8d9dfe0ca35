import Foundation

/// What a load run measured, as text and as JSON.
public struct BenchResult: Sendable {
    public var operations: Int
    public var errors: Int
    public var seconds: Double
    public var histogram: LatencyHistogram
    public var connections: Int
    public var pipeline: Int
    public var keys: Int
    public var distribution: String
    public var valueSize: Int
    public var readRatio: Double
    /// Seconds from the start to the first and the last error, if any.
    public var firstErrorSeconds: Double?
    public var lastErrorSeconds: Double?
    /// With verification: acknowledged writes whose value was not read back.
    public var lostAcknowledgedWrites: Int?
    /// Errors by message.
    public var errorKinds: [String: Int] = [:]

    public init(operations: Int, errors: Int, seconds: Double, histogram: LatencyHistogram, connections: Int, pipeline: Int,
                keys: Int, distribution: String, valueSize: Int, readRatio: Double) {
        self.operations = operations
        self.errors = errors
        self.seconds = seconds
        self.histogram = histogram
        self.connections = connections
        self.pipeline = pipeline
        self.keys = keys
        self.distribution = distribution
        self.valueSize = valueSize
        self.readRatio = readRatio
    }

    public var opsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }

    /// Percentiles reported, in microseconds.
    public var percentiles: [(String, Double)] {
        [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)].map { ($0.0, Double(histogram.value(atPercentile: $0.1)) / 1000) }
            + [("max", Double(histogram.max == 0 ? 0 : histogram.max) / 1000)]
    }

    public func text() -> String {
        var lines = [
            "\(operations) operations in \(String(format: "%.2f", seconds)) s: \(String(format: "%.0f", opsPerSecond)) ops/s, \(errors) errors",
            "  \(connections) connections × \(pipeline) in flight, \(keys) keys \(distribution), \(valueSize)-byte values, \(Int(readRatio * 100))% GET",
            "  latency (µs):",
        ]
        lines += percentiles.map { "    \($0.0.padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(format: "%10.1f", $0.1))" }
        if let first = firstErrorSeconds, let last = lastErrorSeconds {
            lines.append("  errors from \(String(format: "%.2f", first)) s to \(String(format: "%.2f", last)) s")
        }
        if let lost = lostAcknowledgedWrites { lines.append("  acknowledged writes lost: \(lost)") }
        for (message, count) in errorKinds.sorted(by: { $0.value > $1.value }).prefix(5) { lines.append("  \(count)× \(message)") }
        return lines.joined(separator: "\n")
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .unicodeScalars.filter { $0.value >= 0x20 }.map(String.init).joined()
    }

    public func json() -> String {
        let latency = percentiles.map { "\"\($0.0)\":\(String(format: "%.1f", $0.1))" }.joined(separator: ",")
        return "{\"operations\":\(operations),\"errors\":\(errors),\"seconds\":\(String(format: "%.3f", seconds)),"
            + "\"ops_per_sec\":\(String(format: "%.1f", opsPerSecond)),\"latency_us\":{\(latency)},"
            + "\"connections\":\(connections),\"pipeline\":\(pipeline),\"keys\":\(keys),\"distribution\":\"\(distribution)\","
            + "\"value_size\":\(valueSize),\"read_ratio\":\(readRatio)"
            + (firstErrorSeconds.map { ",\"first_error_s\":\(String(format: "%.3f", $0))" } ?? "")
            + (lastErrorSeconds.map { ",\"last_error_s\":\(String(format: "%.3f", $0))" } ?? "")
            + (lostAcknowledgedWrites.map { ",\"lost_acknowledged_writes\":\($0)" } ?? "")
            + ",\"error_kinds\":{" + errorKinds.sorted { $0.value > $1.value }.prefix(10)
                .map { "\"\(Self.escaped($0.key))\":\($0.value)" }.joined(separator: ",") + "}}"
    }
}
