import Foundation

/// Failure detection: SWIM §3.1 (direct probe, then k indirect probes) with Lifeguard's local
/// health multiplier (§4.1) and dynamic suspicion timeouts (§4.2).
extension Membership {
    /// Each probe period: conclude the previous probe (a miss raises suspicion and lowers this
    /// node's own health score), send indirect probes once the direct one timed out, and start
    /// the next probe in SWIM's randomised round-robin order.
    func advanceProbe(now: Int64) {
        let scale = Int64(localHealth + 1)
        if var current = probe, !current.acknowledged, !current.indirectSent,
           now >= current.sentAt + configuration.probeTimeout * scale {
            let helpers = randomLiveMembers(configuration.indirectChecks, excluding: current.target)
            if let target = members[current.target]?.record {
                for helper in helpers {
                    send(.pingRequest(sequence: current.sequence, target: target.id, address: target.address.bus, updates: piggyback()), to: helper.address.bus)
                }
            }
            current.indirectSent = true
            current.expectedNacks = helpers.count
            probe = current
        }
        guard now >= nextProbeAt else { return }
        if let finished = probe, !finished.acknowledged {
            statistics.failedProbes += 1
            // Lifeguard: every nack we did not get suggests our own links are the problem.
            adjustHealth(finished.expectedNacks > 0 ? max(1, finished.expectedNacks - finished.nacks) : 1)
            suspect(finished.target, now: now)
        }
        probe = nil
        nextProbeAt = now + configuration.probeInterval * Int64(localHealth + 1)
        guard let target = nextProbeTarget() else { return }
        let sequence = nextSequence()
        var updates = piggyback()
        if target.state == .suspect {
            // Make sure a suspected member hears of it, so that it can refute at once.
            let accusation = MemberUpdate(record: strippedForGossip(target), reporter: local.id)
            if !updates.contains(accusation) { updates.append(accusation) }
        }
        send(.ping(sequence: sequence, target: target.id, updates: updates), to: target.address.bus)
        probe = Probe(target: target.id, sequence: sequence, sentAt: now)
    }

    /// The next member in a shuffled round-robin over live members; reshuffled after each
    /// pass, which bounds the time until any member is probed (SWIM §4.3).
    func nextProbeTarget() -> MemberRecord? {
        for _ in 0...(live.count + 1) {
            if probeCursor >= probeOrder.count {
                probeOrder = live
                probeOrder.shuffle(using: &random)
                probeCursor = 0
                if probeOrder.isEmpty { return nil }
            }
            let id = probeOrder[probeCursor]
            probeCursor += 1
            if let record = members[id]?.record, record.state.holdsSlots { return record }
        }
        return nil
    }

    /// An intermediary that heard nothing from the target tells the requester (Lifeguard nack).
    func expireRelays(now: Int64) {
        guard !relays.isEmpty else { return }
        for (sequence, relay) in relays.sorted(by: { $0.key < $1.key }) where now >= relay.deadline {
            relays.removeValue(forKey: sequence)
            send(.nack(sequence: relay.sequence), to: relay.requester)
        }
    }

    /// This node's own probe of `id` failed: suspect it, or — if it is suspect already —
    /// confirm the suspicion under this node's name, so that every member's timer shrinks
    /// (Lifeguard §4.2 counts independent suspicions, which only probe failures produce).
    func suspect(_ id: NodeID, now: Int64) {
        guard var record = members[id]?.record, record.state.holdsSlots else { return }
        record.state = .suspect
        record.tokens = []
        let update = MemberUpdate(record: record, reporter: local.id)
        if members[id]?.record.state == .suspect {
            guard members[id]?.suspicion?.confirmations.insert(local.id).inserted == true else { return }
            broadcasts.enqueue(update)
        } else {
            apply(update, now: now)
        }
    }

    /// Declares dead the suspects whose timeout ran out.
    func expireSuspicions(now: Int64) {
        guard !suspects.isEmpty else { return }
        for id in suspects.sorted() {
            guard let entry = members[id], let suspicion = entry.suspicion else { continue }
            if now >= suspicion.startedAt + suspicionTimeout(confirmations: suspicion.confirmations.count - 1) {
                var record = entry.record
                record.state = .dead
                apply(MemberUpdate(record: record, reporter: local.id), now: now)
            }
        }
    }

    /// Lifeguard §4.2: start at the maximum and shrink logarithmically towards the minimum as
    /// independent confirmations arrive, reaching it after k of them.
    func suspicionTimeout(confirmations: Int) -> Int64 {
        let n = Double(liveCount)
        let minimum = configuration.suspicionMultiplier * max(1, log10(n)) * Double(configuration.probeInterval)
        let maximum = configuration.suspicionMaxMultiplier * minimum
        let expected = min(configuration.indirectChecks, max(0, liveCount - 2))
        guard expected > 0 else { return Int64(minimum) }
        let fraction = log(Double(min(confirmations, expected)) + 1) / log(Double(expected) + 1)
        return Int64(max(minimum, maximum - (maximum - minimum) * fraction))
    }
}

struct Suspicion {
    var startedAt: Int64
    var confirmations: Set<NodeID>
}
