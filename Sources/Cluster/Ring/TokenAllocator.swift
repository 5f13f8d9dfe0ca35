/// Chooses the ring tokens of a node when it first joins.
///
/// Random tokens cannot meet the balance goal with 16384 slots: a node's share of randomly
/// placed arcs varies like a Poisson count, so at 200 nodes (82 slots each) the largest share is
/// about 1.3x the mean. Instead, as in Cassandra 3's token allocation, the joining node's tokens
/// are placed where they take slots from the most loaded nodes. Tokens stay positions on a
/// consistent-hash ring, so the properties that matter for data movement still hold by
/// construction:
/// - adding a node moves slots only to the new node (its tokens claim prefixes of other
///   nodes' arcs, nothing else changes owner);
/// - removing a node moves only its slots (each of its arcs falls to the next token clockwise).
///
/// The choice depends only on the current ring, so it is deterministic; the seed that admits a
/// joining node runs it with its own view and hands the tokens over.
public enum TokenAllocator {
    /// Tokens per node: enough to take slots from many donors (so a joining node costs each
    /// existing node a little), and few enough that a membership record stays small (8 bytes
    /// each on the wire).
    public static let defaultTokenCount = 32

    /// Tokens for the first node of a cluster: evenly spaced, so later nodes can interleave.
    public static func initialTokens(count: Int = defaultTokenCount) -> [UInt64] {
        let stride = SlotMap.slotCount / count
        return (1...count).map { RingPosition.point(ofSlot: $0 * stride - 1) }
    }

    /// Tokens for a node joining the ring formed by `existing`: they claim about
    /// `slotCount / (existing.count + 1)` slots, taken from the nodes with the most slots first,
    /// a little from each, never more than that fair share.
    public static func tokens(joining existing: [RingNode], count: Int = defaultTokenCount) -> [UInt64] {
        let members = existing.filter { !$0.tokens.isEmpty }.sorted { $0.id < $1.id }
        guard !members.isEmpty else { return initialTokens(count: count) }
        // Runs of slots covered by one token, by owner; a run can only lose a prefix, because a
        // new token at point(p) captures every slot from the run's start up to p.
        var runs = [[Run]](repeating: [], count: members.count)
        var loads = [Int](repeating: 0, count: members.count)
        var tokens: [(position: UInt64, node: Int)] = []
        for (index, member) in members.enumerated() {
            for token in member.tokens { tokens.append((token, index)) }
        }
        tokens.sort { $0.position != $1.position ? $0.position < $1.position : $0.node < $1.node }
        var tokenIndex = 0
        var runStart = 0
        var runToken = -1
        for slot in 0...SlotMap.slotCount {
            var covering = -1
            if slot < SlotMap.slotCount {
                let point = RingPosition.point(ofSlot: slot)
                while tokenIndex < tokens.count && tokens[tokenIndex].position < point { tokenIndex += 1 }
                covering = tokenIndex == tokens.count ? 0 : tokenIndex
            }
            if covering != runToken {
                if runToken >= 0 {
                    let owner = tokens[runToken].node
                    runs[owner].append(Run(start: runStart, length: slot - runStart))
                    loads[owner] += slot - runStart
                }
                runStart = slot
                runToken = covering
            }
        }
        let occupied = Set(existing.flatMap(\.tokens))
        var needed = SlotMap.slotCount / (members.count + 1)
        var chosen: [UInt64] = []
        while needed > 0 && chosen.count < count {
            let quota = (needed + (count - chosen.count) - 1) / (count - chosen.count)
            // The most loaded node with a run to give; ties go to the smaller id (nodes are in
            // id order), so every allocator with the same ring chooses alike.
            guard let donor = loads.indices.filter({ !runs[$0].isEmpty }).max(by: { loads[$0] < loads[$1] || (loads[$0] == loads[$1] && $0 > $1) }),
                  let runIndex = runs[donor].indices.max(by: { runs[donor][$0].length < runs[donor][$1].length || (runs[donor][$0].length == runs[donor][$1].length && runs[donor][$0].start > runs[donor][$1].start) })
            else { break }
            let run = runs[donor][runIndex]
            var take = min(quota, run.length)
            var token = RingPosition.point(ofSlot: run.start + take - 1)
            if occupied.contains(token) {
                // The run's own token sits exactly on its last slot: leave that slot to it.
                take -= 1
                token = RingPosition.point(ofSlot: run.start + take - 1)
            }
            if take <= 0 {
                runs[donor].remove(at: runIndex)
                continue
            }
            chosen.append(token)
            loads[donor] -= take
            needed -= take
            if run.length - take > 0 {
                runs[donor][runIndex] = Run(start: run.start + take, length: run.length - take)
            } else {
                runs[donor].remove(at: runIndex)
            }
        }
        return chosen.sorted()
    }

    struct Run {
        var start: Int
        var length: Int
    }
}
