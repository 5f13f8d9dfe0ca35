import Testing

@testable import CacheEngine

@Suite struct HyperLogLogTests {
    static func adding(_ elements: some Sequence<String>) -> HyperLogLog {
        var hyperLogLog = HyperLogLog()
        for element in elements {
            Array(element.utf8).withUnsafeBytes { _ = hyperLogLog.add($0) }
        }
        return hyperLogLog
    }

    static func decode(_ bytes: [UInt8]) throws(HyperLogLog.DecodingError) -> HyperLogLog {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(HyperLogLog.DecodingError) in try HyperLogLog(decoding: raw) } }
        return try result.get()
    }

    /// redis-server 7.0.15's GET after `PFADD k a` and after `PFADD k hello world`: the same
    /// hash, register and count, and the same sparse opcodes.
    @Test func oneElementLandsInRedissRegisterAndEncodesAsRedisDoes() throws {
        let header: [UInt8] = Array("HYLL".utf8) + [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]
        let a = Self.adding(["a"])
        #expect(a.encoded(sparseMaxBytes: 3000) == header + [0x71, 0xA6, 0x84, 0x4E, 0x57])
        #expect(a.registers[12_711] == 2 && a.registers.filter { $0 != 0 }.count == 1)
        #expect(Self.adding(["hello", "world"]).encoded(sparseMaxBytes: 3000) == header + [0x4A, 0xB5, 0x88, 0x59, 0x48, 0x80, 0x5B, 0xFE])
        #expect(a.cardinality == 1)
        #expect(HyperLogLog().cardinality == 0)
    }

    /// Redis answered 100853 and 1008 for these sets: the estimator is Ertl's, to the unit.
    @Test func estimatesMatchRedissToTheUnit() {
        #expect(Self.adding((0..<100_000).map { "e\($0)" }).cardinality == 100_853)
        #expect(Self.adding((0..<1000).map { "e\($0)" }).cardinality == 1008)
    }

    @Test func addingAnElementAgainChangesNothing() {
        var hyperLogLog = Self.adding(["x", "y"])
        let changed = Array("x".utf8).withUnsafeBytes { hyperLogLog.add($0) }
        #expect(!changed)
    }

    @Test func sparseAndDenseRoundTripAndSparseGivesWayPastItsLimit() throws {
        for count in [0, 1, 50, 2000, 30_000] {
            let hyperLogLog = Self.adding((0..<count).map { "k\($0)" })
            let sparse = hyperLogLog.encoded(sparseMaxBytes: 3000)
            let dense = hyperLogLog.encoded(sparseMaxBytes: 0)
            #expect(dense.count == 16 + 12_288 && dense[4] == 0)
            #expect(try Self.decode(dense) == hyperLogLog)
            #expect(try Self.decode(sparse) == hyperLogLog)
            #expect(sparse.count <= 3000 || sparse == dense, "sparse only within hll-sparse-max-bytes")
        }
        #expect(Self.adding((0..<100).map { "k\($0)" }).encoded(sparseMaxBytes: 3000)[4] == 1)
        #expect(Self.adding((0..<30_000).map { "k\($0)" }).encoded(sparseMaxBytes: 3000)[4] == 0)
    }

    @Test func theUnionOfTwoSketchesIsTheSketchOfTheUnion() {
        var left = Self.adding((0..<3000).map { "u\($0)" })
        left.merge(Self.adding((2000..<6000).map { "u\($0)" }))
        #expect(left == Self.adding((0..<6000).map { "u\($0)" }))
    }

    @Test func stringsThatAreNotHyperLogLogsAndCorruptOnesAreTold() {
        let header: [UInt8] = Array("HYLL".utf8) + [1] + [UInt8](repeating: 0, count: 10) + [0x80]
        #expect(throws: HyperLogLog.DecodingError.notHyperLogLog) { try Self.decode(Array("hello".utf8)) }
        #expect(throws: HyperLogLog.DecodingError.notHyperLogLog) { try Self.decode(Array("HYLL".utf8) + [2] + [UInt8](repeating: 0, count: 11)) }
        #expect(throws: HyperLogLog.DecodingError.notHyperLogLog) { try Self.decode(Array("HYLL".utf8) + [UInt8](repeating: 0, count: 100)) }
        #expect(throws: HyperLogLog.DecodingError.corrupt) { try Self.decode(header + [0x7F, 0xFF, 0x7F, 0xFF]) }
        #expect(throws: HyperLogLog.DecodingError.corrupt) { try Self.decode(header + [0x7F]) }
        #expect(throws: HyperLogLog.DecodingError.corrupt) { try Self.decode(header + [0x80]) }
    }

    /// Past `hll-sparse-max-bytes` the value turns dense and PFADD edits its registers in place:
    /// the result is the sketch of every element, whichever path each PFADD took.
    @Test func inPlaceDenseEditsAgreeWithTheSketch() throws {
        let harness = EngineHarness(configuration: EngineConfiguration(hyperLogLogSparseMaxBytes: 200))
        let elements = (0..<5000).map { "d\($0)" }
        for chunk in stride(from: 0, to: elements.count, by: 100) {
            harness.run(["PFADD", "h"].map { Array($0.utf8) } + elements[chunk..<chunk + 100].map { Array($0.utf8) })
        }
        let expected = Self.adding(elements)
        guard case .bulkString(let stored) = harness.run("GET", "h") else { Issue.record("no value"); return }
        let bytes = Array(stored.readableBytesView)
        #expect(bytes[4] == 0, "dense")
        #expect(try Self.decode(bytes) == expected)
        #expect(harness.run("PFCOUNT", "h") == .integer(Int64(expected.cardinality)))
        guard case .bulkString(let cachedValue) = harness.run("GET", "h") else { return }
        #expect(Array(cachedValue.readableBytesView)[15] & 0x80 == 0, "PFCOUNT cached the count")
        #expect(harness.run("PFADD", "h", "d1") == .integer(0), "an element already counted changes nothing")
        // An element that raises a register of this sketch (found on the pure model).
        var grown = expected
        let newcomer = try #require((0..<1000).map { "n\($0)" }.first { element in Array(element.utf8).withUnsafeBytes { grown.add($0) } })
        #expect(harness.run("PFADD", "h", newcomer) == .integer(1))
        guard case .bulkString(let stale) = harness.run("GET", "h") else { return }
        #expect(Array(stale.readableBytesView)[15] & 0x80 != 0, "a write marks the cache stale")
        #expect(try Self.decode(Array(stale.readableBytesView)) == grown)
    }

    @Test func theEngineKeepsTheTTLAndAnswersRedissErrors() {
        let harness = EngineHarness()
        #expect(harness.run("PFADD", "h", "a", "b") == .integer(1))
        #expect(harness.run("EXPIRE", "h", "100") == .integer(1))
        #expect(harness.run("PFADD", "h", "c") == .integer(1))
        #expect(harness.run("PFMERGE", "h", "nokey") == .ok)
        #expect(harness.run("TTL", "h") == .integer(100))
        #expect(harness.run("PFCOUNT", "h") == .integer(3))
        harness.run("SET", "s", "x")
        #expect(harness.run("PFADD", "s", "a") == .error("WRONGTYPE Key is not a valid HyperLogLog string value."))
        harness.run("RPUSH", "l", "x")
        #expect(harness.run("PFCOUNT", "h", "l") == .error("WRONGTYPE Operation against a key holding the wrong kind of value"))
    }
}
