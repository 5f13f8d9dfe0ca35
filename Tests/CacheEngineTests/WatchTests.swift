import Testing

@testable import CacheEngine

/// WATCH's half in the engine: which changes fail a transaction and which do not.
@Suite("WATCH")
struct WatchTests {
    func watching(_ h: EngineHarness, _ keys: String...) -> WatchedKeys {
        let watched = WatchedKeys()
        for key in keys {
            Array(key.utf8).withUnsafeBytes { h.engine.watch($0, in: watched, now: h.now) }
        }
        return watched
    }

    @Test("a write to a watched key fails EXEC; reads, other keys and writes that change nothing do not")
    func writes() {
        let h = EngineHarness()
        h.run("SET", "k", "1")
        let watched = watching(h, "k", "absent")
        h.run("GET", "k")
        h.run("SET", "other", "x")
        h.run("SET", "k", "2", "NX")
        h.run("EXPIRE", "k", "100", "GT")
        #expect(h.engine.watchHolds(watched, now: h.now), "nothing changed k")
        h.run("APPEND", "absent", "now")
        #expect(!h.engine.watchHolds(watched, now: h.now), "a watched key that did not exist was created")
        h.engine.unwatch(watched)
        #expect(watched.isEmpty)

        let again = watching(h, "k")
        h.run("HSET", "h", "f", "v")
        #expect(h.engine.watchHolds(again, now: h.now))
        h.run("DEL", "k")
        #expect(!h.engine.watchHolds(again, now: h.now))
        h.engine.unwatch(again)
        h.run("SET", "k", "3")
        #expect(h.engine.watchHolds(again, now: h.now), "unwatched: changes no longer count")
    }

    @Test("collections, expiry and FLUSHALL count as changes")
    func otherChanges() {
        let h = EngineHarness()
        h.run("RPUSH", "list", "a")
        h.run("SET", "lease", "mine", "PX", "100")
        h.run("SET", "k", "v")
        let list = watching(h, "list")
        let lease = watching(h, "lease")
        let key = watching(h, "k")
        h.run("LPOP", "list")
        #expect(!h.engine.watchHolds(list, now: h.now), "the pop emptied and deleted the list")
        #expect(h.engine.watchHolds(lease, now: h.now))
        h.advance(milliseconds: 101)
        #expect(!h.engine.watchHolds(lease, now: h.now), "the lease expired while watched")
        #expect(h.engine.watchHolds(key, now: h.now))
        h.run("FLUSHALL")
        #expect(!h.engine.watchHolds(key, now: h.now))
        for watched in [list, lease, key] { h.engine.unwatch(watched) }
    }
}
