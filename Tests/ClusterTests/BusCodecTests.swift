import Cluster
import Testing

@Suite struct BusCodecTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined()
    }

    @Test func sha256MatchesTheFIPSVectors() {
        #expect(Self.hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func hmacMatchesRFC4231() {
        // Test case 2: key "Jefe".
        let mac = HMACSHA256(key: Array("Jefe".utf8)).authenticate(Array("what do ya want for nothing?".utf8))
        #expect(Self.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Test case 6: a key longer than the block is hashed first.
        let long = HMACSHA256(key: [UInt8](repeating: 0xaa, count: 131)).authenticate(Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        #expect(Self.hex(long) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    static func sampleMessages() -> [Envelope] {
        var random = SeededRandom(seed: 3)
        let a = NodeID.random(using: &random)
        let b = NodeID.random(using: &random)
        let record = MemberRecord(id: b, address: MemberAddress(host: "127.0.0.1", clientPort: 7002, busPort: 17002),
                                  incarnation: 9, state: .suspect, tokens: [1, 2, UInt64.max], phase: .joining)
        let update = MemberUpdate(record: record, reporter: a)
        let messages: [SWIMMessage] = [
            .ping(sequence: 7, target: b, updates: [update, update]),
            .pingRequest(sequence: 8, target: b, address: BusAddress(host: "::1", port: 17003), updates: []),
            .ack(sequence: UInt32.max, updates: [update]),
            .nack(sequence: 3),
            .gossip(updates: [update]),
            .join(record),
            .joinAccepted(tokens: [5, 6], incarnation: 2),
            .sync(members: [record, record], wantsReply: true),
        ]
        return messages.map { Envelope(sender: a, message: $0) }
    }

    @Test(arguments: [nil, "s3cret"])
    func everyMessageRoundTrips(secret: String?) throws {
        let codec = BusCodec(secret: secret)
        for envelope in Self.sampleMessages() {
            #expect(try codec.decode(codec.encode(envelope)) == envelope)
        }
    }

    @Test func aWrongOrMissingSecretIsRejected() {
        let cluster = BusCodec(secret: "right")
        let intruder = BusCodec(secret: "wrong")
        let open = BusCodec(secret: nil)
        let envelope = Self.sampleMessages()[0]
        #expect(throws: BusCodec.DecodeError.unauthenticated) { try cluster.decode(intruder.encode(envelope)) }
        #expect(throws: BusCodec.DecodeError.unauthenticated) { try cluster.decode(open.encode(envelope)) }
        var tampered = cluster.encode(envelope)
        tampered[10] ^= 1
        #expect(throws: BusCodec.DecodeError.unauthenticated) { try cluster.decode(tampered) }
    }

    @Test func truncatedAndGarbageDatagramsAreMalformed() {
        let codec = BusCodec(secret: nil)
        let bytes = codec.encode(Self.sampleMessages()[7])
        for length in [0, 3, 10, bytes.count - 1] {
            #expect(throws: BusCodec.DecodeError.malformed) { try codec.decode(Array(bytes.prefix(length))) }
        }
        #expect(throws: BusCodec.DecodeError.malformed) { try codec.decode(bytes + [0]) }
        var random = SeededRandom(seed: 1)
        for _ in 0..<500 {
            let garbage = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? codec.decode(Self.magic + garbage)
        }
    }

    static let magic: [UInt8] = Array("RCB".utf8) + [1, 0]
}
