import CacheEngine
import Cluster
import NIOCore

/// Which slots this node holds in full, which it has asked for, and what it has handed over.
struct FillState: Sendable {
    var filled = [Bool](repeating: false, count: HashSlot.count)
    /// Slots asked for and not filled yet: from whom, when, and whether the donor answered
    /// (`fillBegin`). Asked again after `unansweredTimeout` without an answer (the donor had
    /// not heard of this node yet, or the request was lost), after `requestTimeout` with one
    /// (the donor restarted mid-fill), or at once when the plan names another donor.
    var requested: [Int: (donor: NodeID, at: Int64, answered: Bool)] = [:]
    /// When this node first had a plan: slots nobody else holds are taken as filled (empty)
    /// only after `settleTime`, so a node that has not heard of everyone yet does not.
    var firstPlanAt: Int64?
    /// Slots no longer owned whose keys are dropped at `purgeAt`: a delay, so requests routed
    /// by an older table still find their keys meanwhile.
    var purge = Set<Int>()
    var purgeAt: Int64 = 0
    /// Slots whose keys are being dropped now (0 = no purge running).
    var purging = 0
    /// Slots this node may hold keys of: wanted at some point, or written to by a peer, since
    /// they were last purged. A slot that stops being wanted is purged when set here, filled
    /// or not: a fence, a fill cut short by a ring change, or a write from a peer still
    /// routing by an older table all leave keys of slots this node never finished filling.
    var mayHoldKeys = [Bool](repeating: false, count: HashSlot.count)
    /// Slots whose fill to a peer that peer acknowledged (what a leaving node waits for).
    var handedOff: [NodeID: Set<Int>] = [:]
    /// Fills served that have not ended yet.
    var streaming = 0
    /// Filled slots a peer took writes for while its ring did not list this node as their
    /// owner (`recheck`): asked of that peer again with their digests, as a fill, which copies
    /// only slots that differ (Dynamo §4.7's anti-entropy, run when it is known to be owed).
    /// The slot stays filled meanwhile, so this node still serves it and still fills others
    /// from it: two nodes that each had the other dead recheck against each other at once.
    /// Kept until that fill ends, and for at most `requestTimeout`.
    var rechecks: [Int: (peer: NodeID, since: Int64)] = [:]

    static let requestTimeout: Int64 = 30_000
    static let unansweredTimeout: Int64 = 1_000
    static let settleTime: Int64 = 2_000
    static let purgeDelay: Int64 = 10_000

    mutating func planChanged(now: Int64, joined: Bool) {
        if firstPlanAt == nil && joined { firstPlanAt = now }
    }

    /// `donor` cannot fill `slots` now. A fill is asked again in half a second: the donor has
    /// not seen the ring change yet. A recheck ends: the peer that asked for it no longer
    /// holds the slot (it was fenced and refills it, and that fill's merge sends back what it
    /// wrote here).
    mutating func refused(_ slots: SlotRanges, by donor: NodeID, now: Int64) {
        for slot in slots.slots {
            if filled[slot], rechecks[slot]?.peer == donor {
                rechecks[slot] = nil
                requested[slot] = nil
            } else if let request = requested[slot] {
                requested[slot] = (request.donor, now - Self.unansweredTimeout + 500, false)
            }
        }
    }

    /// Slots asked for and not filled yet, and filled ones being rechecked.
    var slotsFilling: Int { requested.count + rechecks.keys.filter { requested[$0] == nil }.count }

    /// `peer` took writes for `slots` without sending them here. Only a slot filled now needs
    /// a recheck: one being filled, or not held, gets the peer's writes with its fill.
    mutating func recheck(_ slots: SlotRanges, against peer: NodeID, now: Int64) {
        for slot in slots.slots where filled[slot] { rechecks[slot] = (peer, now) }
    }

    /// The rechecks to ask for now under `plan`, by the peer to ask: new ones, and those whose
    /// request went unanswered, was refused, or stalled. A recheck waits while the peer is not
    /// an owner in this node's ring yet (the two rings differ for a moment), ends with its
    /// fill (`endFill`), and lapses after `requestTimeout` or when the slot is no longer
    /// wanted or held.
    mutating func dueRechecks(plan: OwnershipPlan, now: Int64) -> [NodeID: [Int]] {
        var due: [NodeID: [Int]] = [:]
        for (slot, recheck) in rechecks {
            if !plan.wanted[slot] || !filled[slot] || now - recheck.since >= Self.requestTimeout {
                rechecks[slot] = nil
                if filled[slot] { requested[slot] = nil }
                continue
            }
            guard plan.current.owners(of: slot).contains(recheck.peer) else { continue }
            if let request = requested[slot], request.donor == recheck.peer,
               now - request.at < (request.answered ? Self.requestTimeout : Self.unansweredTimeout) { continue }
            requested[slot] = (recheck.peer, now, false)
            due[recheck.peer, default: []].append(slot)
        }
        return due
    }

    /// The fill of `slots` ended: they are held, and asked for no more.
    mutating func filled(_ slots: [Int]) {
        for slot in slots {
            filled[slot] = true
            requested[slot] = nil
            rechecks[slot] = nil
        }
    }

    /// Forgets every slot `wanted` no longer lists, and schedules a purge (`purgeDelay` from
    /// `now`) of those that may hold keys here.
    mutating func release(unwanted wanted: [Bool], now: Int64) {
        for slot in 0..<HashSlot.count {
            if wanted[slot] {
                mayHoldKeys[slot] = true
                continue
            }
            filled[slot] = false
            requested[slot] = nil
            rechecks[slot] = nil
            if mayHoldKeys[slot] {
                mayHoldKeys[slot] = false
                purge.insert(slot)
                purgeAt = now + Self.purgeDelay
            }
        }
    }

    /// A peer's writes landed in `slots`: they are purged if this node does not want them.
    mutating func keysArrived(inSlots slots: [Int]) {
        for slot in slots { mayHoldKeys[slot] = true }
    }
}

extension ReplicationService {
    /// Runs every 100 ms on the replication loop: asks for missing slots, takes slots nobody
    /// else holds, turns a filled joiner into a serving member, and drops slots no longer owned.
    func maintain(now: Int64) {
        guard let routing = currentRouting() else { return }
        let plan = routing.plan
        var requests: [NodeID: [Int]] = [:]
        var purgeSlots: [Int] = []
        var becomeServing = false
        var rechecked = 0
        fill.withLock { state in
            guard let firstPlanAt = state.firstPlanAt else { return }
            let settled = now - firstPlanAt >= FillState.settleTime
            state.release(unwanted: plan.wanted, now: now)
            requests = state.dueRechecks(plan: plan, now: now)
            rechecked = requests.values.reduce(0) { $0 + $1.count }
            for slot in 0..<HashSlot.count where plan.wanted[slot] {
                if state.filled[slot] { continue }
                let donor = plan.donor(of: slot)
                // A request stands while its donor is still the one to ask: a donor that died
                // or left mid-fill drops out of the plan, and its slots are asked of the next
                // holder now rather than after `requestTimeout`.
                if let request = state.requested[slot], request.donor == donor,
                   now - request.at < (request.answered ? FillState.requestTimeout : FillState.unansweredTimeout) { continue }
                guard let donor else {
                    // Nobody else holds it now: there is nothing to copy.
                    if settled {
                        state.filled[slot] = true
                        state.requested[slot] = nil
                        state.purge.remove(slot)
                    }
                    continue
                }
                state.requested[slot] = (donor, now, false)
                requests[donor, default: []].append(slot)
            }
            if routing.localPhase == .joining && plan.ownedNext.contains(true) {
                becomeServing = (0..<HashSlot.count).allSatisfy { !plan.ownedNext[$0] || state.filled[$0] }
            }
            if !state.purge.isEmpty && now >= state.purgeAt && state.purging == 0 {
                purgeSlots = Array(state.purge)
                state.purge.removeAll()
                state.purging = purgeSlots.count
            }
        }
        if rechecked > 0 {
            statistics.slotsRechecked.wrappingAdd(rechecked, ordering: .relaxed)
            logger.notice("Rechecking slots a peer wrote without this node", metadata: ["slots": "\(rechecked)"])
        }
        if !requests.isEmpty {
            // What this node holds of them, so the donor sends only slots that differ.
            var asked = [Bool](repeating: false, count: HashSlot.count)
            for slots in requests.values { for slot in slots { asked[slot] = true } }
            let digests = engine.withEngine { $0.slotDigests(slotOf: { HashSlot.slot(for: $0) }, wanted: asked, now: now) }
            for (donor, slots) in requests {
                guard let link = routing.links[donor] else { continue }
                let ranges = SlotRanges(slots: slots)
                logger.info("Asking for slots", metadata: ["donor": "\(donor.short)", "slots": "\(slots.count)"])
                link.enqueue(.fillRequest(ranges, digests: ranges.slots.map { digests[$0] }))
            }
        }
        if becomeServing {
            logger.notice("Every slot this node will own is filled: taking ownership")
            setPhase(.serving)
        }
        if !purgeSlots.isEmpty { purge(purgeSlots) }
    }

    /// Another node asks for `slots`: stream the ones this node holds and may give it.
    func serveFill(_ slots: SlotRanges, digests theirs: [UInt64], to peer: NodeID) {
        guard let routing = currentRouting(), let link = routing.links[peer] else { return }
        let filled = fill.withLock { $0.filled }
        var candidates: [Int] = []
        var refused: [Int] = []
        for slot in slots.slots {
            if filled[slot] && routing.plan.mayFill(slot, to: peer) { candidates.append(slot) } else { refused.append(slot) }
        }
        if !refused.isEmpty { link.enqueue(.fillRefused(SlotRanges(slots: refused))) }
        guard !candidates.isEmpty else { return }
        // Slots whose digests match are already identical there: done without a copy.
        let listed = slots.slots
        var theirDigest = [UInt64?](repeating: nil, count: HashSlot.count)
        if theirs.count == listed.count { for (slot, digest) in zip(listed, theirs) { theirDigest[slot] = digest } }
        var asked = [Bool](repeating: false, count: HashSlot.count)
        for slot in candidates { asked[slot] = true }
        let ours = engine.withEngine { $0.slotDigests(slotOf: { HashSlot.slot(for: $0) }, wanted: asked, now: WallClock.milliseconds()) }
        let same = candidates.filter { theirDigest[$0] == ours[$0] }
        let eligible = candidates.filter { theirDigest[$0] != ours[$0] }
        if !same.isEmpty {
            let sequence = link.enqueue(.fillEnd(SlotRanges(slots: same), keys: 0))
            statistics.slotsIdentical.wrappingAdd(same.count, ordering: .relaxed)
            link.whenAcknowledged(sequence) { [self] in
                fill.withLock { state in
                    if link.isAcknowledged(sequence) { state.handedOff[peer, default: []].formUnion(same) }
                }
            }
        }
        guard !eligible.isEmpty else { return }
        statistics.fillsServed.wrappingAdd(1, ordering: .relaxed)
        fill.withLock { $0.streaming += 1 }
        let ranges = SlotRanges(slots: eligible)
        logger.info("Streaming slots", metadata: ["to": "\(peer.short)", "slots": "\(eligible.count)"])
        link.enqueue(.fillBegin(ranges, clock: nextVersion(now: WallClock.milliseconds())))
        var wanted = [Bool](repeating: false, count: HashSlot.count)
        for slot in eligible { wanted[slot] = true }
        streamStep(FillStream(peer: peer, link: link, ranges: ranges, slots: wanted), cursor: 0)
    }

    struct FillStream: Sendable {
        let peer: NodeID
        let link: ReplicationLink
        let ranges: SlotRanges
        let slots: [Bool]
        var keys = 0
        var bytes = 0
        var started = WallClock.milliseconds()
    }

    /// One bounded slice of a fill: a few hundred table buckets under the engine lock, then
    /// the loop is free again. Throttled to `migration-max-bytes-per-sec`, and paused while
    /// the link has a large backlog.
    private func streamStep(_ stream: FillStream, cursor: UInt64) {
        var stream = stream
        let now = WallClock.milliseconds()
        var stepBytes = 0
        let next = engine.withEngine { engine in
            engine.walkStep(cursor: cursor, budget: 256, now: now) { key, view in
                guard stream.slots[HashSlot.slot(for: key)] else { return }
                let record = view.record()
                stream.link.enqueue(.write(record))
                stream.keys += 1
                stepBytes += ReplicationLink.estimatedSize(.write(record))
            }
        }
        stream.bytes += stepBytes
        statistics.bytesStreamed.wrappingAdd(stepBytes, ordering: .relaxed)
        if next == 0 {
            // Recent deletes follow the keys, so the receiver drops copies deleted here.
            let slots = stream.slots
            let deletes = engine.withEngine { $0.tombstones(matching: { slots[HashSlot.slot(for: $0)] }, now: now) }
            for record in deletes { stream.link.enqueue(.write(record)) }
            let sequence = stream.link.enqueue(.fillEnd(stream.ranges, keys: stream.keys))
            statistics.keysStreamed.wrappingAdd(stream.keys, ordering: .relaxed)
            let peer = stream.peer
            let slotList = stream.ranges.slots
            logger.notice("Slots streamed", metadata: [
                "to": "\(peer.short)", "slots": "\(slotList.count)", "keys": "\(stream.keys)", "bytes": "\(stream.bytes)",
                "ms": "\(WallClock.milliseconds() - stream.started)",
            ])
            let link = stream.link
            link.whenAcknowledged(sequence) { [self] in
                fill.withLock { state in
                    state.streaming -= 1
                    if link.isAcknowledged(sequence) { state.handedOff[peer, default: []].formUnion(slotList) }
                }
            }
            return
        }
        var delay: Int64 = 0
        let rate = migrationBytesPerSecond.load(ordering: .relaxed)
        if rate > 0 { delay = Int64(stepBytes) * 1000 / Int64(rate) }
        if stream.link.pendingCount > 100_000 { delay = max(delay, 20) }
        let loop = group.next()
        let continued = stream
        if delay > 0 {
            loop.scheduleTask(in: .milliseconds(delay)) { self.streamStep(continued, cursor: next) }
        } else {
            loop.execute { self.streamStep(continued, cursor: next) }
        }
    }

    /// A fill of `slots` starts: merge what follows by version (anti-entropy, never "the
    /// donor wins": writes this node took while cut off survive if newer).
    func beginFill(_ slots: SlotRanges, clock donorClock: UInt64, from peer: NodeID) {
        var covered = [Bool](repeating: false, count: HashSlot.count)
        for slot in slots.slots { covered[slot] = true }
        let span = HybridLogicalClock.version(atMilliseconds: Engine.tombstoneRetention)
        let merge = SlotMerge(slots: covered, keepLocalFrom: donorClock > span ? donorClock - span : 0)
        merges.withLock { merges in
            // A fill of any of these slots begun again (asked again after a timeout, or by a
            // donor that restarted mid-stream) replaces the earlier one.
            merges[peer, default: []].removeAll { earlier in slots.slots.contains { earlier.merge.slots[$0] } }
            merges[peer, default: []].append((slots, merge))
        }
        let now = WallClock.milliseconds()
        fill.withLock { state in
            for slot in slots.slots {
                if let request = state.requested[slot] { state.requested[slot] = (request.donor, now, true) }
            }
        }
        logger.info("Filling slots", metadata: ["from": "\(peer.short)", "slots": "\(slots.count)"])
    }

    func endFill(_ slots: SlotRanges, keys: Int, from peer: NodeID) {
        let list = slots.slots
        // The end of the merge under way for exactly these slots (an end for slots whose
        // digests matched has no merge).
        let finished = merges.withLock { merges -> SlotMerge? in
            guard let index = merges[peer]?.firstIndex(where: { $0.slots == slots }) else { return nil }
            return merges[peer]!.remove(at: index).merge
        }
        if let merge = finished {
            let back = engine.withEngine { $0.finishMerge(merge, slotOf: { HashSlot.slot(for: $0) }, now: WallClock.milliseconds()) }
            if !back.isEmpty, let link = link(to: peer) {
                for record in back { link.enqueue(.write(record)) }
                logger.notice("Sent back keys newer here than at the donor", metadata: ["to": "\(peer.short)", "keys": "\(back.count)"])
            }
        }
        fill.withLock { $0.filled(list) }
        statistics.slotsFilled.wrappingAdd(list.count, ordering: .relaxed)
        logger.notice("Slots filled", metadata: ["from": "\(peer.short)", "slots": "\(list.count)", "keys": "\(keys)"])
    }

    /// `peer` lost writes meant for this node: refill what it is the donor of.
    func resync(from peer: NodeID) {
        guard let plan = currentRouting()?.plan else { return }
        fill.withLock { state in
            for slot in 0..<HashSlot.count where state.filled[slot] && plan.donor(of: slot) == peer {
                state.filled[slot] = false
                state.requested[slot] = nil
            }
        }
        logger.warning("A peer dropped writes for this node: refilling its slots", metadata: ["peer": "\(peer.short)"])
    }

    /// This node may hold stale data (it was paused, cut off, or declared dead): it stops
    /// serving, refills every slot, and serves again once filled.
    func fence(reason: String) {
        fill.withLock { state in
            state.filled = [Bool](repeating: false, count: HashSlot.count)
            state.requested.removeAll()
            state.rechecks.removeAll()
            state.firstPlanAt = WallClock.milliseconds()
        }
        logger.warning("This node may hold stale data: refilling before serving again", metadata: ["reason": "\(reason)"])
        setPhase(.joining)
    }

    /// Deletes the keys of slots this node no longer owns, a slice at a time.
    private func purge(_ slots: [Int]) {
        var doomed = [Bool](repeating: false, count: HashSlot.count)
        for slot in slots { doomed[slot] = true }
        let wanted = currentRouting()?.plan.wanted ?? []
        let removed = removeKeys { doomed[$0] && !(wanted.isEmpty ? false : wanted[$0]) }
        statistics.keysPurged.wrappingAdd(removed, ordering: .relaxed)
        fill.withLock { $0.purging = 0 }
        if removed > 0 { logger.info("Dropped keys of slots no longer owned", metadata: ["slots": "\(slots.count)", "keys": "\(removed)"]) }
    }

    private func removeKeys(_ matches: (Int) -> Bool) -> Int {
        var cursor: UInt64 = 0
        var removed = 0
        repeat {
            let step = engine.withEngine { engine in
                engine.removeStep(cursor: cursor, budget: 1024) { matches(HashSlot.slot(for: $0)) }
            }
            cursor = step.cursor
            removed += step.removed
        } while cursor != 0
        return removed
    }

    /// A graceful exit: become `leaving`, wait (up to `timeout`) until every slot this node is
    /// the primary of has reached its next owners and every queued write is acknowledged.
    func handOff(timeout: Duration) async {
        guard isActive.load(ordering: .relaxed) else { return }
        setPhase(.leaving)
        let deadline = ContinuousClock.now + timeout
        let started = WallClock.milliseconds()
        while ContinuousClock.now < deadline {
            if let routing = currentRouting() {
                let handoffs = routing.plan.handoffs()
                let done = fill.withLock { state in
                    handoffs.allSatisfy { peer, slots in state.handedOff[peer, default: []].isSuperset(of: slots) }
                }
                if done && routing.links.values.allSatisfy({ $0.pendingCount == 0 }) {
                    logger.notice("Slots handed over", metadata: ["ms": "\(WallClock.milliseconds() - started)"])
                    return
                }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.warning("Leaving before every slot was handed over (timeout)")
    }
}
