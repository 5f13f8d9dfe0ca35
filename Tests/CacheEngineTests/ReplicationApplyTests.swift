import CacheEngine
import Testing

/// The engine's side of replication: what a write hands the stream, and how records from
/// other owners are applied (last writer wins by version, deletes remembered as tombstones).
@Suite struct ReplicationApplyTests {
    static func versioned() -> EngineHarness {
        let harness = EngineHarness()
        harness.engine.versioning = true
        return harness
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func everyWriteListsTheKeysItChangedWithTheirNewState() {
        let h = Self.versioned()
        h.engine.writeVersion = 100
        h.run("SET", "a", "1")
        h.run("INCRBY", "a", "41")
        h.run("APPEND", "b", "xy")
        #expect(h.engine.takeChangedKeys() == [Self.bytes("a"), Self.bytes("b")])
        #expect(h.engine.replicatedState(of: Self.bytes("a"), deletedVersion: 0, now: h.now)
            == ReplicatedKey(key: Self.bytes("a"), version: 100, value: Self.bytes("42")))

        h.engine.writeVersion = 200
        h.run("PEXPIRE", "a", "5000")
        #expect(h.engine.takeChangedKeys() == [Self.bytes("a")])
        let expiring = h.engine.replicatedState(of: Self.bytes("a"), deletedVersion: 0, now: h.now)
        #expect(expiring.version == 200 && expiring.expiry == h.now + 5000, "expiry travels as an absolute time")

        h.engine.writeVersion = 300
        h.run("SET", "a", "other", "NX")
        #expect(h.engine.takeChangedKeys().isEmpty, "a write that changes nothing sends nothing")
        h.run("DEL", "a")
        #expect(h.engine.takeChangedKeys() == [Self.bytes("a")])
        #expect(h.engine.replicatedState(of: Self.bytes("a"), deletedVersion: 300, now: h.now)
            == ReplicatedKey(key: Self.bytes("a"), version: 300, value: nil))
        #expect(h.run("GET", "missing") == .null && h.engine.takeChangedKeys().isEmpty, "reads list nothing")
    }

    @Test func theHigherVersionWinsWhateverTheOrderOfArrival() {
        let one = Self.versioned()
        let two = Self.versioned()
        let older = ReplicatedKey(key: Self.bytes("k"), version: 10, value: Self.bytes("old"))
        let newer = ReplicatedKey(key: Self.bytes("k"), version: 20, value: Self.bytes("new"))
        #expect(one.engine.apply(older, now: one.now) && one.engine.apply(newer, now: one.now))
        #expect(two.engine.apply(newer, now: two.now) && !two.engine.apply(older, now: two.now))
        #expect(one.run("GET", "k") == two.run("GET", "k"))
        #expect(two.run("GET", "k") == .bulk("new"))
        #expect(!two.engine.apply(newer, now: two.now), "applying the same record twice changes nothing")
    }

    @Test func aDeleteIsRememberedSoAnOlderWriteCannotBringTheKeyBack() {
        let h = Self.versioned()
        #expect(h.engine.apply(ReplicatedKey(key: Self.bytes("k"), version: 10, value: Self.bytes("v")), now: h.now))
        #expect(h.engine.apply(ReplicatedKey(key: Self.bytes("k"), version: 30, value: nil), now: h.now))
        #expect(h.run("EXISTS", "k") == .integer(0))
        #expect(!h.engine.apply(ReplicatedKey(key: Self.bytes("k"), version: 20, value: Self.bytes("late")), now: h.now))
        #expect(h.run("EXISTS", "k") == .integer(0))
        #expect(h.engine.apply(ReplicatedKey(key: Self.bytes("k"), version: 40, value: Self.bytes("again")), now: h.now))
        #expect(h.run("GET", "k") == .bulk("again"))
        // Tombstones are kept only as long as needed: after the retention, they are gone.
        #expect(h.engine.apply(ReplicatedKey(key: Self.bytes("gone"), version: 50, value: nil), now: h.now))
        #expect(h.engine.tombstoneCount >= 1)
        h.advance(milliseconds: Engine.tombstoneRetention + 1)
        _ = h.engine.apply(ReplicatedKey(key: Self.bytes("other"), version: 60, value: Self.bytes("x")), now: h.now)
        #expect(h.engine.tombstoneCount == 0)
    }

    @Test func expirationsTravelAsTombstonesJustNewerThanTheValue() {
        let h = Self.versioned()
        h.engine.writeVersion = 500
        h.run("SET", "lazy", "v", "PX", "100")
        h.engine.writeVersion = 600
        h.run("SET", "kept", "v")
        _ = h.engine.takeChangedKeys()
        #expect(h.engine.takeExpirations(now: h.now).isEmpty)
        h.advance(milliseconds: 200)
        #expect(h.run("GET", "lazy") == .null)
        #expect(h.engine.takeExpirations(now: h.now) == [ReplicatedKey(key: Self.bytes("lazy"), version: 501, value: nil)])
        #expect(h.engine.takeExpirations(now: h.now).isEmpty, "each expiration is handed over once")
        // The tombstone beats the value it replaces, and a later write beats the tombstone.
        let other = Self.versioned()
        other.engine.apply(ReplicatedKey(key: Self.bytes("lazy"), version: 500, expiry: other.now + 60_000, value: Self.bytes("v")), now: other.now)
        #expect(other.engine.apply(ReplicatedKey(key: Self.bytes("lazy"), version: 501, value: nil), now: other.now))
        #expect(other.run("EXISTS", "lazy") == .integer(0))
        #expect(other.engine.apply(ReplicatedKey(key: Self.bytes("lazy"), version: 700, value: Self.bytes("new")), now: other.now))
    }

    @Test func aRecordThatExpiredInTransitIsNotStored() {
        let h = Self.versioned()
        let record = ReplicatedKey(key: Self.bytes("k"), version: 10, expiry: h.now - 1, value: Self.bytes("v"))
        h.engine.apply(record, now: h.now)
        #expect(h.run("EXISTS", "k") == .integer(0))
        let live = ReplicatedKey(key: Self.bytes("t"), version: 10, expiry: h.now + 1000, value: Self.bytes("v"))
        h.engine.apply(live, now: h.now)
        #expect(h.run("PTTL", "t") == .integer(1000))
    }
}
