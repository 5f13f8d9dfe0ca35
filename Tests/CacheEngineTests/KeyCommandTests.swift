import RESP
import Testing

@Suite("generic key commands")
struct KeyCommandTests {
    @Test("DEL, UNLINK and EXISTS count keys as Redis does")
    func delExists() {
        let h = EngineHarness()
        h.run("MSET", "a", "1", "b", "2", "c", "3")
        #expect(h.run("EXISTS", "a", "a", "b", "zz") == .integer(3))
        #expect(h.run("DEL", "a", "zz", "a") == .integer(1))
        #expect(h.run("UNLINK", "b", "c") == .integer(2))
        #expect(h.run("DBSIZE") == .integer(0))
    }

    @Test("COPY makes an independent value, accounted for, with the source's TTL")
    func copyIsDeepAndAccounted() {
        let h = EngineHarness()
        let empty = h.engine.keyspace.memoryUsed
        h.run("RPUSH", "l", "a", "b", "c")
        let one = h.engine.keyspace.memoryUsed
        #expect(h.run("COPY", "l", "m") == .integer(1))
        // The copy costs what the original does (a key of the same length, the same elements).
        #expect(h.engine.keyspace.memoryUsed - one == one - empty)
        h.run("RPOP", "m")
        #expect(h.run("LLEN", "l") == .integer(3), "popping the copy leaves the original whole")
        #expect(h.run("COPY", "l", "m") == .integer(0), "an existing destination stays without REPLACE")
        #expect(h.run("COPY", "l", "m", "REPLACE") == .integer(1))
        #expect(h.run("LLEN", "m") == .integer(3))
        h.run("DEL", "l", "m")
        #expect(h.engine.keyspace.memoryUsed == empty)
        h.run("RPUSH", "l", "a")
        h.run("PEXPIRE", "l", "5000")
        h.run("COPY", "l", "m")
        #expect(h.run("PTTL", "m") == .integer(5000), "the copy keeps the source's TTL")
        h.run("SET", "s", "v", "PX", "100")
        h.now += 101
        #expect(h.run("COPY", "s", "t") == .integer(0), "an expired source is absent")
    }

    @Test("a key lives until its expiry time and not a millisecond longer")
    func lazyExpiry() {
        let h = EngineHarness()
        h.run("SET", "k", "v", "PX", "100")
        h.advance(milliseconds: 100)
        #expect(h.run("GET", "k") == .bulk("v"), "at its expiry time the key is still there (Redis: now > when)")
        h.advance(milliseconds: 1)
        #expect(h.run("GET", "k") == .null)
        #expect(h.run("DBSIZE") == .integer(0), "the lookup reclaimed it")
        #expect(h.engine.keyspace.expiredKeys == 1)
    }

    @Test("expired keys are never returned by any command")
    func neverReturned() {
        let h = EngineHarness()
        h.run("SET", "k", "v", "PX", "10")
        h.advance(milliseconds: 11)
        #expect(h.run("EXISTS", "k") == .integer(0))
        #expect(h.run("TTL", "k") == .integer(-2))
        #expect(h.run("TYPE", "k") == .simple("none"))
        #expect(h.run("KEYS", "*") == .array([]))
        #expect(h.run("RANDOMKEY") == .null)
        #expect(h.run("SCAN", "0") == .array([.bulk("0"), .array([])]))
        #expect(h.run("MGET", "k") == .array([.null]))
        #expect(h.run("INCR", "k") == .integer(1), "a write sees an expired key as absent")
        #expect(h.run("TTL", "k") == .integer(-1))
    }

    @Test("TTL rounds to the nearest second; PTTL is exact")
    func ttlRounding() {
        let h = EngineHarness()
        h.run("SET", "k", "v", "PX", "1499")
        #expect(h.run("TTL", "k") == .integer(1))
        h.run("SET", "k", "v", "PX", "1500")
        #expect(h.run("TTL", "k") == .integer(2))
        #expect(h.run("PTTL", "k") == .integer(1500))
        #expect(h.run("PTTL", "missing") == .integer(-2))
        #expect(h.run("EXPIRETIME", "missing") == .integer(-2))
        h.run("SET", "p", "v")
        #expect(h.run("PEXPIRETIME", "p") == .integer(-1))
    }

    @Test("EXPIRE with NX, XX, GT and LT")
    func expireOptions() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        #expect(h.run("EXPIRE", "k", "100", "XX") == .integer(0))
        #expect(h.run("EXPIRE", "k", "100", "GT") == .integer(0), "no TTL counts as infinite for GT")
        #expect(h.run("EXPIRE", "k", "100", "NX") == .integer(1))
        #expect(h.run("EXPIRE", "k", "200", "NX") == .integer(0))
        #expect(h.run("EXPIRE", "k", "50", "GT") == .integer(0))
        #expect(h.run("EXPIRE", "k", "200", "GT") == .integer(1))
        #expect(h.run("EXPIRE", "k", "300", "LT") == .integer(0))
        #expect(h.run("EXPIRE", "k", "150", "LT") == .integer(1))
        #expect(h.run("TTL", "k") == .integer(150))
        h.run("PERSIST", "k")
        #expect(h.run("PEXPIRE", "k", "5000", "LT") == .integer(1), "no TTL counts as infinite for LT")
        #expect(h.run("EXPIRE", "missing", "10") == .integer(0))
        #expect(h.run("EXPIRE", "k", "1", "NX", "XX") == .error("ERR NX and XX, GT or LT options at the same time are not compatible"))
        #expect(h.run("EXPIRE", "k", "1", "GT", "LT") == .error("ERR GT and LT options at the same time are not compatible"))
        #expect(h.run("EXPIRE", "k", "1", "YY") == .error("ERR Unsupported option YY"))
        #expect(h.run("EXPIRE", "k", "x") == .error("ERR value is not an integer or out of range"))
        #expect(h.run("EXPIRE", "k", "9223372036854775807") == .error("ERR invalid expire time in 'expire' command"))
        #expect(h.run("PEXPIRE", "k", "9223372036854775807") == .error("ERR invalid expire time in 'pexpire' command"))
    }

    @Test("an expiry in the past deletes the key at once")
    func pastExpiry() {
        let h = EngineHarness()
        h.run("SET", "a", "1")
        h.run("SET", "b", "1")
        h.run("SET", "c", "1")
        #expect(h.run("EXPIRE", "a", "-1") == .integer(1))
        #expect(h.run("PEXPIREAT", "b", String(h.now)) == .integer(1))
        #expect(h.run("EXPIREAT", "c", "1") == .integer(1))
        #expect(h.run("DBSIZE") == .integer(0))
    }

    @Test("EXPIREAT, PEXPIREAT, EXPIRETIME, PERSIST")
    func absolute() {
        let h = EngineHarness()
        h.run("SET", "k", "v")
        let at = h.now / 1000 + 3600
        #expect(h.run("EXPIREAT", "k", String(at)) == .integer(1))
        #expect(h.run("EXPIRETIME", "k") == .integer(at))
        #expect(h.run("PEXPIRETIME", "k") == .integer(at * 1000))
        #expect(h.run("PERSIST", "k") == .integer(1))
        #expect(h.run("PERSIST", "k") == .integer(0))
        #expect(h.run("TTL", "k") == .integer(-1))
        #expect(h.engine.keyspace.volatileCount == 0)
    }

    @Test("RENAME and RENAMENX move the value and the TTL")
    func rename() {
        let h = EngineHarness()
        h.run("SET", "a", "1", "EX", "100")
        h.run("SET", "b", "2")
        #expect(h.run("RENAME", "a", "c") == .ok)
        #expect(h.run("GET", "c") == .bulk("1"))
        #expect(h.run("TTL", "c") == .integer(100))
        #expect(h.run("EXISTS", "a") == .integer(0))
        #expect(h.run("RENAMENX", "c", "b") == .integer(0))
        #expect(h.run("RENAME", "c", "b") == .ok)
        #expect(h.run("GET", "b") == .bulk("1"))
        #expect(h.run("RENAME", "nope", "x") == .error("ERR no such key"))
        #expect(h.run("RENAME", "b", "b") == .ok)
        #expect(h.run("RENAMENX", "b", "fresh") == .integer(1))
        #expect(h.run("DBSIZE") == .integer(1))
        #expect(h.engine.keyspace.volatileCount == 1)
    }

    @Test("TYPE, TOUCH, OBJECT")
    func introspection() {
        let h = EngineHarness()
        h.run("SET", "i", "12345")
        h.run("SET", "e", "short")
        h.run("SET", "r", String(repeating: "x", count: 45))
        #expect(h.run("TYPE", "i") == .simple("string"))
        #expect(h.run("OBJECT", "ENCODING", "i") == .bulk("int"))
        #expect(h.run("OBJECT", "ENCODING", "e") == .bulk("embstr"))
        #expect(h.run("OBJECT", "ENCODING", "r") == .bulk("raw"))
        #expect(h.run("OBJECT", "ENCODING", "missing") == .null)
        h.advance(milliseconds: 10_000)
        #expect(h.run("OBJECT", "IDLETIME", "i") == .integer(10))
        #expect(h.run("TOUCH", "i", "missing") == .integer(1))
        #expect(h.run("OBJECT", "IDLETIME", "i") == .integer(0))
        #expect(h.run("OBJECT", "nope", "i") == .error("ERR unknown subcommand 'nope'. Try OBJECT HELP."))
    }

    @Test("KEYS with glob patterns")
    func keys() {
        let h = EngineHarness()
        for key in ["hello", "hallo", "hxllo", "hllo", "heeeello", "user:1", "user:2"] { h.run("SET", key, "x") }
        func keys(_ pattern: String) -> Set<String> {
            Set((h.run("KEYS", pattern).elements ?? []).compactMap(\.string))
        }
        #expect(keys("h?llo") == ["hello", "hallo", "hxllo"])
        #expect(keys("h*llo") == ["hello", "hallo", "hxllo", "hllo", "heeeello"])
        #expect(keys("h[ae]llo") == ["hello", "hallo"])
        #expect(keys("h[^e]llo") == ["hallo", "hxllo"])
        #expect(keys("h[a-b]llo") == ["hallo"])
        #expect(keys("user:*") == ["user:1", "user:2"])
        #expect(keys("*").count == 7)
    }

    @Test("RANDOMKEY, FLUSHALL, SCAN options")
    func misc() {
        let h = EngineHarness()
        #expect(h.run("RANDOMKEY") == .null)
        h.run("SET", "only", "1")
        #expect(h.run("RANDOMKEY") == .bulk("only"))
        #expect(h.run("SCAN", "x") == .error("ERR invalid cursor"))
        #expect(h.run("SCAN", "0", "COUNT", "0") == .error("ERR syntax error"))
        #expect(h.run("SCAN", "0", "MATCH") == .error("ERR syntax error"))
        #expect(h.run("SCAN", "0", "TYPE", "hash") == .array([.bulk("0"), .array([])]))
        #expect(h.run("SCAN", "0", "TYPE", "string", "MATCH", "o*") == .array([.bulk("0"), .array([.bulk("only")])]))
        #expect(h.run("FLUSHALL") == .ok)
        #expect(h.run("DBSIZE") == .integer(0))
        #expect(h.run("FLUSHDB", "BOGUS") == .error("ERR syntax error"))
    }
}
