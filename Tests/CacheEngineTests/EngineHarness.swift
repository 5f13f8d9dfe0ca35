import CacheEngine
import NIOCore
import RESP

/// Drives an engine the way the server does — requests through the real RESP parser, replies
/// through the real writer — on a clock the test moves by hand.
final class EngineHarness {
    let engine: Engine
    var now: Int64 = 1_700_000_000_000
    var version = RESPVersion.v2
    let table = CommandTable.shared
    /// What the last blocking command that found nothing asked to wait for.
    var lastBlockRequest: BlockRequest?

    init(seed: UInt64 = 7, configuration: EngineConfiguration = EngineConfiguration()) {
        engine = Engine(seed: seed, configuration: configuration)
    }

    /// Runs one command and returns its reply.
    @discardableResult
    func run(_ words: String...) -> RESPValue {
        run(words.map { Array($0.utf8) })
    }

    func run(_ words: [[UInt8]]) -> RESPValue {
        var request = ByteBuffer()
        request.writeString("*\(words.count)\r\n")
        for word in words {
            request.writeString("$\(word.count)\r\n")
            request.writeBytes(word)
            request.writeString("\r\n")
        }
        var parser = RESPCommandParser()
        var arguments = CommandArguments()
        guard let length = try? parser.parse(request, into: &arguments), length == request.readableBytes else {
            fatalError("the harness built a malformed request")
        }
        var writer = RESPWriter(buffer: ByteBuffer(), version: version)
        request.withUnsafeReadableBytes { frame in
            arguments.withArgv(frame: frame) { argv in
                guard let spec = table.lookup(argv[0]) else {
                    writer.error("ERR unknown command")
                    return
                }
                guard spec.accepts(argumentCount: argv.count) else {
                    writer.error(ErrorReply.wrongArity(spec.name))
                    return
                }
                engine.execute(spec, argv, now: now, into: &writer)
                if let request = engine.takeBlockRequest() {
                    // A blocking command that found nothing writes no reply; the harness
                    // stands in for the server, which would park the client.
                    lastBlockRequest = request
                    writer.simpleString("BLOCKED")
                }
            }
        }
        var reply = writer.buffer
        guard let value = try? RESPValue.parse(from: &reply), reply.readableBytes == 0 else {
            fatalError("the engine wrote a malformed or partial reply: \(String(buffer: writer.buffer))")
        }
        return value
    }

    func advance(milliseconds: Int64) {
        now += milliseconds
    }
}

extension RESPValue {
    static func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }
    static func simple(_ text: String) -> RESPValue { .simpleString(ByteBuffer(string: text)) }
    static let ok = RESPValue.simple("OK")
}
