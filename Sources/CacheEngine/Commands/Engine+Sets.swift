import RESP

/// Set commands (https://redis.io/docs/latest/commands/?group=set).
extension Engine {
    func sadd(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let added = try mutate(argv[1], SetValue.init, create: true, now: now) { set in
            (2..<argv.count).reduce(0) { $0 + (set.insert(argv[$1], maxIntegers: configuration.setMaxIntsetEntries) ? 1 : 0) }
        } ?? 0
        if added > 0 { notify(.set, "sadd", argv[1]) }
        writer.integer(added)
    }

    func srem(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let removed = try mutate(argv[1], SetValue.init, create: false, now: now) { set in
            (2..<argv.count).reduce(0) { $0 + (set.remove(argv[$1]) ? 1 : 0) }
        } ?? 0
        if removed > 0 { notify(.set, "srem", argv[1]) }
        writer.integer(removed)
    }

    func sismember(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        writer.integer(try readable(argv[1], SetValue.self, now: now)?.contains(argv[2]) == true ? 1 : 0)
    }

    func smismember(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let set = try readable(argv[1], SetValue.self, now: now)
        writer.arrayHeader(argv.count - 2)
        for index in 2..<argv.count { writer.integer(set?.contains(argv[index]) == true ? 1 : 0) }
    }

    func smembers(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let set = try readable(argv[1], SetValue.self, now: now)
        writer.setHeader(set?.count ?? 0)
        set?.forEachMember { writer.bulk($0) }
    }

    func scard(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        writer.integer(try readable(argv[1], SetValue.self, now: now)?.count ?? 0)
    }

    /// SPOP key [count]: uniformly random members, removed.
    func spop(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard argv.count <= 3 else { throw .syntax }
        let requested = argv.count == 3 ? try Self.count(argv[2]) : nil
        let popped = try mutate(argv[1], SetValue.init, create: false, now: now) { set in
            var popped: [[UInt8]] = []
            if let requested, requested >= set.count {
                // The whole set, in its own order, as Redis's spopWithCountCommand answers.
                set.forEachMember { popped.append(Array($0)) }
                for member in popped { set.remove(member) }
                return popped
            }
            for _ in 0..<Swift.min(requested ?? 1, set.count) {
                let position = Int.random(in: 0..<set.count, using: &random)
                let member = set.member(at: position)
                set.remove(member)
                popped.append(member)
            }
            return popped
        } ?? [[UInt8]]()
        if !popped.isEmpty { notify(.set, "spop", argv[1]) }
        if requested == nil {
            if let member = popped.first { writer.bulk(member) } else { writer.null() }
        } else {
            writer.setHeader(popped.count)
            for member in popped { writer.bulk(member) }
        }
    }

    /// SRANDMEMBER key [count]
    func srandmember(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard argv.count <= 3 else { throw .syntax }
        let requested: Int?
        if argv.count == 3 {
            guard let parsed = ByteParsing.int64(argv[2]), parsed > Int64.min / 2, parsed < Int64.max / 2 else {
                throw CommandError("ERR value is out of range")
            }
            requested = Int(parsed)
        } else {
            requested = nil
        }
        let set = try readable(argv[1], SetValue.self, now: now)
        guard let requested else {
            if let set {
                let position = Int.random(in: 0..<set.count, using: &random)
                writer.bulk(set.member(at: position))
            } else {
                writer.null()
            }
            return
        }
        let positions = randomPositions(count: set?.count ?? 0, requested: requested)
        writer.arrayHeader(positions.count)
        for position in positions { writer.bulk(set!.member(at: position)) }
    }

    func smove(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        try checkType(argv[2], .set, now: now)
        let member = Array(argv[3])
        if argv[1].elementsEqual(argv[2]) {
            // Moving within one set changes nothing (t_set.c, smoveCommand).
            let isMember = try readable(argv[1], SetValue.self, now: now)?.contains(member) ?? false
            writer.integer(isMember ? 1 : 0)
            return
        }
        let moved = try mutate(argv[1], SetValue.init, create: false, now: now) { $0.remove(member) } ?? false
        guard moved else {
            writer.integer(0)
            return
        }
        notify(.set, "srem", argv[1])
        if try mutate(argv[2], SetValue.init, create: true, now: now, { $0.insert(member, maxIntegers: configuration.setMaxIntsetEntries) }) == true {
            notify(.set, "sadd", argv[2])
        }
        writer.integer(1)
    }

    enum SetOperation { case inter, union, diff }

    /// The sets named by `keys` (nil for a missing key), after checking every one's type.
    func sets(_ argv: Argv, _ keys: Range<Int>, now: Int64) throws(CommandError) -> [SetValue?] {
        var sets: [SetValue?] = []
        for index in keys { sets.append(try readable(argv[index], SetValue.self, now: now)) }
        return sets
    }

    /// The members of the combination, in the first set's order for SINTER and SDIFF.
    static func combine(_ sets: [SetValue?], _ operation: SetOperation, limit: Int = 0) -> [[UInt8]] {
        switch operation {
        case .inter:
            guard !sets.contains(where: { $0 == nil }) else { return [] }
            let present = sets.map { $0! }.sorted { $0.count < $1.count }
            var result: [[UInt8]] = []
            for member in present[0].members where present.dropFirst().allSatisfy({ $0.contains(member) }) {
                result.append(member)
                if limit > 0 && result.count == limit { break }
            }
            return result
        case .union:
            var seen = Set<[UInt8]>()
            var result: [[UInt8]] = []
            for set in sets.compactMap({ $0 }) {
                for member in set.members where seen.insert(member).inserted { result.append(member) }
            }
            return result
        case .diff:
            guard let first = sets.first, let first else { return [] }
            let others = sets.dropFirst().compactMap { $0 }
            return first.members.filter { member in !others.contains { $0.contains(member) } }
        }
    }

    /// SINTER / SUNION / SDIFF key [key ...]
    func setCombination(_ argv: Argv, _ operation: SetOperation, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let members = Self.combine(try sets(argv, 1..<argv.count, now: now), operation)
        writer.setHeader(members.count)
        for member in members { writer.bulk(member) }
    }

    /// SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]
    func setCombinationStore(_ argv: Argv, _ operation: SetOperation, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let members = Self.combine(try sets(argv, 2..<argv.count, now: now), operation)
        let result = SetValue()
        for member in members { result.insert(member, maxIntegers: configuration.setMaxIntsetEntries) }
        let existed = keyspace.findLive(argv[1], hash: keyspace.hash(argv[1]), now: now) != nil
        storeCollection(argv[1], result, now: now)
        if result.count > 0 {
            switch operation {
            case .inter: notify(.set, "sinterstore", argv[1])
            case .union: notify(.set, "sunionstore", argv[1])
            case .diff: notify(.set, "sdiffstore", argv[1])
            }
        } else if existed {
            notify(.generic, "del", argv[1])
        }
        writer.integer(result.count)
    }

    /// SINTERCARD numkeys key [key ...] [LIMIT limit]
    func sintercard(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let (keys, limit) = try Self.numkeysAndLimit(argv, from: 1)
        writer.integer(Self.combine(try sets(argv, keys, now: now), .inter, limit: limit).count)
    }

    /// `numkeys key [key ...] [LIMIT limit]` (SINTERCARD, ZINTERCARD): the key positions and
    /// the limit (0 = none), with Redis's errors.
    static func numkeysAndLimit(_ argv: Argv, from position: Int) throws(CommandError) -> (Range<Int>, Int) {
        guard let numkeys = ByteParsing.int64(argv[position]) else { throw .notInteger }
        guard numkeys > 0 else { throw CommandError("ERR numkeys should be greater than 0") }
        guard numkeys <= Int64(argv.count - position - 1) else { throw CommandError("ERR Number of keys can't be greater than number of args") }
        let keys = (position + 1)..<(position + 1 + Int(numkeys))
        var limit = 0
        var index = keys.upperBound
        while index < argv.count {
            guard ByteParsing.equalsIgnoringCase(argv[index], "LIMIT"), index + 1 < argv.count else { throw .syntax }
            guard let parsed = ByteParsing.int64(argv[index + 1]) else { throw .notInteger }
            guard parsed >= 0 else { throw CommandError("ERR LIMIT can't be negative") }
            limit = Int(parsed)
            index += 2
        }
        return (keys, limit)
    }

    func sscan(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let (pattern, _) = try Self.scanOptions(argv)
        let members = try readable(argv[1], SetValue.self, now: now)?.members ?? []
        let matching = members.filter { Self.matches(pattern, $0) }
        writer.arrayHeader(2)
        writer.bulk("0")
        writer.arrayHeader(matching.count)
        for member in matching { writer.bulk(member) }
    }
}
