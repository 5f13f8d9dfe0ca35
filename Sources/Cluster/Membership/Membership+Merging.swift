/// Merging what others say into this node's view (SWIM §4.2 with memberlist's rules), and the
/// join handshake.
extension Membership {
    func apply(_ updates: [MemberUpdate], now: Int64) {
        for update in updates { apply(update, now: now) }
    }

    /// Applies one update if it is news: a higher incarnation always is; for the same
    /// incarnation, left > dead > suspect > alive. Accepted news is gossiped on.
    func apply(_ update: MemberUpdate, now: Int64) {
        let record = update.record
        if record.id == local.id {
            refuteIfNeeded(record, reporter: update.reporter, now: now)
            return
        }
        if let bannedUntil = forgotten[record.id] {
            if now < bannedUntil { return }
            forgotten.removeValue(forKey: record.id)
        }
        guard let entry = members[record.id] else {
            // Only a live member is worth learning; news of an unknown member's death is not.
            guard record.state.holdsSlots, !record.tokens.isEmpty else { return }
            let entry = MemberEntry(record: record, changedAt: now)
            if record.state == .suspect { entry.suspicion = Suspicion(startedAt: now, confirmations: [update.reporter]) }
            members[record.id] = entry
            if record.state == .suspect { suspects.insert(record.id) }
            updateLiveIndex(record.id, holdsSlots: true)
            ringVersion += 1
            broadcasts.enqueue(update)
            events.append(MembershipEvent(kind: .joined, member: record))
            return
        }
        let known = entry.record
        if !record.state.holdsSlots || record.state == .suspect, known.state.holdsSlots, update.reporter != record.id,
           isOtherSide(update.reporter, now: now) {
            // A member this node held dead until lately (the other side of a healed partition)
            // reports on one this node's own probes find alive: its view is stale, and taking
            // its word would fail over a healthy member for a moment. Own probes decide.
            return
        }
        let newer = record.incarnation > known.incarnation
        let same = record.incarnation == known.incarnation
        let accepted: Bool
        switch record.state {
        case .alive: accepted = newer
        case .suspect: accepted = (newer && known.state != .left) || (same && known.state == .alive)
        case .dead: accepted = (newer && known.state != .left) || (same && known.state.holdsSlots)
        case .left: accepted = (newer || same) && known.state != .left
        }
        guard accepted else {
            // The same suspicion from another member confirms it (Lifeguard §4.2).
            if record.state == .suspect && same && known.state == .suspect,
               entry.suspicion?.confirmations.insert(update.reporter).inserted == true {
                members[record.id] = entry
                broadcasts.enqueue(update)
            }
            return
        }
        var merged = record
        if merged.tokens.isEmpty { merged.tokens = known.tokens }
        entry.record = merged
        entry.changedAt = now
        entry.suspicion = merged.state == .suspect ? Suspicion(startedAt: now, confirmations: [update.reporter]) : nil
        members[record.id] = entry
        if merged.state == .suspect { suspects.insert(record.id) } else { suspects.remove(record.id) }
        updateLiveIndex(record.id, holdsSlots: merged.state.holdsSlots)
        if merged.state.holdsSlots && !known.state.holdsSlots { entry.revivedAt = now }
        if known.state.holdsSlots != merged.state.holdsSlots || known.tokens != merged.tokens || known.phase != merged.phase { ringVersion += 1 }
        broadcasts.enqueue(MemberUpdate(record: merged, reporter: update.reporter))
        let kind: MembershipEvent.Kind? = switch merged.state {
        case .alive: known.state == .alive ? (known.phase == merged.phase ? nil : .phaseChanged) : .recovered
        case .suspect: .suspected
        case .dead: .dead
        case .left: .left
        }
        if let kind { events.append(MembershipEvent(kind: kind, member: merged)) }
    }

    /// Someone says this node is suspect, dead or gone: answer with a higher incarnation
    /// (SWIM §4.2). Being accused also hints that this node is slow (Lifeguard §4.1).
    func refuteIfNeeded(_ record: MemberRecord, reporter: NodeID, now: Int64) {
        if record.state == .alive {
            adoptIncarnation(record)
            return
        }
        guard record.incarnation >= local.incarnation, !isLeaving else { return }
        local.incarnation = record.incarnation + 1
        statistics.refutations += 1
        adjustHealth(1)
        broadcasts.enqueue(MemberUpdate(record: local, reporter: local.id))
        events.append(MembershipEvent(kind: .refuted, member: local))
        if record.state == .dead || record.state == .left {
            let kind: MembershipEvent.Kind = outvotes(accuser: reporter, now: now) ? .outvotedAccusation : .declaredDead
            events.append(MembershipEvent(kind: kind, member: local))
        }
    }

    /// Others may hold this node alive at a higher incarnation than its own: a seed admitting
    /// a restarted node outbids what the cluster believed of it (see `admit`), and when the
    /// node named two seeds, the second may admit it after the first's news reached it, one
    /// higher again, while the node has already joined through the first. Were that left as
    /// it is, the node's next phase change would carry an incarnation the others already
    /// have, and they would ignore it: a joiner that had taken its slots would stay
    /// "joining" to them. So the node adopts the incarnation, and when what the others hold
    /// is not what it is (another phase), it outbids them at once.
    private func adoptIncarnation(_ record: MemberRecord) {
        guard record.incarnation >= local.incarnation else { return }
        if record.phase == local.phase {
            local.incarnation = record.incarnation
        } else {
            local.incarnation = record.incarnation + 1
            broadcasts.enqueue(MemberUpdate(record: local, reporter: local.id))
        }
    }

    /// Whether being declared dead by `accuser` can be shrugged off: the accuser is on the
    /// other side of a partition that healed (see `isOtherSide`), and without the members of
    /// that side this node still sees a strict majority of the slot-holding members alive.
    /// The other side refills itself, and that merge runs both ways, so its writes reach this
    /// node without this node stopping to serve. A node accused by its own side fences, as
    /// before: its slots were failed over and written to without it.
    func outvotes(accuser: NodeID, now: Int64) -> Bool {
        guard isOtherSide(accuser, now: now) else { return false }
        var known = 1
        var ownSide = 1
        for entry in members.values where entry.record.state == .dead || entry.record.state.holdsSlots {
            known += 1
            if entry.record.state.holdsSlots && !isOtherSide(entry.record.id, now: now) { ownSide += 1 }
        }
        return ownSide * 2 > known
    }

    /// Whether `id` is dead to this node, or came back from dead within two push-pull intervals:
    /// the time it takes the two sides of a healed partition to exchange their views.
    func isOtherSide(_ id: NodeID, now: Int64) -> Bool {
        guard id != local.id else { return false }
        guard let entry = members[id] else { return false }
        return !entry.record.state.holdsSlots || entry.revivedAt > now - 2 * configuration.pushPullInterval
    }

    /// A node asks to join through this one. A node that is itself still waiting to be admitted
    /// founds the cluster when its id is the smaller, so nodes that name each other as seeds
    /// do not wait for each other forever.
    func admit(_ joining: MemberRecord, from source: BusAddress, now: Int64) {
        if !isJoined {
            guard local.id < joining.id else { return }
            local.tokens = local.tokens.isEmpty ? TokenAllocator.initialTokens() : local.tokens
            isJoined = true
            ringVersion += 1
            events.append(MembershipEvent(kind: .admitted, member: local))
        }
        var record = joining
        record.state = .alive
        if record.tokens.isEmpty {
            // A restarted node that lost its file gets its old tokens back; a new one gets
            // tokens chosen against this node's ring.
            record.tokens = members[record.id]?.record.tokens ?? []
            if record.tokens.isEmpty { record.tokens = TokenAllocator.tokens(joining: futureRingNodes) }
        }
        if let known = members[record.id]?.record {
            // Rejoining after a restart: outbid whatever the cluster believes of it.
            record.incarnation = max(record.incarnation, known.incarnation + 1)
        }
        apply(MemberUpdate(record: record, reporter: local.id), now: now)
        send(.joinAccepted(tokens: record.tokens, incarnation: record.incarnation), to: source)
        sendState(to: source, wantsReply: false)
    }

    func acceptAdmission(tokens: [UInt64], incarnation: UInt64, now: Int64) {
        guard !isJoined else { return }
        if local.tokens.isEmpty { local.tokens = tokens }
        local.incarnation = max(local.incarnation, incarnation)
        isJoined = true
        ringVersion += 1
        nextProbeAt = now
        broadcasts.enqueue(MemberUpdate(record: local, reporter: local.id))
        events.append(MembershipEvent(kind: .admitted, member: local))
    }

    /// Forgets members that have been dead or gone for `reapAfter`.
    func reap(now: Int64) {
        guard members.count > live.count else { return }
        for (id, entry) in members where !entry.record.state.holdsSlots && now - entry.changedAt >= configuration.reapAfter {
            members.removeValue(forKey: id)
        }
    }
}
