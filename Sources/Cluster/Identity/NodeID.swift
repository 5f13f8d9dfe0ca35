/// A node's identity: 160 random bits, written as 40 lower-case hex digits like a Redis Cluster
/// node id. It is made once, kept in the node's cluster config file, and survives restarts, so
/// a restarted node is recognised as the same member (and keeps its ring tokens).
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let middle: UInt64
    public let low: UInt32

    public init(high: UInt64, middle: UInt64, low: UInt32) {
        self.high = high
        self.middle = middle
        self.low = low
    }

    public static func random(using generator: inout some RandomNumberGenerator) -> NodeID {
        NodeID(high: generator.next(), middle: generator.next(), low: UInt32(truncatingIfNeeded: generator.next()))
    }

    /// Parses exactly 40 hex digits (either case).
    public init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        guard digits.count == 40 else { return nil }
        var words: [UInt64] = [0, 0, 0]
        for (index, digit) in digits.enumerated() {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            let word = min(index / 16, 2)
            words[word] = words[word] << 4 | UInt64(value)
        }
        self.init(high: words[0], middle: words[1], low: UInt32(words[2]))
    }

    public var hex: String {
        func padded(_ value: UInt64, digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: digits - text.count) + text
        }
        return padded(high, digits: 16) + padded(middle, digits: 16) + padded(UInt64(low), digits: 8)
    }

    /// The first 8 hex digits, for logs and tables.
    public var short: String { String(hex.prefix(8)) }
    public var description: String { hex }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        (lhs.high, lhs.middle, lhs.low) < (rhs.high, rhs.middle, rhs.low)
    }
}
