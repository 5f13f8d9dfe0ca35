/// Dissemination: updates piggybacked on protocol messages, each retransmitted
/// λ·log(n) times, fewest-sent first (SWIM §4.1); gossip to a few members when updates are
/// pending; and push-pull of the whole member list.
extension Membership {
    /// How many times each update is sent before it is dropped.
    var retransmitLimit: Int {
        var digits = 1
        var scale = 10
        while scale < liveCount + 1 {
            digits += 1
            scale *= 10
        }
        return configuration.retransmitMultiplier * digits
    }

    /// The updates to attach to one outgoing message, within the byte budget.
    func piggyback() -> [MemberUpdate] {
        broadcasts.take(budget: configuration.maxPiggybackBytes, limit: retransmitLimit)
    }

    /// Sends pending updates to a few random members.
    func gossip() {
        guard !broadcasts.isEmpty else { return }
        for member in randomLiveMembers(configuration.gossipFanout) {
            let updates = piggyback()
            if updates.isEmpty { return }
            send(.gossip(updates: updates), to: member.address.bus)
        }
    }

    /// Exchanges the full member list with a random live member, and pushes ours to one dead
    /// member — if it is in fact alive on the other side of a healed partition, it will refute
    /// and both sides merge again.
    func pushPull() {
        if let partner = randomLiveMembers(1).first {
            sendState(to: partner.address.bus, wantsReply: true)
        }
        let dead = members.values.filter { $0.record.state == .dead }.sorted { $0.record.id < $1.record.id }
        if !dead.isEmpty {
            let chosen = dead[Int(random.next() % UInt64(dead.count))]
            sendState(to: chosen.record.address.bus, wantsReply: true)
        }
    }

    /// This node's whole view, in chunks that each fit a datagram; the first asks for a reply.
    func sendState(to destination: BusAddress, wantsReply: Bool) {
        let records = allMembers
        let size = max(1, configuration.syncChunkSize)
        var start = 0
        while start < records.count {
            let chunk = Array(records[start..<min(start + size, records.count)])
            send(.sync(members: chunk, wantsReply: wantsReply && start == 0), to: destination)
            start += size
        }
    }

    /// Tokens only matter in news that makes a member hold slots; leaving them out of
    /// suspicions and obituaries keeps those small.
    func strippedForGossip(_ record: MemberRecord) -> MemberRecord {
        var record = record
        if !record.state.holdsSlots || record.state == .suspect { record.tokens = [] }
        return record
    }
}

/// Pending updates, one per member (newer news about a member replaces older), each with the
/// number of times it has been sent. Kept in buckets by that number, oldest first, so taking
/// the least-sent updates costs only what is taken — it happens on every message sent.
struct BroadcastQueue {
    private var pending: [NodeID: (update: MemberUpdate, transmits: Int)] = [:]
    /// `buckets[t]`: ids of the updates sent `t` times, in the order they got there.
    private var buckets: [[NodeID]] = [[]]

    var isEmpty: Bool { pending.isEmpty }
    var count: Int { pending.count }

    mutating func enqueue(_ update: MemberUpdate) {
        let id = update.record.id
        remove(id)
        pending[id] = (update, 0)
        buckets[0].append(id)
    }

    mutating func remove(_ id: NodeID) {
        guard let existing = pending.removeValue(forKey: id) else { return }
        if let position = buckets[existing.transmits].firstIndex(of: id) {
            buckets[existing.transmits].remove(at: position)
        }
    }

    /// The least-sent updates that fit `budget` bytes; each is counted as sent once more and
    /// retired after `limit` sends.
    mutating func take(budget: Int, limit: Int) -> [MemberUpdate] {
        guard !pending.isEmpty else { return [] }
        var used = 0
        var chosen: [MemberUpdate] = []
        var sent: [NodeID] = []
        var full = false
        for transmits in buckets.indices where !full {
            var taken = 0
            for id in buckets[transmits] {
                guard let item = pending[id] else { continue }
                let size = item.update.estimatedSize
                if used + size > budget {
                    full = true
                    break
                }
                used += size
                chosen.append(item.update)
                sent.append(id)
                taken += 1
            }
            buckets[transmits].removeFirst(taken)
        }
        for id in sent {
            guard let item = pending[id] else { continue }
            let transmits = item.transmits + 1
            if transmits >= limit {
                pending.removeValue(forKey: id)
            } else {
                pending[id] = (item.update, transmits)
                while buckets.count <= transmits { buckets.append([]) }
                buckets[transmits].append(id)
            }
        }
        return chosen
    }
}

extension MemberUpdate {
    /// Bytes this update takes in `BusCodec`'s encoding.
    var estimatedSize: Int {
        2 * 20 + 2 + record.address.host.utf8.count + 4 + 8 + 1 + 2 + 8 * record.tokens.count
    }
}
