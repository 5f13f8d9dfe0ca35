import Testing

@testable import RESP

@Suite("Peeking at the next request for prefetching")
struct RESPCommandParserPeekTests {
    func peek(_ bytes: [UInt8]) -> (key: String?, length: Int?) {
        bytes.withUnsafeBytes { raw in
            let (key, length) = RESPCommandParser.peekRequest(raw)
            return (key.map { String(decoding: $0, as: UTF8.self) }, length)
        }
    }

    @Test("the key and length of a whole request agree with the parser")
    func wholeRequests() throws {
        for words in [["GET", "user:1"], ["SET", "k", "value"], ["HSET", "h", "f", "v", "f2", "v2"], ["DEL", ""]] {
            let request = multibulk(words)
            let peeked = peek(request + multibulk(["PING"]))
            #expect(peeked.key == words[1])
            #expect(peeked.length == request.count, "the next request starts where this one ends")
            #expect(try parseAll(request, chunks: [request.count]) == [words])
        }
    }

    @Test("a request with no second argument has no key but a length")
    func noKey() {
        let request = multibulk(["PING"])
        #expect(peek(request).key == nil)
        #expect(peek(request).length == request.count)
    }

    @Test("every prefix of a request that is still arriving gives at most what is there")
    func partialRequests() {
        let request = multibulk(["SET", "key:42", "a value of some length"])
        let keyEnd = Array("*3\r\n$3\r\nSET\r\n$6\r\nkey:42".utf8).count
        for cut in 0..<request.count {
            let peeked = peek(Array(request[..<cut]))
            #expect(peeked.length == nil, "no length before the last byte (cut at \(cut))")
            #expect(peeked.key == (cut >= keyEnd ? "key:42" : nil), "cut at \(cut)")
        }
    }

    @Test("inline commands, malformed headers and huge counts give no hint")
    func refusals() {
        #expect(peek(Array("GET key\r\n".utf8)).key == nil)
        #expect(peek(Array("*2\r\n+GET\r\n$1\r\nk\r\n".utf8)).key == nil)
        #expect(peek(Array("*2\r\n$-5\r\nGET\r\n".utf8)).key == nil)
        #expect(peek(Array("*2\r\n$99999999999999999999999\r\nGET\r\n".utf8)).key == nil)
        let long = multibulk(["MSET"] + (0..<20).map { "k\($0)" })
        #expect(peek(long).key == "k0", "the key of a long request is still seen")
        #expect(peek(long).length == nil, "but its length is not measured")
    }
}
