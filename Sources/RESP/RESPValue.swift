import NIOCore

/// One RESP2 or RESP3 reply, as a client sees it. The server writes replies with `RESPWriter`
/// and never builds these on its data path; clients and tests read replies into them.
public enum RESPValue: Hashable, Sendable {
    case simpleString(ByteBuffer)
    case error(String)
    case integer(Int64)
    case bulkString(ByteBuffer)
    /// RESP2's `$-1` and `*-1`, RESP3's `_`.
    case null
    case array([RESPValue])
    case map([Pair])
    case set([RESPValue])
    case push([RESPValue])
    case double(Double)
    case boolean(Bool)
    case bigNumber(ByteBuffer)
    /// A RESP3 verbatim string without its three-letter format prefix.
    case verbatimString(ByteBuffer)

    public struct Pair: Hashable, Sendable {
        public var key: RESPValue
        public var value: RESPValue

        public init(key: RESPValue, value: RESPValue) {
            self.key = key
            self.value = value
        }
    }

    /// The bytes of a simple, bulk or verbatim string as text; nil for other types.
    public var string: String? {
        switch self {
        case .simpleString(let buffer), .bulkString(let buffer), .verbatimString(let buffer), .bigNumber(let buffer):
            return String(buffer: buffer)
        case .error(let message):
            return message
        default:
            return nil
        }
    }

    public var int: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The elements of an array, set or push; a map's keys and values flattened, as RESP2 sends it.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): return values
        case .map(let pairs): return pairs.flatMap { [$0.key, $0.value] }
        default: return nil
        }
    }
}

extension RESPValue {
    /// The largest nesting a reply may have; deeper input is rejected rather than recursed into.
    public static let maximumDepth = 128

    /// Reads one complete reply from the front of `buffer` and consumes it, or returns nil and
    /// leaves `buffer` untouched when the reply is not complete yet.
    public static func parse(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        var copy = buffer
        guard let value = try parseValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private static func readLine(_ buffer: inout ByteBuffer) -> ByteBuffer? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")), cr + 1 < view.endIndex else { return nil }
        let line = buffer.getSlice(at: buffer.readerIndex, length: cr - view.startIndex)!
        buffer.moveReaderIndex(forwardBy: cr - view.startIndex + 2)
        return line
    }

    private static func integer(of line: ByteBuffer) throws(RESPProtocolError) -> Int64 {
        guard let value = Int64(String(buffer: line)) else { throw RESPProtocolError("Protocol error: invalid integer") }
        return value
    }

    private static func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws(RESPProtocolError) -> RESPValue? {
        guard depth < maximumDepth else { throw RESPProtocolError("Protocol error: reply nested too deeply") }
        guard let marker = buffer.readInteger(as: UInt8.self) else { return nil }
        guard let line = readLine(&buffer) else { return nil }
        switch marker {
        case UInt8(ascii: "+"): return .simpleString(line)
        case UInt8(ascii: "-"): return .error(String(buffer: line))
        case UInt8(ascii: ":"): return .integer(try integer(of: line))
        case UInt8(ascii: "_"): return .null
        case UInt8(ascii: "#"): return .boolean(line.readableBytesView.first == UInt8(ascii: "t"))
        case UInt8(ascii: ","):
            let text = String(buffer: line)
            switch text {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            default:
                guard let value = Double(text) else { throw RESPProtocolError("Protocol error: invalid double") }
                return .double(value)
            }
        case UInt8(ascii: "("): return .bigNumber(line)
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            let length = try integer(of: line)
            if length < 0 { return .null }
            guard buffer.readableBytes >= Int(length) + 2, var payload = buffer.readSlice(length: Int(length)) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            switch marker {
            case UInt8(ascii: "="):
                payload.moveReaderIndex(forwardBy: Swift.min(4, payload.readableBytes))
                return .verbatimString(payload)
            case UInt8(ascii: "!"): return .error(String(buffer: payload))
            default: return .bulkString(payload)
            }
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let count = try integer(of: line)
            if count < 0 { return .null }
            let elementCount = marker == UInt8(ascii: "%") || marker == UInt8(ascii: "|") ? Int(count) * 2 : Int(count)
            var elements: [RESPValue] = []
            elements.reserveCapacity(Swift.min(elementCount, 1024))
            for _ in 0..<elementCount {
                guard let element = try parseValue(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            switch marker {
            case UInt8(ascii: "~"): return .set(elements)
            case UInt8(ascii: ">"): return .push(elements)
            case UInt8(ascii: "%"):
                return .map(stride(from: 0, to: elements.count, by: 2).map { Pair(key: elements[$0], value: elements[$0 + 1]) })
            case UInt8(ascii: "|"):
                // An attribute annotates the reply that follows it; the reply is what counts.
                return try parseValue(&buffer, depth: depth + 1)
            default: return .array(elements)
            }
        default:
            throw RESPProtocolError("Protocol error: unknown reply type '\(Character(Unicode.Scalar(marker)))'")
        }
    }
}
