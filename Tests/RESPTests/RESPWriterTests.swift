import NIOCore
import Testing

@testable import RESP

@Suite("RESP reply writer and reply parser")
struct RESPWriterTests {
    func written(_ version: RESPVersion, _ body: (inout RESPWriter) -> Void) -> String {
        var writer = RESPWriter(buffer: ByteBuffer(), version: version)
        body(&writer)
        return String(buffer: writer.buffer)
    }

    @Test("scalars")
    func scalars() {
        #expect(written(.v2) { $0.ok() } == "+OK\r\n")
        #expect(written(.v2) { $0.integer(-9_223_372_036_854_775_807 - 1) } == ":-9223372036854775808\r\n")
        #expect(written(.v2) { $0.integer(0) } == ":0\r\n")
        #expect(written(.v2) { $0.bulk("héllo") } == "$6\r\nhéllo\r\n")
        #expect(written(.v2) { $0.bulkDecimal(12345) } == "$5\r\n12345\r\n")
        #expect(written(.v2) { $0.error("ERR bad\r\nthing") } == "-ERR bad  thing\r\n")
    }

    @Test("types that differ between RESP2 and RESP3")
    func versions() {
        #expect(written(.v2) { $0.null() } == "$-1\r\n")
        #expect(written(.v3) { $0.null() } == "_\r\n")
        #expect(written(.v2) { $0.nullArray() } == "*-1\r\n")
        #expect(written(.v2) { $0.mapHeader(2) } == "*4\r\n")
        #expect(written(.v3) { $0.mapHeader(2) } == "%2\r\n")
        #expect(written(.v2) { $0.double(1.5) } == "$3\r\n1.5\r\n")
        #expect(written(.v3) { $0.double(1.5) } == ",1.5\r\n")
        #expect(written(.v3) { $0.boolean(true) } == "#t\r\n")
        #expect(written(.v3) { $0.verbatim("a:b") } == "=7\r\ntxt:a:b\r\n")
        #expect(written(.v2) { $0.verbatim("a:b") } == "$3\r\na:b\r\n")
    }

    @Test("what the writer writes, the reply parser reads back")
    func roundTrip() throws {
        var writer = RESPWriter(buffer: ByteBuffer(), version: .v3)
        writer.mapHeader(1)
        writer.bulk("key")
        writer.arrayHeader(3)
        writer.integer(7)
        writer.null()
        writer.double(-2.25)
        var buffer = writer.buffer
        let value = try RESPValue.parse(from: &buffer)
        let expected = RESPValue.map([.init(key: .bulkString(ByteBuffer(string: "key")), value: .array([.integer(7), .null, .double(-2.25)]))])
        #expect(value == expected)
        #expect(buffer.readableBytes == 0)
    }

    @Test("an incomplete reply consumes nothing")
    func incomplete() throws {
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nfoo\r\n")
        #expect(try RESPValue.parse(from: &buffer) == nil)
        #expect(buffer.readableBytes == 13)
        buffer.writeString(":1\r\n")
        #expect(try RESPValue.parse(from: &buffer) == .array([.bulkString(ByteBuffer(string: "foo")), .integer(1)]))
    }

    @Test("replies nested past the limit are rejected, not recursed into")
    func depth() {
        var buffer = ByteBuffer(string: String(repeating: "*1\r\n", count: 1000) + ":1\r\n")
        #expect(throws: RESPProtocolError.self) { try RESPValue.parse(from: &buffer) }
    }
}
