import CacheEngine
import NIOCore
import Testing

@testable import RingcacheServer

@Suite("ACL users, the token bucket and protected mode")
struct SecurityTests {
    static func user(_ rules: String...) throws -> ACLUser {
        var user = ACLUser(name: "alice")
        for rule in rules { try user.apply(rule) }
        return user
    }

    static func bytes(_ text: String, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        Array(text.utf8).withUnsafeBytes(body)
    }

    @Test("a new user may do nothing; rules apply in order")
    func rulesInOrder() throws {
        let fresh = ACLUser(name: "nobody")
        #expect(!fresh.enabled && !fresh.allows(.get) && !fresh.isUnrestricted)
        let reader = try Self.user("on", ">pw", "~cache:*", "+@read", "-@dangerous", "&news")
        #expect(reader.allows(.get) && reader.allows(.hgetall) && reader.allows(.zrange))
        #expect(!reader.allows(.set) && !reader.allows(.keys), "KEYS is @read and @dangerous")
        #expect(Self.bytes("cache:1") { reader.allowsKey($0) } && !Self.bytes("other") { reader.allowsKey($0) })
        #expect(Self.bytes("news") { reader.allowsChannel($0) } && !Self.bytes("sport") { reader.allowsChannel($0) })
        #expect(reader.accepts(password: "pw") && !reader.accepts(password: "PW"))
        #expect(reader.passwordHashes == ["30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"], "SHA-256 of 'pw', as Redis stores it")
        #expect(reader.description == "user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~cache:* resetchannels &news -@all +@read -@dangerous")
        let widened = try Self.user("+@read", "-@dangerous", "+@all", "-set")
        #expect(widened.commandRules == ["+@all", "-set"] && widened.allows(.keys) && !widened.allows(.set))
        var disabled = reader
        try disabled.apply("off")
        #expect(!disabled.accepts(password: "pw"))
        try disabled.apply("reset")
        #expect(disabled == ACLUser(name: "alice"))
        #expect(ACLUser.defaultUser().isUnrestricted && ACLUser.defaultUser().accepts(password: "anything"))
    }

    @Test("bad rules are refused with Redis's reasons")
    func badRules() {
        #expect(throws: ACLUser.RuleError.self) { try Self.user("+nosuchcommand") }
        #expect(throws: ACLUser.RuleError.self) { try Self.user("+@nosuchcategory") }
        #expect(throws: ACLUser.RuleError.self) { try Self.user("#abc") }
        #expect(throws: ACLUser.RuleError.self) { try Self.user("badrule") }
        #expect(throws: ACLUser.RuleError.self) { try Self.user("~*", "~cache:*") }
    }

    @Test("an aclfile loads whole or not at all")
    func aclFile() throws {
        let store = ACLStore()
        try store.load(fileText: "# users\nuser alice on >pw ~a:* +get\n\nuser bob off\n", path: "users.acl")
        #expect(store.all.map(\.name) == ["alice", "bob", "default"])
        #expect(store.user(named: "alice")?.allows(.get) == true)
        let before = store.generation
        #expect(throws: ACLUser.RuleError.self) { try store.load(fileText: "user carol on +nosuch\n", path: "users.acl") }
        #expect(store.user(named: "carol") == nil && store.user(named: "alice") != nil && store.generation == before)
        do {
            try store.load(fileText: "alice on\n", path: "users.acl")
            Issue.record("a line without the user keyword loaded")
        } catch {
            #expect(error.message == "users.acl:1: line should start with user keyword")
        }
        store.setDefaultPassword("secret")
        #expect(store.user(named: "default")?.accepts(password: "secret") == true)
        #expect(store.user(named: "default")?.accepts(password: "") == false)
        #expect(store.deleteUsers(["default", "bob", "nobody"]) == 1)
    }

    @Test("the token bucket allows the burst, then the rate")
    func tokenBucket() {
        var bucket = TokenBucket()
        var allowed = 0
        for _ in 0..<20 where bucket.take(now: 1_000, rate: 10, burst: 5) { allowed += 1 }
        #expect(allowed == 5)
        let afterHalfAToken = bucket.take(now: 1_050, rate: 10, burst: 5)
        #expect(!afterHalfAToken, "half a token after 50 ms")
        let afterOneToken = bucket.take(now: 1_100, rate: 10, burst: 5)
        #expect(afterOneToken, "one token after 100 ms")
        var later = 0
        for _ in 0..<20 where bucket.take(now: 60_000, rate: 10, burst: 5) { later += 1 }
        #expect(later == 5, "never more than the burst")
    }

    @Test("protected mode turns away non-loopback peers only without a password")
    func protectedMode() throws {
        let loopback = try SocketAddress(ipAddress: "127.0.0.1", port: 5000)
        let remote = try SocketAddress(ipAddress: "10.1.2.3", port: 5000)
        let remote6 = try SocketAddress(ipAddress: "fd00::1", port: 5000)
        let loopback6 = try SocketAddress(ipAddress: "::1", port: 5000)
        let open = ACLUser.defaultUser()
        var guarded = open
        try guarded.apply(">secret")
        #expect(!ProtectedMode.denies(peer: loopback, enabled: true, defaultUser: open))
        #expect(!ProtectedMode.denies(peer: loopback6, enabled: true, defaultUser: open))
        #expect(ProtectedMode.denies(peer: remote, enabled: true, defaultUser: open))
        #expect(ProtectedMode.denies(peer: remote6, enabled: true, defaultUser: open))
        #expect(!ProtectedMode.denies(peer: remote, enabled: false, defaultUser: open))
        #expect(!ProtectedMode.denies(peer: remote, enabled: true, defaultUser: guarded))
    }
}
