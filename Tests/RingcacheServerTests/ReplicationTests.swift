import CacheEngine
import Cluster
import NIOCore
import Testing

@testable import RingcacheServer

@Suite struct ReplicationCodecTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func everyFrameRoundTripsAndLargeBatchesAreCompressed() throws {
        var random = SeededRandom(seed: 9)
        let id = NodeID.random(using: &random)
        let slots = SlotRanges(slots: [0, 1, 2, 7, 16383])
        #expect(slots.ranges == [0...2, 7...7, 16383...16383])
        let writes = (0..<500).map { index in
            ReplicationOp.write(ReplicatedKey(key: Self.bytes("key:\(index)"), version: UInt64(index) << 22,
                                              expiry: index % 2 == 0 ? 1_700_000_000_000 : nil,
                                              value: index % 7 == 0 ? nil : Array(repeating: UInt8(ascii: "x"), count: 100)))
        }
        let frames: [ReplicationFrame] = [
            .challenge(nonce: Array(0..<16)),
            .hello(id: id, proof: Array(repeating: 7, count: 32)),
            .batch(firstSequence: 42, ops: writes + [.fillRequest(slots, digests: [1, 2, 3, 4, .max]), .fillBegin(slots, clock: 99), .fillEnd(slots, keys: 3),
                                                      .fillRefused(slots), .resync, .recheck(slots)]),
            .batch(firstSequence: 1, ops: [.write(ReplicatedKey(key: [], version: 0, value: []))]),
            .ack(sequence: .max),
        ]
        var buffer = ByteBuffer()
        for frame in frames { ReplicationCodec.encode(frame, into: &buffer) }
        #expect(buffer.readableBytes < 500 * 100 / 2, "the 50 KB batch of repetitive values is sent LZ4-compressed")
        var decoded: [ReplicationFrame] = []
        // Fed a byte at a time at first: frames may arrive split anywhere.
        var stream = ByteBuffer()
        var source = buffer
        while source.readableBytes > 0 {
            var chunk = source.readSlice(length: min(source.readableBytes, decoded.isEmpty ? 1 : 4096))!
            stream.writeBuffer(&chunk)
            while let frame = try ReplicationCodec.decode(&stream) { decoded.append(frame) }
        }
        #expect(decoded == frames)
    }

    @Test func aCorruptFrameIsAnErrorNotACrash() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(5))
        buffer.writeInteger(UInt8(3))
        buffer.writeInteger(UInt32(0xFFFF_FFFF))
        #expect(throws: ReplicationCodec.DecodeError.self) { _ = try ReplicationCodec.decode(&buffer) }
    }
}

/// Split writes across a partition heal to the higher version on every owner (issue 6),
/// simulated: two owners of every slot take writes while cut off from each other, then run
/// the fill's anti-entropy merge (`SlotMerge`) exactly as the replication links do.
@Suite struct SplitBrainHealTests {
    final class Owner {
        let engine = Engine(seed: 1)
        var clock: HybridLogicalClock
        var now: Int64

        init(id: NodeID, now: Int64) {
            engine.versioning = true
            clock = HybridLogicalClock(nodeID: id)
            self.now = now
        }

        /// A local write: a fresh version, applied here.
        func write(_ key: String, _ value: String?) -> ReplicatedKey {
            now += 1
            let record = ReplicatedKey(key: Array(key.utf8), version: clock.next(now: now), value: value.map { Array($0.utf8) })
            engine.apply(record, now: now)
            return record
        }

        func value(_ key: String) -> String? {
            guard engine.version(of: Array(key.utf8), now: now) != nil else { return nil }
            var found: String?
            var cursor: UInt64 = 0
            repeat {
                cursor = engine.walkStep(cursor: cursor, budget: 1024, now: now) { entryKey, view in
                    if Array(entryKey) == Array(key.utf8) { found = String(decoding: view.record().value ?? [], as: UTF8.self) }
                }
            } while cursor != 0
            return found
        }

        /// What a donor streams for a fill of every slot: its keys, then its recent deletes.
        func fillStream() -> [ReplicatedKey] {
            var records: [ReplicatedKey] = []
            var cursor: UInt64 = 0
            repeat {
                cursor = engine.walkStep(cursor: cursor, budget: 64, now: now) { _, view in records.append(view.record()) }
            } while cursor != 0
            return records + engine.tombstones(matching: { _ in true }, now: now)
        }
    }

    /// Receiver merges a fill from donor; what it holds newer goes back to the donor.
    static func heal(donor: Owner, receiver: Owner) {
        let span = HybridLogicalClock.version(atMilliseconds: Engine.tombstoneRetention)
        let donorClock = donor.clock.next(now: donor.now)
        var merge = SlotMerge(slots: [Bool](repeating: true, count: HashSlot.count), keepLocalFrom: donorClock - span)
        for record in donor.fillStream() { receiver.engine.apply(record, merging: &merge, now: receiver.now) }
        let back = receiver.engine.finishMerge(merge, slotOf: { HashSlot.slot(for: $0) }, now: receiver.now)
        for record in back { donor.engine.apply(record, now: donor.now) }
    }

    @Test(arguments: [false, true])
    func bothOwnersEndWithTheNewestWriteOfEveryKey(minorityIsDonor: Bool) {
        var random = SeededRandom(seed: 21)
        let a = Owner(id: NodeID.random(using: &random), now: 1_700_000_000_000)
        // B's wall clock runs 40 ms behind A's.
        let b = Owner(id: NodeID.random(using: &random), now: 1_700_000_000_000 - 40)
        var newest: [String: ReplicatedKey] = [:]
        func note(_ record: ReplicatedKey) {
            let key = String(decoding: record.key, as: UTF8.self)
            if (newest[key]?.version ?? 0) < record.version { newest[key] = record }
        }
        // Before the partition: written on A, replicated to B.
        for index in 0..<100 {
            let record = a.write("k\(index)", "base-\(index)")
            b.engine.apply(record, now: b.now)
            note(record)
        }
        // The partition: each side takes writes for overlapping keys, interleaved in time.
        for step in 0..<200 {
            let index = Int(random.next() % 100)
            let deleting = random.next() % 10 == 0
            if step % 2 == 0 {
                note(a.write("k\(index)", deleting ? nil : "A-\(step)"))
            } else {
                b.now += 1
                note(b.write("k\(index)", deleting ? nil : "B-\(step)"))
            }
        }
        note(a.write("only-on-a", "a"))
        note(b.write("only-on-b", "b"))
        let everySlot = [Bool](repeating: true, count: HashSlot.count)
        func digests(_ owner: Owner) -> [UInt64] {
            owner.engine.slotDigests(slotOf: { HashSlot.slot(for: $0) }, wanted: everySlot, now: owner.now)
        }
        let differing = zip(digests(a), digests(b)).filter { $0 != $1 }.count
        #expect(differing > 50, "the partition left many slots different")
        // The heal: one side fills the other, which sends back what it holds newer.
        if minorityIsDonor { Self.heal(donor: b, receiver: a) } else { Self.heal(donor: a, receiver: b) }
        var checked = 0
        for (key, record) in newest {
            let expected = record.value.map { String(decoding: $0, as: UTF8.self) }
            #expect(a.value(key) == expected, "A, \(key)")
            #expect(b.value(key) == expected, "B, \(key)")
            checked += 1
        }
        #expect(checked == 102)
        #expect(digests(a) == digests(b), "healed owners agree on every slot's digest: the next fill copies nothing")
        #expect(a.engine.keyspace.count == b.engine.keyspace.count)
    }
}

/// Which slots a node purges when it stops wanting them: every one it may hold keys of, not
/// only those whose fill finished (a stray key was once left for good on a node that had been
/// fenced, in CI's lossy-links fault test).
@Suite struct FillStatePurgeTests {
    static func wanted(_ slots: Set<Int>) -> [Bool] {
        (0..<HashSlot.count).map { slots.contains($0) }
    }

    @Test func aSlotThatStopsBeingWantedIsPurgedWhetherOrNotItsFillFinished() {
        var random = SeededRandom(seed: 5)
        var state = FillState()
        state.release(unwanted: Self.wanted([1, 2, 3]), now: 0)
        #expect(state.purge.isEmpty, "nothing was held before")
        state.filled[1] = true
        state.requested[2] = (NodeID.random(using: &random), 0, true)
        // Slot 3 was wanted, never filled or asked for (a fence cleared both).
        state.release(unwanted: Self.wanted([]), now: 1_000)
        #expect(state.purge == [1, 2, 3])
        #expect(state.purgeAt == 1_000 + FillState.purgeDelay)
        #expect(!state.filled[1] && state.requested.isEmpty)
        state.purge.removeAll()
        state.release(unwanted: Self.wanted([]), now: 2_000)
        #expect(state.purge.isEmpty, "a purged slot is not purged again until it may hold keys again")
    }

    @Test func writesFromAPeerIntoAnUnwantedSlotArePurged() {
        var state = FillState()
        state.release(unwanted: Self.wanted([5]), now: 0)
        state.keysArrived(inSlots: [7, 7, 9])
        state.release(unwanted: Self.wanted([5]), now: 100)
        #expect(state.purge == [7, 9])
        #expect(!state.purge.contains(5), "a wanted slot is never purged")
    }
}

/// A peer that wrote a slot without this node (it had it dead for a moment) sends `recheck`:
/// the slot is asked of that peer again, with digests, once both rings list it as an owner.
@Suite struct FillStateRecheckTests {
    static func plan(local: NodeID, _ ring: [RingNode]) -> OwnershipPlan {
        let map = SlotMap(nodes: ring, replicationFactor: 2)
        return OwnershipPlan(localID: local, current: map, next: map)
    }

    static func ring() -> [RingNode] {
        var random = SeededRandom(seed: 17)
        var ring: [RingNode] = []
        for index in 0..<3 {
            let tokens = index == 0 ? TokenAllocator.initialTokens() : TokenAllocator.tokens(joining: ring)
            ring.append(RingNode(id: NodeID.random(using: &random), tokens: tokens))
        }
        return ring
    }

    @Test func aFilledSlotIsAskedOfThePeerAgainAndAnUnfilledOneIsLeftToItsFill() throws {
        let ring = Self.ring()
        let (local, writer) = (ring[0].id, ring[1].id)
        let plan = Self.plan(local: local, ring)
        let shared = (0..<HashSlot.count).filter { plan.current.owners(of: $0) == [local, writer] || plan.current.owners(of: $0) == [writer, local] }
        let (held, filling) = (try #require(shared.first), try #require(shared.last))
        var state = FillState()
        state.filled[held] = true
        state.requested[filling] = (writer, 0, true)
        state.recheck(SlotRanges(slots: [held, filling]), against: writer, now: 1_000)
        #expect(state.rechecks.keys.sorted() == [held], "the slot being filled gets the writer's keys with its fill")
        #expect(state.slotsFilling == 2, "a node with a recheck due is not settled")
        let due = state.dueRechecks(plan: plan, now: 1_100)
        #expect(due == [writer: [held]])
        #expect(state.filled[held], "still held: served, and a source for other fills, while it is rechecked")
        #expect(state.requested[held]?.donor == writer && state.slotsFilling == 2)
        #expect(state.dueRechecks(plan: plan, now: 1_200).isEmpty, "asked once while the request stands")
        #expect(state.dueRechecks(plan: plan, now: 1_100 + FillState.unansweredTimeout) == [writer: [held]], "asked again when unanswered")
        state.filled([held])
        #expect(state.rechecks.isEmpty && state.requested[held] == nil && state.slotsFilling == 1)
    }

    /// Two nodes that each had the other dead recheck against each other: each still holds the
    /// slot, so each can serve the other's request (a node that let go of it while rechecking
    /// would refuse, and the two would wait on each other forever).
    @Test func twoNodesRecheckingEachOtherBothKeepServingTheSlot() throws {
        let ring = Self.ring()
        let (a, b) = (ring[0].id, ring[1].id)
        let planA = Self.plan(local: a, ring)
        let planB = Self.plan(local: b, ring)
        let slot = try #require((0..<HashSlot.count).first { Set(planA.current.owners(of: $0)) == [a, b] })
        var stateA = FillState(), stateB = FillState()
        stateA.filled[slot] = true
        stateB.filled[slot] = true
        stateA.recheck(SlotRanges(slots: [slot]), against: b, now: 0)
        stateB.recheck(SlotRanges(slots: [slot]), against: a, now: 0)
        #expect(stateA.dueRechecks(plan: planA, now: 10) == [b: [slot]])
        #expect(stateB.dueRechecks(plan: planB, now: 10) == [a: [slot]])
        #expect(stateA.filled[slot] && stateB.filled[slot], "each may serve the other's request")
    }

    @Test func aRefusedRecheckEndsAndARefusedFillIsAskedAgain() throws {
        let ring = Self.ring()
        let (local, peer) = (ring[0].id, ring[1].id)
        let plan = Self.plan(local: local, ring)
        let shared = (0..<HashSlot.count).filter { Set(plan.current.owners(of: $0)) == [local, peer] }
        let (held, filling) = (try #require(shared.first), try #require(shared.last))
        var state = FillState()
        state.filled[held] = true
        state.recheck(SlotRanges(slots: [held]), against: peer, now: 0)
        _ = state.dueRechecks(plan: plan, now: 10)
        state.requested[filling] = (peer, 10, false)
        state.refused(SlotRanges(slots: [held, filling]), by: peer, now: 20)
        #expect(state.rechecks.isEmpty && state.requested[held] == nil && state.filled[held], "the peer was fenced: nothing to recheck")
        #expect(state.requested[filling]?.at == 20 - FillState.unansweredTimeout + 500, "asked again in half a second")
    }

    @Test func aRecheckWaitsUntilThisNodesRingListsThePeerAndLapsesAfterTheRequestTimeout() throws {
        let ring = Self.ring()
        let (local, writer) = (ring[0].id, ring[1].id)
        let whole = Self.plan(local: local, ring)
        // This node's ring lags: it still has the writer dead.
        let lagging = Self.plan(local: local, ring.filter { $0.id != writer })
        let slot = try #require((0..<HashSlot.count).first { whole.current.owners(of: $0).contains(writer) && whole.wanted[$0] && lagging.wanted[$0] })
        var state = FillState()
        state.filled[slot] = true
        state.recheck(SlotRanges(slots: [slot]), against: writer, now: 0)
        #expect(state.dueRechecks(plan: lagging, now: 100).isEmpty)
        #expect(state.rechecks[slot] != nil && state.requested[slot] == nil, "kept, not asked yet")
        #expect(state.dueRechecks(plan: whole, now: 200) == [writer: [slot]])
        #expect(state.dueRechecks(plan: whole, now: FillState.requestTimeout).isEmpty)
        #expect(state.rechecks.isEmpty && state.requested[slot] == nil && state.filled[slot], "lapsed: the slot stays held")
        state.recheck(SlotRanges(slots: [slot]), against: writer, now: 50_000)
        state.release(unwanted: [Bool](repeating: false, count: HashSlot.count), now: 50_001)
        #expect(state.rechecks.isEmpty, "a slot given up needs no recheck")
    }
}
