import NIOCore

/// The protocol a connection speaks: RESP2 by default, RESP3 after `HELLO 3`.
public enum RESPVersion: Int, Sendable {
    case v2 = 2
    case v3 = 3
}

/// Encodes replies straight into an output buffer, choosing the RESP2 or RESP3 form of each type
/// (https://github.com/redis/redis-specifications/blob/master/protocol/RESP3.md). Replies are
/// appended to one buffer per read so a pipeline's replies leave in one write.
public struct RESPWriter {
    public var buffer: ByteBuffer
    public var version: RESPVersion

    @inlinable
    public init(buffer: ByteBuffer, version: RESPVersion = .v2) {
        self.buffer = buffer
        self.version = version
    }

    @usableFromInline static let crlf: StaticString = "\r\n"

    // MARK: Simple types

    @inlinable
    public mutating func ok() {
        buffer.writeStaticString("+OK\r\n")
    }

    @inlinable
    public mutating func simpleString(_ text: StaticString) {
        buffer.writeInteger(UInt8(ascii: "+"))
        buffer.writeStaticString(text)
        buffer.writeStaticString(Self.crlf)
    }

    public mutating func simpleString(_ text: String) {
        buffer.writeInteger(UInt8(ascii: "+"))
        buffer.writeString(Self.sanitizedLine(text))
        buffer.writeStaticString(Self.crlf)
    }

    /// An error reply. `message` starts with its code (`ERR`, `WRONGTYPE`, ...); line breaks are
    /// replaced by blanks, as Redis does, so the reply stays one line.
    public mutating func error(_ message: String) {
        buffer.writeInteger(UInt8(ascii: "-"))
        buffer.writeString(Self.sanitizedLine(message))
        buffer.writeStaticString(Self.crlf)
    }

    @inlinable
    public mutating func error(_ message: StaticString) {
        buffer.writeInteger(UInt8(ascii: "-"))
        buffer.writeStaticString(message)
        buffer.writeStaticString(Self.crlf)
    }

    @inlinable
    public mutating func integer(_ value: Int) {
        buffer.writeInteger(UInt8(ascii: ":"))
        writeDecimal(value)
        buffer.writeStaticString(Self.crlf)
    }

    /// RESP3 `,` double; RESP2 has no double type, so it is sent as a bulk string.
    public mutating func double(_ value: Double) {
        double(text: Self.formatDouble(value).utf8)
    }

    /// A double already printed (`formatDouble`, or Redis's addReplyHumanLongDouble for
    /// GEOPOS): RESP3 `,text`, RESP2 a bulk string of the same text.
    public mutating func double(text: some Collection<UInt8>) {
        switch version {
        case .v3:
            buffer.writeInteger(UInt8(ascii: ","))
            buffer.writeBytes(text)
            buffer.writeStaticString(Self.crlf)
        case .v2:
            bulk(text)
        }
    }

    /// RESP3 `#t`/`#f`; RESP2 clients get the integers 1 and 0.
    @inlinable
    public mutating func boolean(_ value: Bool) {
        switch version {
        case .v3: buffer.writeStaticString(value ? "#t\r\n" : "#f\r\n")
        case .v2: buffer.writeStaticString(value ? ":1\r\n" : ":0\r\n")
        }
    }

    // MARK: Bulk strings

    @inlinable
    public mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
        // One reservation for the whole reply: each separate ByteBuffer write pays a
        // uniqueness check and an exclusivity check of its own, several per GET.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count + Self.maxHeaderBytes + 2) { out in
            var length = Self.formatHeader(UInt8(ascii: "$"), bytes.count, into: out)
            if let source = bytes.baseAddress, bytes.count > 0 {
                (out.baseAddress! + length).copyMemory(from: source, byteCount: bytes.count)
                length += bytes.count
            }
            out[length] = UInt8(ascii: "\r")
            out[length + 1] = UInt8(ascii: "\n")
            return length + 2
        }
    }

    /// The most bytes `formatHeader` writes: a type byte, 20 characters of `Int`, CRLF.
    @usableFromInline static let maxHeaderBytes = 23

    /// Writes `<type><decimal>\r\n` at the start of `out` (room for `maxHeaderBytes`) and
    /// returns its length.
    @inlinable
    static func formatHeader(_ type: UInt8, _ value: Int, into out: UnsafeMutableRawBufferPointer) -> Int {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &digits) { scratch in
            let count = formatDecimal(value, into: scratch)
            out[0] = type
            (out.baseAddress! + 1).copyMemory(from: scratch.baseAddress! + (24 - count), byteCount: count)
            out[count + 1] = UInt8(ascii: "\r")
            out[count + 2] = UInt8(ascii: "\n")
            return count + 3
        }
    }

    /// The `$length\r\n` that starts a bulk string whose bytes the caller writes next, followed
    /// by `crlf()`; for values produced straight into the buffer (decompression).
    @inlinable
    public mutating func bulkHeader(length: Int) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.maxHeaderBytes) { out in
            Self.formatHeader(UInt8(ascii: "$"), length, into: out)
        }
    }

    @inlinable
    public mutating func crlf() {
        buffer.writeStaticString(Self.crlf)
    }

    public mutating func bulk(_ text: String) {
        var text = text
        text.withUTF8 { bulk(UnsafeRawBufferPointer($0)) }
    }

    /// A byte array as a bulk string (the collection types' elements), copied in one go.
    @inlinable
    public mutating func bulk(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { bulk($0) }
    }

    public mutating func bulk(_ bytes: some Collection<UInt8>) {
        buffer.writeInteger(UInt8(ascii: "$"))
        writeDecimal(bytes.count)
        buffer.writeStaticString(Self.crlf)
        buffer.writeBytes(bytes)
        buffer.writeStaticString(Self.crlf)
    }

    /// A bulk string holding a decimal integer (INCRBYFLOAT-style replies, CONFIG values).
    @inlinable
    public mutating func bulkDecimal(_ value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let length = withUnsafeMutableBytes(of: &digits) { raw in
            Self.formatDecimal(value, into: raw)
        }
        withUnsafeBytes(of: &digits) { raw in
            bulk(UnsafeRawBufferPointer(rebasing: raw[(24 - length)...]))
        }
    }

    /// Redis's null bulk string: `$-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func null() {
        switch version {
        case .v3: buffer.writeStaticString("_\r\n")
        case .v2: buffer.writeStaticString("$-1\r\n")
        }
    }

    /// Redis's null array (BLPOP timeout, EXEC abort): `*-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func nullArray() {
        switch version {
        case .v3: buffer.writeStaticString("_\r\n")
        case .v2: buffer.writeStaticString("*-1\r\n")
        }
    }

    // MARK: Aggregates

    @inlinable
    public mutating func arrayHeader(_ count: Int) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(count)
        buffer.writeStaticString(Self.crlf)
    }

    /// A map of `count` pairs: `%count` in RESP3, a flat array of 2*count in RESP2.
    @inlinable
    public mutating func mapHeader(_ count: Int) {
        switch version {
        case .v3:
            buffer.writeInteger(UInt8(ascii: "%"))
            writeDecimal(count)
        case .v2:
            buffer.writeInteger(UInt8(ascii: "*"))
            writeDecimal(count * 2)
        }
        buffer.writeStaticString(Self.crlf)
    }

    /// A set: `~count` in RESP3, an array in RESP2.
    @inlinable
    public mutating func setHeader(_ count: Int) {
        buffer.writeInteger(UInt8(ascii: version == .v3 ? "~" : "*"))
        writeDecimal(count)
        buffer.writeStaticString(Self.crlf)
    }

    /// A RESP3 push message header (`>count`); RESP2 sends pushes as arrays.
    @inlinable
    public mutating func pushHeader(_ count: Int) {
        buffer.writeInteger(UInt8(ascii: version == .v3 ? ">" : "*"))
        writeDecimal(count)
        buffer.writeStaticString(Self.crlf)
    }

    /// Free text such as INFO: a RESP3 verbatim string (`=` with `txt:`), a bulk string in RESP2.
    public mutating func verbatim(_ text: String) {
        switch version {
        case .v3:
            var text = text
            text.withUTF8 { utf8 in
                buffer.writeInteger(UInt8(ascii: "="))
                writeDecimal(utf8.count + 4)
                buffer.writeStaticString("\r\ntxt:")
                buffer.writeBytes(UnsafeRawBufferPointer(utf8))
                buffer.writeStaticString(Self.crlf)
            }
        case .v2:
            bulk(text)
        }
    }

    /// An array of simple strings: the shape of every `... HELP` reply.
    public mutating func simpleStrings(_ lines: [String]) {
        arrayHeader(lines.count)
        for line in lines { simpleString(line) }
    }

    // MARK: Number formatting without String

    @inlinable
    mutating func writeDecimal(_ value: Int) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { raw in
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
            return withUnsafeMutableBytes(of: &digits) { scratch in
                let length = Self.formatDecimal(value, into: scratch)
                raw.baseAddress!.copyMemory(from: scratch.baseAddress! + (24 - length), byteCount: length)
                return length
            }
        }
    }

    /// Writes `value` right-aligned at the end of `scratch` (at least 20 bytes) and returns
    /// how many bytes it took.
    @inlinable
    public static func formatDecimal(_ value: Int, into scratch: UnsafeMutableRawBufferPointer) -> Int {
        var magnitude = value.magnitude
        var index = scratch.count
        repeat {
            index -= 1
            scratch[index] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
            magnitude /= 10
        } while magnitude != 0
        if value < 0 {
            index -= 1
            scratch[index] = UInt8(ascii: "-")
        }
        return scratch.count - index
    }

    /// Doubles as Redis prints them (`%.17g`-like shortest round-trip form, `inf`, `-inf`, `nan`).
    public static func formatDouble(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(.towardZero), abs(value) < 1e17 {
            return String(Int64(value))
        }
        return "\(value)"
    }

    static func sanitizedLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else { return text }
        return String(decoding: text.utf8.map { $0 == 0x0D || $0 == 0x0A ? 0x20 : $0 }, as: UTF8.self)
    }
}
