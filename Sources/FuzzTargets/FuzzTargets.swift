import CacheEngine
import NIOCore
import RESP

/// The bodies of the libFuzzer targets (`fuzz/run`), shared with the unit tests that replay
/// the seed corpus and every input that ever crashed (`fuzz/regressions`).
///
/// Each target checks invariants and traps when one fails, which libFuzzer reports as a crash.
public enum FuzzTargets {
    /// Parses `bytes` as a stream of requests: every frame the parser returns lies inside the
    /// input, every argument inside its frame, and parsing always ends (a complete frame, an
    /// incomplete tail, or a protocol error). Before each frame, `peekRequest` (the prefetch
    /// hint) must stay inside the input, and where the parser accepts the frame, agree with it.
    public static func respParser(_ bytes: UnsafeRawBufferPointer) {
        var buffer = ByteBuffer(bytes: bytes)
        var parser = RESPCommandParser()
        parser.limits.maxBulkLength = 1 << 20
        var arguments = CommandArguments()
        var frames = 0
        while buffer.readableBytes > 0 && frames < 10_000 {
            let peeked = buffer.withUnsafeReadableBytes { frame in
                let (key, length) = RESPCommandParser.peekRequest(frame)
                if let key, key.count > 0 {
                    precondition(frame.baseAddress! <= key.baseAddress! && key.baseAddress! + key.count <= frame.baseAddress! + frame.count,
                                 "a peeked key outside the input")
                }
                precondition((length ?? 0) <= frame.count, "a peeked length past the input")
                return (key: key.map { Array($0) }, length: length)
            }
            let length: Int?
            do {
                length = try parser.parse(buffer, into: &arguments)
            } catch {
                return
            }
            guard let length else { return }
            precondition(length > 0 && length <= buffer.readableBytes, "a frame of \(length) bytes from \(buffer.readableBytes)")
            buffer.withUnsafeReadableBytes { frame in
                arguments.withArgv(frame: frame) { argv in
                    if let peekedLength = peeked.length {
                        precondition(peekedLength == length, "peeked \(peekedLength) bytes for a frame of \(length)")
                    }
                    if argv.count >= 2 && frame.first == UInt8(ascii: "*") {
                        precondition(peeked.key == Array(argv[1]), "a peeked key that is not the second argument")
                    }
                    for index in 0..<argv.count {
                        let argument = argv[index]
                        if argument.count > 0 {
                            precondition(argv.base.baseAddress! <= argument.baseAddress! && argument.baseAddress! + argument.count <= argv.base.baseAddress! + argv.base.count,
                                         "an argument outside its frame")
                        }
                    }
                }
            }
            buffer.moveReaderIndex(forwardBy: length)
            frames += 1
        }
    }

    /// Runs the requests in `bytes` on a fresh engine, a millisecond apart: every reply must be
    /// one well-formed RESP value, whatever the command and arguments. The packed encodings'
    /// limits are small, so short inputs cross them both ways.
    public static func engineCommands(_ bytes: UnsafeRawBufferPointer) {
        let engine = Engine(seed: 1, configuration: EngineConfiguration(
            protoMaxBulkLength: 1 << 20, maxMemory: 8 << 20,
            hashEncoding: ListpackLimits(maxPackedEntries: 6, maxPackedValue: 12),
            sortedSetEncoding: ListpackLimits(maxPackedEntries: 6, maxPackedValue: 12), setMaxIntsetEntries: 6))
        let table = CommandTable.shared
        var buffer = ByteBuffer(bytes: bytes)
        var parser = RESPCommandParser()
        parser.limits.maxBulkLength = 1 << 20
        var arguments = CommandArguments()
        var now: Int64 = 1_700_000_000_000
        for _ in 0..<1_000 {
            guard buffer.readableBytes > 0, let length = try? parser.parse(buffer, into: &arguments) else { return }
            var writer = RESPWriter(buffer: ByteBuffer())
            if arguments.count > 0 {
                buffer.withUnsafeReadableBytes { frame in
                    arguments.withArgv(frame: frame) { argv in
                        guard let spec = table.lookup(argv[0]), spec.executor == .engine, spec.accepts(argumentCount: argv.count) else { return }
                        // RESP3 for every other command, so both reply shapes are exercised.
                        writer.version = now % 2 == 0 ? .v3 : .v2
                        engine.execute(spec, argv, now: now, into: &writer)
                        if let request = engine.takeBlockRequest() {
                            engine.stopWaiting(on: request.keys)
                            writer.nullArray()
                        }
                    }
                }
            }
            if writer.buffer.readableBytes > 0 {
                var reply = writer.buffer
                let parsed = try? RESPValue.parse(from: &reply)
                precondition(parsed != nil && reply.readableBytes == 0, "a malformed reply: \(String(buffer: writer.buffer).prefix(200))")
            }
            _ = engine.takeReadyKeys()
            _ = engine.takeKeyspaceEvents()
            buffer.moveReaderIndex(forwardBy: length)
            now += 1
            _ = engine.backgroundStep(now: now, samples: 20)
        }
    }
}
