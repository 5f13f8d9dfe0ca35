@testable import CacheEngine
import NIOCore
import RESP
import Testing

/// Values at or above `value-compression-threshold` are stored LZ4-compressed when that saves an
/// eighth; every command must still see the original bytes.
@Suite("value compression")
struct CompressionTests {
    static let threshold = 64

    func harness() -> EngineHarness {
        EngineHarness(configuration: EngineConfiguration(compressionThreshold: Self.threshold))
    }

    static func json(_ length: Int) -> String {
        String(String(repeating: "{\"user\":\"ringcache\",\"plan\":\"pro\",\"active\":true}", count: length / 40 + 1).prefix(length))
    }

    static func noise(_ length: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        return (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test("values around the threshold, empty and incompressible ones round-trip through every command", arguments: [0, 1, 63, 64, 65, 200, 4096])
    func everyCommand(length: Int) {
        let h = harness()
        let text = Self.json(length)
        h.run("SET", "k", text)
        #expect(h.run("GET", "k") == .bulk(text))
        #expect(h.run("STRLEN", "k") == .integer(Int64(length)))
        #expect(h.run("GETRANGE", "k", "1", "10") == .bulk(String(text.dropFirst().prefix(10))))
        #expect(h.run("MGET", "k", "k") == .array([.bulk(text), .bulk(text)]))
        #expect(h.run("APPEND", "k", "!") == .integer(Int64(length + 1)))
        #expect(h.run("GET", "k") == .bulk(text + "!"))
        #expect(h.run("SETRANGE", "k", "0", "#") == .integer(Int64(length + 1)))
        let edited = "#" + text.dropFirst() + "!"
        #expect(h.run("GET", "k") == .bulk(length == 0 ? "#" : edited))
        h.run("EXPIRE", "k", "100")
        #expect(h.run("RENAME", "k", "r") == .ok)
        #expect(h.run("GET", "r") == .bulk(length == 0 ? "#" : edited))
        #expect(h.run("TTL", "r") == .integer(100))
        #expect(h.run("PERSIST", "r") == .integer(1))
        #expect(h.run("GETEX", "r", "EX", "5") == .bulk(length == 0 ? "#" : edited))
        #expect(h.run("SET", "r", text, "GET") == .bulk(length == 0 ? "#" : edited))
        #expect(h.run("GETSET", "r", "small") == .bulk(text))
        h.run("SET", "d", text)
        #expect(h.run("GETDEL", "d") == .bulk(text))
        #expect(h.run("OBJECT", "ENCODING", "r") == .bulk("embstr"))
    }

    @Test("a compressible value is stored compressed; an incompressible one is stored as is")
    func storedForm() {
        let h = harness()
        let text = Self.json(4096)
        h.run("SET", "json", text)
        #expect(h.engine.keyspace.compressedValues == 1)
        #expect(h.engine.keyspace.compressionSavedBytes > 3000)
        #expect(h.run("MEMORY", "USAGE", "json").int! < 1024, "4 KiB of repetitive JSON costs well under 1 KiB")
        let noise = Self.noise(4096, seed: 9)
        h.run([Array("SET".utf8), Array("noise".utf8), noise])
        #expect(h.engine.keyspace.compressedValues == 1)
        #expect(h.run("GET", "noise") == .bulkString(ByteBuffer(bytes: noise)))
        #expect(h.run("MEMORY", "USAGE", "noise").int! > 4096)
        h.run("DEL", "json")
        #expect(h.engine.keyspace.compressedValues == 0)
        #expect(h.engine.keyspace.compressionSavedBytes == 0)
    }

    @Test("INCR, INCRBYFLOAT and SETRANGE work on a value that was compressed")
    func numericAndEdits() {
        let h = harness()
        let number = String(repeating: "1", count: 18)
        h.engine.configuration.compressionThreshold = 8
        h.run("SET", "n", number)
        #expect(h.engine.keyspace.compressedValues == 1)
        #expect(h.run("INCR", "n") == .integer(111_111_111_111_111_112))
        h.run("SET", "f", "1.00000000000000000000")
        #expect(h.engine.keyspace.compressedValues == 2)
        #expect(h.run("INCRBYFLOAT", "f", "0.5") == .bulk("1.5"))
        h.run("SET", "s", String(repeating: "a", count: 100))
        #expect(h.run("SETRANGE", "s", "98", "bcd") == .integer(101))
        #expect(h.run("GET", "s") == .bulk(String(repeating: "a", count: 98) + "bcd"))
    }

    @Test("bitmap commands read and edit a value that was compressed")
    func bitmapsOnCompressedValues() {
        let h = harness()
        h.engine.configuration.compressionThreshold = 8
        // 4 KiB of 'a' (0x61: bits 1, 2 and 7 of each byte set) compresses to a few bytes.
        h.run("SET", "b", String(repeating: "a", count: 4096))
        #expect(h.engine.keyspace.compressedValues == 1)
        #expect(h.run("BITCOUNT", "b") == .integer(3 * 4096))
        #expect(h.run("GETBIT", "b", "1") == .integer(1) && h.run("GETBIT", "b", "0") == .integer(0))
        #expect(h.run("BITPOS", "b", "0") == .integer(0) && h.run("BITPOS", "b", "1", "100") == .integer(801))
        #expect(h.run("SETBIT", "b", "32768", "1") == .integer(0), "one past the end: the string grows by a byte")
        #expect(h.run("SETBIT", "b", "0", "1") == .integer(0))
        #expect(h.run("STRLEN", "b") == .integer(4097))
        // 0x61 with bit 0 set is 0xE1; the new last byte has only its first bit set.
        var expected: [UInt8] = [0xE1]
        expected += [UInt8](repeating: 0x61, count: 4095)
        expected.append(0x80)
        #expect(h.run("GET", "b") == .bulkString(ByteBuffer(bytes: expected)))
        #expect(h.run("BITCOUNT", "b") == .integer(3 * 4096 + 2))
        h.run("SET", "c", String(repeating: "a", count: 4096))
        #expect(h.run("BITOP", "XOR", "x", "b", "c") == .integer(4097))
        #expect(h.run("BITCOUNT", "x") == .integer(2), "the two bits set since differ; the rest cancels out")
    }

    @Test("after incompressible values of one size, attempts at that size are mostly skipped")
    func adaptiveSkip() {
        let h = harness()
        for index in 0..<200 {
            h.run([Array("SET".utf8), Array("n\(index)".utf8), Self.noise(1000, seed: UInt64(index))])
        }
        let report = h.engine.memoryReport
        #expect(report.compressionAttempts < 20, "LZ4 ran \(report.compressionAttempts) times on 200 incompressible values")
        #expect(report.compressionSkips > 180)
        h.run("SET", "json", Self.json(1000))
        for index in 0..<64 { h.run("SET", "j\(index)", Self.json(1000)) }
        #expect(h.engine.keyspace.compressedValues > 0, "a compressible value in the same class is still caught by the probes")
    }

    @Test("threshold 0 turns compression off")
    func off() {
        let h = EngineHarness(configuration: EngineConfiguration(compressionThreshold: 0))
        h.run("SET", "json", Self.json(4096))
        #expect(h.engine.keyspace.compressedValues == 0)
        #expect(h.engine.memoryReport.compressionAttempts == 0)
    }
}
