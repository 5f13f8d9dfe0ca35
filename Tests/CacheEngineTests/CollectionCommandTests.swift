import NIOCore
import RESP
import Testing

@testable import CacheEngine

/// The collection types through their commands, against simple models where the reply
/// depends on many operations (the skip list, the packed list's chunks).
@Suite("hashes, lists, sets, sorted sets")
struct CollectionCommandTests {
    static func strings(_ value: RESPValue) -> [String] {
        (value.elements ?? []).compactMap(\.string)
    }

    @Test("WRONGTYPE across every pair of types, and DEL, TYPE and EXPIRE for each")
    func wrongType() {
        let h = EngineHarness()
        h.run("SET", "string", "v")
        h.run("HSET", "hash", "f", "v")
        h.run("RPUSH", "list", "a")
        h.run("SADD", "set", "m")
        h.run("ZADD", "zset", "1", "m")
        let probes: [(String, [String])] = [
            ("string", ["GET"]), ("hash", ["HGET", "_", "f"]), ("list", ["LLEN"]), ("set", ["SCARD"]), ("zset", ["ZCARD"]),
        ]
        for (owner, _) in probes {
            #expect(h.run("TYPE", owner) == .simple(owner))
            for (other, command) in probes where other != owner {
                var words = [command[0], owner]
                words += command.dropFirst(2)
                #expect(h.run(words.map { Array($0.utf8) }) == .error("WRONGTYPE Operation against a key holding the wrong kind of value"),
                        "\(command[0]) on a \(owner)")
            }
            #expect(h.run("EXPIRE", owner, "10") == .integer(1))
        }
        h.advance(milliseconds: 10_001)
        #expect(h.run("DBSIZE") == .integer(5), "expired keys are counted until reclaimed")
        for (owner, _) in probes { #expect(h.run("EXISTS", owner) == .integer(0)) }
        #expect(h.engine.keyspace.entryFootprint == 0, "expiring every type freed everything")
    }

    @Test("a collection's memory is accounted while it grows and shrinks, and freed with it")
    func memoryAccounting() {
        let h = EngineHarness()
        let empty = h.engine.keyspace.memoryUsed
        for index in 0..<1000 {
            h.run("HSET", "h", "field-\(index)", String(repeating: "v", count: 100))
            h.run("RPUSH", "l", String(repeating: "e", count: 100))
            h.run("SADD", "s", "member-\(index)")
            h.run("ZADD", "z", String(index), "member-\(index)")
        }
        let full = h.engine.keyspace.memoryUsed
        #expect(full - empty > 1000 * (100 + 100 + 8 + 8), "element bytes are counted")
        guard case .integer(let hashUsage) = h.run("MEMORY", "USAGE", "h") else {
            Issue.record("MEMORY USAGE did not reply with an integer")
            return
        }
        #expect(hashUsage > 1000 * 100)
        for index in 0..<1000 {
            h.run("HDEL", "h", "field-\(index)")
            h.run("LPOP", "l")
            h.run("SREM", "s", "member-\(index)")
            h.run("ZREM", "z", "member-\(index)")
        }
        #expect(h.run("DBSIZE") == .integer(0), "emptied collections are deleted")
        #expect(h.engine.keyspace.memoryUsed == empty)
    }

    @Test("the packed list agrees with an array model over random operations")
    func listModel() {
        let h = EngineHarness()
        var model: [String] = []
        var random = SplitMix64(seed: 42)
        for step in 0..<4000 {
            let element = "e\(step % 50)"
            switch Int(random.next() % 9) {
            case 0:
                h.run("LPUSH", "l", element)
                model.insert(element, at: 0)
            case 1, 2:
                h.run("RPUSH", "l", element)
                model.append(element)
            case 3:
                let popped = h.run("LPOP", "l")
                #expect(popped == (model.isEmpty ? .null : .bulk(model.removeFirst())))
            case 4:
                let popped = h.run("RPOP", "l")
                #expect(popped == (model.isEmpty ? .null : .bulk(model.removeLast())))
            case 5 where !model.isEmpty:
                let index = Int(random.next() % UInt64(model.count))
                h.run("LSET", "l", String(index), "set\(step)")
                model[index] = "set\(step)"
            case 6:
                let removed = h.run("LREM", "l", "-1", element)
                if let last = model.lastIndex(of: element) {
                    model.remove(at: last)
                    #expect(removed == .integer(1))
                } else {
                    #expect(removed == .integer(0))
                }
            case 7 where model.count > 20:
                h.run("LTRIM", "l", "2", "-3")
                model = Array(model[2..<(model.count - 2)])
            default:
                let index = model.isEmpty ? 0 : Int(random.next() % UInt64(model.count))
                #expect(h.run("LINDEX", "l", String(index)) == (model.isEmpty ? .null : .bulk(model[index])))
            }
        }
        #expect(Self.strings(h.run("LRANGE", "l", "0", "-1")) == model)
        #expect(h.run("LLEN", "l") == .integer(Int64(model.count)))
    }

    @Test("the skip list's order, ranks, counts and ranges agree with a sorted model")
    func sortedSetModel() {
        let h = EngineHarness()
        var model: [String: Double] = [:]
        var random = SplitMix64(seed: 7)
        for step in 0..<3000 {
            let member = "m\(random.next() % 300)"
            let score = Double(Int(random.next() % 100)) / 4
            switch step % 4 {
            case 0, 1:
                h.run("ZADD", "z", String(score), member)
                model[member] = score
            case 2:
                h.run("ZINCRBY", "z", "1.5", member)
                model[member, default: 0] += 1.5
            default:
                h.run("ZREM", "z", member)
                model[member] = nil
            }
        }
        let sorted = model.sorted { $0.value < $1.value || ($0.value == $1.value && Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8))) }
        #expect(Self.strings(h.run("ZRANGE", "z", "0", "-1")) == sorted.map(\.key))
        #expect(h.run("ZCARD", "z") == .integer(Int64(sorted.count)))
        for (rank, entry) in sorted.enumerated() {
            #expect(h.run("ZRANK", "z", entry.key) == .integer(Int64(rank)))
            #expect(h.run("ZREVRANK", "z", entry.key) == .integer(Int64(sorted.count - 1 - rank)))
        }
        for (low, high) in [(0.0, 5.0), (3.25, 3.25), (10.0, 100.0), (-1.0, 0.0)] {
            let inRange = sorted.filter { $0.value >= low && $0.value <= high }
            #expect(h.run("ZCOUNT", "z", String(low), String(high)) == .integer(Int64(inRange.count)))
            #expect(Self.strings(h.run("ZRANGEBYSCORE", "z", String(low), String(high))) == inRange.map(\.key))
            let exclusive = sorted.filter { $0.value > low && $0.value < high }
            #expect(Self.strings(h.run("ZRANGE", "z", "(\(high)", "(\(low)", "BYSCORE", "REV")) == exclusive.reversed().map(\.key))
        }
        let middle = sorted.count / 2
        #expect(Self.strings(h.run("ZRANGE", "z", String(middle), String(middle + 9))) == sorted[middle..<(middle + 10)].map(\.key))
        #expect(Self.strings(h.run("ZRANGE", "z", "0", "4", "REV")) == sorted.reversed().prefix(5).map(\.key))
        let popped = h.run("ZPOPMIN", "z", "3")
        #expect(Self.strings(popped).enumerated().filter { $0.offset % 2 == 0 }.map(\.element) == sorted.prefix(3).map(\.key))
    }

    @Test("a blocking pop that finds nothing asks to wait, and a push marks its key ready")
    func blocking() {
        let h = EngineHarness()
        #expect(h.run("BLPOP", "a", "b", "1.5") == .simple("BLOCKED"))
        #expect(h.lastBlockRequest == BlockRequest(keys: [Array("a".utf8), Array("b".utf8)], timeout: 1500))
        #expect(h.run("BRPOP", "c", "0") == .simple("BLOCKED"))
        #expect(h.lastBlockRequest?.timeout == nil, "0 waits forever")
        h.run("RPUSH", "b", "x", "y")
        h.run("RPUSH", "other", "z")
        #expect(h.engine.takeReadyKeys() == [Array("b".utf8)], "only waited-on keys are signalled")
        #expect(h.run("BLPOP", "a", "b", "1") == .array([.bulk("b"), .bulk("x")]))
        #expect(h.engine.takeReadyKeys() == [Array("b".utf8)], "an element is left for the next waiter")
        h.engine.stopWaiting(on: [Array("a".utf8), Array("b".utf8)])
        h.engine.stopWaiting(on: [Array("a".utf8), Array("b".utf8)])
        h.engine.stopWaiting(on: [Array("c".utf8)])
        #expect(!h.engine.hasWaiters)
        h.run("RPUSH", "b", "more")
        #expect(h.engine.takeReadyKeys().isEmpty)
        #expect(h.run("BLPOP", "q", "-1") == .error("ERR timeout is negative"))
        #expect(h.run("BLPOP", "q", "soon") == .error("ERR timeout is not a float or out of range"))
    }

    @Test("keyspace events follow notify-keyspace-events")
    func keyspaceEvents() {
        let h = EngineHarness(configuration: EngineConfiguration(keyspaceEvents: KeyspaceEventClasses(flags: "Elx")!))
        h.run("HSET", "h", "f", "v")
        h.run("LPUSH", "l", "a")
        h.run("SET", "k", "v", "PX", "10")
        h.advance(milliseconds: 11)
        h.run("GET", "k")
        #expect(h.engine.takeKeyspaceEvents() == [KeyspaceEvent(event: "lpush", key: Array("l".utf8)), KeyspaceEvent(event: "expired", key: Array("k".utf8))])
        #expect(KeyspaceEventClasses(flags: "KEA")?.flags == "AKE")
        #expect(KeyspaceEventClasses(flags: "gx$")?.flags == "g$x")
        #expect(KeyspaceEventClasses(flags: "Q") == nil)
        let silent = EngineHarness(configuration: EngineConfiguration(keyspaceEvents: KeyspaceEventClasses(flags: "A")!))
        silent.run("SET", "k", "v")
        #expect(!silent.engine.hasKeyspaceEvents, "without K or E nothing is sent")
    }

    @Test("every type survives a snapshot and a replication record")
    func portableForms() throws {
        let h = EngineHarness()
        h.engine.versioning = true
        h.run("HSET", "h", "a", "1", "b", "2")
        h.run("RPUSH", "l", "x", "y", "z")
        h.run("SADD", "s", "p", "q")
        h.run("ZADD", "z", "1.5", "m", "-2", "n", "inf", "top")
        h.run("PEXPIRE", "z", "5000")
        let reads = [["HGETALL", "h"], ["LRANGE", "l", "0", "-1"], ["SMEMBERS", "s"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["PTTL", "z"]]
        func answers(_ harness: EngineHarness) -> [RESPValue] {
            reads.map { harness.run($0.map { Array($0.utf8) }) }
        }
        let expected = answers(h)

        #expect(h.engine.beginSnapshot())
        var records: [UInt8] = []
        var count = 0
        while true {
            let step = h.engine.snapshotStep(maxRecords: 10)
            records += step.bytes
            count += step.records
            if step.finished { break }
        }
        var file = SnapshotFormat.header(created: h.now)
        let block = SnapshotFormat.block(records: records, count: count)
        var checksum = CRC32C()
        checksum.update(file)
        checksum.update(block)
        file += block + SnapshotFormat.footer(totalRecords: count, checksum: checksum)
        let restored = EngineHarness()
        restored.now = h.now
        _ = try SnapshotFormat.decode(file) { restored.engine.load($0, now: restored.now) }
        #expect(answers(restored) == expected)

        let replica = EngineHarness()
        replica.now = h.now
        replica.engine.versioning = true
        for key in ["h", "l", "s", "z"] {
            let record = h.engine.replicatedState(of: Array(key.utf8), deletedVersion: 0, now: h.now)
            #expect(record.type != 0)
            #expect(replica.engine.apply(record, now: replica.now))
        }
        #expect(answers(replica) == expected)
    }

    @Test("HINCRBY, HINCRBYFLOAT and ZADD INCR keep Redis's number rules")
    func numbers() {
        let h = EngineHarness()
        #expect(h.run("HINCRBY", "h", "n", "9223372036854775807") == .integer(Int64.max))
        #expect(h.run("HINCRBY", "h", "n", "1") == .error("ERR increment or decrement would overflow"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "0.5") == .bulk("0.5"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "0.25") == .bulk("0.75"))
        #expect(h.run("HINCRBYFLOAT", "h", "f", "abc") == .error("ERR value is not a valid float"))
        #expect(h.run("ZADD", "z", "INCR", "inf", "m") == .bulk("inf"))
        #expect(h.run("ZADD", "z", "INCR", "-inf", "m") == .error("ERR resulting score is not a number (NaN)"))
    }
}

@Suite("CL.THROTTLE")
struct ThrottleTests {
    @Test("the burst passes, then one request per emission interval, with redis-cell's reply")
    func gcra() {
        let h = EngineHarness()
        // 15 burst, 30 per 60 s: one token every 2 s, 16 at once.
        #expect(h.run("CL.THROTTLE", "user", "15", "30", "60") == .array([.integer(0), .integer(16), .integer(15), .integer(-1), .integer(2)]))
        for _ in 0..<15 { h.run("CL.THROTTLE", "user", "15", "30", "60") }
        #expect(h.run("CL.THROTTLE", "user", "15", "30", "60") == .array([.integer(1), .integer(16), .integer(0), .integer(2), .integer(32)]))
        h.advance(milliseconds: 2_000)
        #expect(h.run("CL.THROTTLE", "user", "15", "30", "60").elements?.first == .integer(0), "a token came back after 2 s")
        #expect(h.run("CL.THROTTLE", "user", "15", "30", "60").elements?.first == .integer(1))
        #expect(h.run("CL.THROTTLE", "big", "1", "1", "1", "5") == .array([.integer(1), .integer(2), .integer(2), .integer(-1), .integer(0)]),
                "a quantity above the burst never passes")
        #expect(h.run("PTTL", "user") == .integer(32_000), "the state expires when the bucket is full again")
        h.advance(milliseconds: 40_000)
        #expect(h.run("EXISTS", "user") == .integer(0))
        #expect(h.run("CL.THROTTLE", "user", "x", "30", "60") == .error("ERR value is not an integer or out of range"))
        #expect(h.run("CL.THROTTLE", "user", "1", "0", "60") == .error("ERR invalid count: must be 1 or more"))
        h.run("RPUSH", "list", "a")
        #expect(h.run("CL.THROTTLE", "list", "1", "1", "1") == .error("WRONGTYPE Operation against a key holding the wrong kind of value"))
    }
}

@Suite("compression of collection elements")
struct CollectionCompressionTests {
    @Test("large hash values and list elements are stored compressed and read back whole")
    func compressedElements() {
        let h = EngineHarness(configuration: EngineConfiguration(compressionThreshold: 64))
        let plain = EngineHarness(configuration: EngineConfiguration(compressionThreshold: 0))
        let document = String(repeating: "{\"sku\":\"A-1\",\"price\":12.5,\"tags\":[\"x\",\"y\"]}", count: 40)
        for harness in [h, plain] {
            harness.run("HSET", "h", "doc", document, "small", "v")
            harness.run("RPUSH", "l", document, "tiny", document)
            harness.run("LINSERT", "l", "BEFORE", "tiny", "x")
            harness.run("LSET", "l", "2", document)
        }
        #expect(h.run("HGET", "h", "doc") == .bulk(document))
        #expect(h.run("HSTRLEN", "h", "doc") == .integer(Int64(document.utf8.count)))
        #expect(h.run("LRANGE", "l", "0", "-1") == plain.run("LRANGE", "l", "0", "-1"))
        #expect(h.run("LPOS", "l", document, "COUNT", "0") == .array([.integer(0), .integer(2), .integer(3)]))
        #expect(h.run("LREM", "l", "0", document) == .integer(3))
        #expect(h.run("HGETALL", "h") == plain.run("HGETALL", "h"))
        guard case .integer(let compressedUsage) = h.run("MEMORY", "USAGE", "h"), case .integer(let plainUsage) = plain.run("MEMORY", "USAGE", "h") else {
            Issue.record("MEMORY USAGE did not reply with integers")
            return
        }
        #expect(compressedUsage * 4 < plainUsage, "a repetitive 1.8 KB document compresses well: \(compressedUsage) vs \(plainUsage)")
        #expect(h.run("LMOVE", "l", "m", "LEFT", "LEFT") == .bulk("x"))
        h.run("HDEL", "h", "doc", "small")
        h.run("DEL", "l", "m")
        #expect(h.engine.keyspace.entryFootprint == 0)
    }
}

@Suite struct SortTests {
    /// As in Redis Cluster, patterns that name other keys are refused: they may live on other
    /// nodes. A constant BY only skips the sort.
    @Test func patternsAreRefusedAsInRedisClusterAndAConstantBySkipsTheSort() {
        let h = EngineHarness()
        h.run("RPUSH", "l", "3", "1", "2")
        #expect(h.run("SORT", "l", "BY", "weight_*") == .error("ERR BY option of SORT denied in Cluster mode."))
        #expect(h.run("SORT", "l", "GET", "#") == .error("ERR GET option of SORT denied in Cluster mode."))
        #expect(h.run("SORT", "l", "BY", "nosort") == .array([.bulk("3"), .bulk("1"), .bulk("2")]))
        #expect(h.run("SORT", "l", "DESC", "STORE", "d") == .integer(3))
        #expect(h.run("LRANGE", "d", "0", "-1") == .array([.bulk("3"), .bulk("2"), .bulk("1")]))
        #expect(h.run("SORT_RO", "l", "STORE", "d") == .error("ERR syntax error"))
    }
}
