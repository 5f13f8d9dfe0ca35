/// A member and its score where they are stored, valid during the call that hands it out.
struct ScoredMember {
    let member: UnsafeRawBufferPointer
    let score: Double
}

/// A small sorted set's members and scores back to back in one array, in (score, member)
/// order, as Redis keeps a small sorted set in a listpack: no nodes, no index, and every
/// operation a walk, which for at most `zset-max-listpack-entries` (128) members of at most
/// `zset-max-listpack-value` (64) bytes stays within a few kilobytes.
///
/// An entry is the member's length as a varint, the score's 8 bytes (IEEE 754,
/// little-endian), then the member. Entries keep their order; an insert or removal moves the
/// tail, and the array grows by an eighth beyond what it needs.
struct PackedSortedSet {
    private var bytes: [UInt8] = []
    private(set) var count = 0

    var capacity: Int { bytes.capacity }

    /// The entry at `offset`: its score, where its member lies, and where it ends.
    @inline(__always)
    private static func entry(at offset: Int, in buffer: UnsafeRawBufferPointer) -> (score: Double, member: Range<Int>, end: Int) {
        let (length, lengthSize) = LengthTag.read(buffer, at: offset)
        let scoreOffset = offset + lengthSize
        let score = Double(bitPattern: UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: scoreOffset, as: UInt64.self)))
        let memberStart = scoreOffset + 8
        return (score, memberStart..<(memberStart + length), memberStart + length)
    }

    /// Calls `body` with each entry in order, with its rank and offset, until it returns false.
    private func walk(_ body: (_ rank: Int, _ offset: Int, _ entry: ScoredMember, _ end: Int) -> Bool) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            var rank = 0
            while offset < buffer.count {
                let entry = Self.entry(at: offset, in: buffer)
                let view = ScoredMember(member: UnsafeRawBufferPointer(rebasing: buffer[entry.member]), score: entry.score)
                if !body(rank, offset, view, entry.end) { return }
                offset = entry.end
                rank += 1
            }
        }
    }

    /// `member`'s score, rank and byte range, if present.
    private func find(_ member: UnsafeRawBufferPointer) -> (score: Double, rank: Int, range: Range<Int>)? {
        var found: (Double, Int, Range<Int>)?
        walk { rank, offset, entry, end in
            guard ByteOrder.equal(entry.member, member) else { return true }
            found = (entry.score, rank, offset..<end)
            return false
        }
        return found
    }

    func score(of member: UnsafeRawBufferPointer) -> Double? { find(member)?.score }

    func rank(of member: UnsafeRawBufferPointer) -> Int? { find(member)?.rank }

    /// Adds `member` with `score`, or moves it there; returns whether it is new.
    mutating func set(_ member: UnsafeRawBufferPointer, score: Double) -> Bool {
        let existing = find(member)
        if let existing {
            guard existing.score != score else { return false }
            bytes.removeSubrange(existing.range)
            count -= 1
        }
        // The first entry that sorts after (score, member).
        var position = bytes.count
        walk { _, offset, entry, _ in
            if entry.score > score || (entry.score == score && ByteOrder.precedes(member, entry.member)) {
                position = offset
                return false
            }
            return true
        }
        let entrySize = LengthTag.size(member.count) + 8 + member.count
        let needed = bytes.count + entrySize
        if needed > bytes.capacity {
            var grown: [UInt8] = []
            grown.reserveCapacity(needed + needed / 8)
            grown.append(contentsOf: bytes)
            bytes = grown
        }
        bytes.insert(contentsOf: repeatElement(0, count: entrySize), at: position)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = position + LengthTag.write(member.count, into: buffer, at: position)
            buffer.storeBytes(of: score.bitPattern.littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
            if member.count > 0 { (buffer.baseAddress! + offset).copyMemory(from: member.baseAddress!, byteCount: member.count) }
        }
        count += 1
        return existing == nil
    }

    /// Removes `member`; returns whether it was present.
    mutating func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        guard let existing = find(member) else { return false }
        bytes.removeSubrange(existing.range)
        count -= 1
        return true
    }

    /// How many leading entries `predicate` holds for (it must hold for a prefix).
    func countWhile(_ predicate: (ScoredMember) -> Bool) -> Int {
        var counted = 0
        walk { rank, _, entry, _ in
            guard predicate(entry) else { return false }
            counted = rank + 1
            return true
        }
        return counted
    }

    /// Calls `body` with the entries of `ranks`, ascending or descending, until it returns
    /// false.
    func forEach(ranks: Range<Int>, reverse: Bool, _ body: (ScoredMember) -> Bool) {
        guard !ranks.isEmpty else { return }
        if !reverse {
            walk { rank, _, entry, _ in
                guard rank < ranks.upperBound else { return false }
                return rank < ranks.lowerBound || body(entry)
            }
            return
        }
        // Descending: the entries' offsets first, then the entries from the last one back.
        var offsets: [Int] = []
        offsets.reserveCapacity(ranks.count)
        walk { rank, offset, _, _ in
            guard rank < ranks.upperBound else { return false }
            if rank >= ranks.lowerBound { offsets.append(offset) }
            return true
        }
        bytes.withUnsafeBytes { buffer in
            for offset in offsets.reversed() {
                let entry = Self.entry(at: offset, in: buffer)
                if !body(ScoredMember(member: UnsafeRawBufferPointer(rebasing: buffer[entry.member]), score: entry.score)) { return }
            }
        }
    }
}
