import NIOCore
import Testing

@testable import RESP

/// Parses every command in `bytes`, feeding them in the given chunk sizes the way reads arrive
/// from a socket, and returns each command's arguments as strings.
func parseAll(_ bytes: [UInt8], chunks: [Int], limits: RESPParserLimits = RESPParserLimits()) throws -> [[String]] {
    var parser = RESPCommandParser(limits: limits)
    var arguments = CommandArguments()
    var buffer = ByteBuffer()
    var commands: [[String]] = []
    var offset = 0
    var chunkIndex = 0
    while offset < bytes.count {
        let size = max(1, min(chunks[chunkIndex % chunks.count], bytes.count - offset))
        chunkIndex += 1
        buffer.writeBytes(bytes[offset..<(offset + size)])
        offset += size
        while let length = try parser.parse(buffer, into: &arguments) {
            let command = buffer.withUnsafeReadableBytes { frame in
                arguments.withArgv(frame: frame) { argv in
                    (0..<argv.count).map { String(decoding: argv[$0], as: UTF8.self) }
                }
            }
            if !command.isEmpty { commands.append(command) }
            buffer.moveReaderIndex(forwardBy: length)
        }
        buffer.discardReadBytes()
    }
    #expect(buffer.readableBytes == 0, "bytes left over after the last command")
    return commands
}

func multibulk(_ words: [String]) -> [UInt8] {
    var bytes = Array("*\(words.count)\r\n".utf8)
    for word in words {
        bytes += Array("$\(word.utf8.count)\r\n".utf8) + Array(word.utf8) + Array("\r\n".utf8)
    }
    return bytes
}

@Suite("RESP request parser")
struct RESPCommandParserTests {
    static let sample: [[String]] = [
        ["SET", "key:1", "hello world"],
        ["GET", "key:1"],
        ["SET", "empty", ""],
        ["SET", "binary", "a\r\nb\0c"],
        ["MSET", "a", "1", "b", "2", "c", "3"],
        ["PING"],
    ]

    @Test("a pipeline parses the same whatever the read boundaries", arguments: [1, 2, 3, 7, 64, 100_000])
    func fixedSplits(chunk: Int) throws {
        let bytes = Self.sample.flatMap(multibulk)
        #expect(try parseAll(bytes, chunks: [chunk]) == Self.sample)
    }

    @Test("random splits, seeded")
    func randomSplits() throws {
        var generator = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &generator)
        var random = SeededGenerator(seed: seed)
        let bytes = Self.sample.flatMap(multibulk)
        for _ in 0..<200 {
            let chunks = (0..<8).map { _ in Int.random(in: 1...20, using: &random) }
            #expect(try parseAll(bytes, chunks: chunks) == Self.sample, "seed \(seed), chunks \(chunks)")
        }
    }

    @Test("ten thousand pipelined commands in one read")
    func largePipeline() throws {
        let commands = (0..<10_000).map { ["SET", "key:\($0)", "value-\($0)"] }
        let bytes = commands.flatMap(multibulk)
        #expect(try parseAll(bytes, chunks: [bytes.count]) == commands)
    }

    @Test("inline commands, as typed into telnet")
    func inline() throws {
        let text = "PING\r\nSET k \"hello world\"\nGET 'k'\r\n\r\nECHO \"a\\x41\\n\"\r\n"
        #expect(try parseAll(Array(text.utf8), chunks: [1]) == [["PING"], ["SET", "k", "hello world"], ["GET", "k"], ["ECHO", "aA\n"]])
    }

    @Test("inline and multibulk mixed in one stream")
    func mixed() throws {
        let bytes = Array("PING\r\n".utf8) + multibulk(["GET", "x"]) + Array("DBSIZE\n".utf8)
        #expect(try parseAll(bytes, chunks: [5]) == [["PING"], ["GET", "x"], ["DBSIZE"]])
    }

    @Test("empty multibulk commands are skipped")
    func emptyCommands() throws {
        let bytes = Array("*0\r\n*-1\r\n".utf8) + multibulk(["PING"])
        #expect(try parseAll(bytes, chunks: [3]) == [["PING"]])
    }

    @Test("malformed input gets Redis's protocol errors", arguments: [
        ("*abc\r\n", "Protocol error: invalid multibulk length"),
        ("*1048577\r\n", "Protocol error: invalid multibulk length"),
        ("*1\r\n:3\r\n", "Protocol error: expected '$', got ':'"),
        ("*1\r\n$-5\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$x\r\n", "Protocol error: invalid bulk length"),
        ("SET k \"unterminated\r\n", "Protocol error: unbalanced quotes in request"),
        ("GET \"a\"b\r\n", "Protocol error: unbalanced quotes in request"),
    ])
    func protocolErrors(input: String, message: String) {
        #expect(throws: RESPProtocolError(message)) {
            _ = try parseAll(Array(input.utf8), chunks: [input.utf8.count])
        }
    }

    @Test("a bulk longer than proto-max-bulk-len is refused before its bytes arrive")
    func bulkLimit() {
        let limits = RESPParserLimits(maxBulkLength: 1024)
        #expect(throws: RESPProtocolError("Protocol error: invalid bulk length")) {
            _ = try parseAll(Array("*2\r\n$3\r\nSET\r\n$1025\r\n".utf8), chunks: [4], limits: limits)
        }
    }

    @Test("an inline line without end is refused past 64 KiB, not buffered forever")
    func inlineLimit() {
        let line = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024 + 1)
        #expect(throws: RESPProtocolError("Protocol error: too big inline request")) {
            _ = try parseAll(line, chunks: [4096])
        }
        let header = Array("*".utf8) + [UInt8](repeating: UInt8(ascii: "1"), count: 64 * 1024 + 1)
        #expect(throws: RESPProtocolError("Protocol error: too big mbulk count string")) {
            _ = try parseAll(header, chunks: [4096])
        }
    }

    @Test("a huge declared argument count reserves nothing up front")
    func hostileCount() throws {
        var parser = RESPCommandParser()
        var arguments = CommandArguments()
        var buffer = ByteBuffer(string: "*1000000\r\n$3\r\nGET\r\n")
        #expect(try parser.parse(buffer, into: &arguments) == nil)
        #expect(arguments.count == 1)
        #expect(arguments.spans.capacity < 1000)
        buffer.writeString("$1\r\n")
        #expect(try parser.parse(buffer, into: &arguments) == nil)
    }

    @Test("random bytes never crash the parser")
    func fuzz() {
        var random = SeededGenerator(seed: 42)
        let alphabet = Array("*$\r\n0123456789-abc \"'\\x".utf8)
        for _ in 0..<2000 {
            let length = Int.random(in: 0...64, using: &random)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
            _ = try? parseAll(bytes + Array("\r\n".utf8), chunks: [Int.random(in: 1...8, using: &random)])
        }
    }
}

/// A reproducible generator for tests (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
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
