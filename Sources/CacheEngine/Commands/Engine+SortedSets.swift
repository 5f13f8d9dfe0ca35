import RESP

/// Sorted-set commands (https://redis.io/docs/latest/commands/?group=sorted-set), over the
/// skip list in `SortedSetValue`.
extension Engine {
    /// A selection of members by rank: `ranks` ascending, sent from the highest down when
    /// `reverse`.
    struct RankSelection {
        var ranks: Range<Int>
        var reverse = false
    }

    /// Members and scores given as arrays, written as `writeScored(_:_:withScores:_:)` writes
    /// a selection.
    static func writeScored(_ entries: [(member: [UInt8], score: Double)], withScores: Bool, _ writer: inout RESPWriter) {
        let pairs = withScores && writer.version == .v3
        writer.arrayHeader(entries.count * (withScores && !pairs ? 2 : 1))
        for (member, score) in entries {
            if pairs { writer.arrayHeader(2) }
            writer.bulk(member)
            if withScores { writer.double(score) }
        }
    }

    /// Writes the selected members, with their scores if asked: in RESP3 a pair per member
    /// with a double, in RESP2 a flat array with the score as a bulk string.
    static func writeScored(_ set: SortedSetValue, _ selection: RankSelection, withScores: Bool, _ writer: inout RESPWriter) {
        let pairs = withScores && writer.version == .v3
        writer.arrayHeader(selection.ranks.count * (withScores && !pairs ? 2 : 1))
        set.forEach(ranks: selection.ranks, reverse: selection.reverse) { entry in
            if pairs { writer.arrayHeader(2) }
            writer.bulk(entry.member)
            if withScores { writer.double(entry.score) }
            return true
        }
    }

    /// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
    func zadd(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        var nx = false, xx = false, gt = false, lt = false, ch = false, incr = false
        var index = 2
        while index < argv.count {
            let option = argv[index]
            if ByteParsing.equalsIgnoringCase(option, "NX") { nx = true }
            else if ByteParsing.equalsIgnoringCase(option, "XX") { xx = true }
            else if ByteParsing.equalsIgnoringCase(option, "GT") { gt = true }
            else if ByteParsing.equalsIgnoringCase(option, "LT") { lt = true }
            else if ByteParsing.equalsIgnoringCase(option, "CH") { ch = true }
            else if ByteParsing.equalsIgnoringCase(option, "INCR") { incr = true }
            else { break }
            index += 1
        }
        let pairs = argv.count - index
        guard pairs > 0, pairs % 2 == 0 else { throw .syntax }
        guard !(nx && xx) else { throw CommandError("ERR XX and NX options at the same time are not compatible") }
        guard !((gt && nx) || (lt && nx) || (gt && lt)) else { throw CommandError("ERR GT, LT, and/or NX options at the same time are not compatible") }
        guard !incr || pairs == 2 else { throw CommandError("ERR INCR option supports a single increment-element pair") }
        var scores: [Double] = []
        for position in stride(from: index, to: argv.count, by: 2) { scores.append(try Self.float(argv[position])) }
        if xx, try readable(argv[1], SortedSetValue.self, now: now) == nil {
            // Nothing to update and nothing may be added: the key is not created.
            if incr { writer.null() } else { writer.integer(0) }
            return
        }
        var incrResult: Double?
        let (added, updated) = try mutate(argv[1], SortedSetValue.init, create: true, now: now) { set throws(CommandError) -> (Int, Int) in
            var added = 0
            var updated = 0
            for (offset, position) in stride(from: index, to: argv.count, by: 2).enumerated() {
                let member = argv[position + 1]
                var score = scores[offset]
                if let current = set.score(of: member) {
                    if nx { continue }
                    if incr {
                        score += current
                        guard !score.isNaN else { throw CommandError("ERR resulting score is not a number (NaN)") }
                    }
                    if (gt && score <= current) || (lt && score >= current) { continue }
                    incrResult = score
                    if score != current {
                        set.set(member, score: score, limits: configuration.sortedSetEncoding)
                        updated += 1
                    }
                } else {
                    if xx { continue }
                    set.set(member, score: score, limits: configuration.sortedSetEncoding)
                    incrResult = score
                    added += 1
                }
            }
            return (added, updated)
        } ?? (0, 0)
        if added + updated > 0 {
            notify(.zset, incr ? "zincr" : "zadd", argv[1])
            signalReady(argv[1])
        }
        if incr {
            if let incrResult { writer.double(incrResult) } else { writer.null() }
        } else {
            writer.integer(ch ? added + updated : added)
        }
    }

    func zincrby(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let increment = try Self.float(argv[2])
        let score = try mutate(argv[1], SortedSetValue.init, create: true, now: now) { set throws(CommandError) -> Double in
            let member = argv[3]
            let score = (set.score(of: member) ?? 0) + increment
            guard !score.isNaN else { throw CommandError("ERR resulting score is not a number (NaN)") }
            set.set(member, score: score, limits: configuration.sortedSetEncoding)
            return score
        } ?? 0
        notify(.zset, "zincr", argv[1])
        signalReady(argv[1])
        writer.double(score)
    }

    func zrem(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let removed = try mutate(argv[1], SortedSetValue.init, create: false, now: now) { set in
            (2..<argv.count).reduce(0) { $0 + (set.remove(argv[$1]) ? 1 : 0) }
        } ?? 0
        if removed > 0 { notify(.zset, "zrem", argv[1]) }
        writer.integer(removed)
    }

    func zscore(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        if let score = try readable(argv[1], SortedSetValue.self, now: now)?.score(of: argv[2]) {
            writer.double(score)
        } else {
            writer.null()
        }
    }

    func zmscore(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let set = try readable(argv[1], SortedSetValue.self, now: now)
        writer.arrayHeader(argv.count - 2)
        for index in 2..<argv.count {
            if let score = set?.score(of: argv[index]) { writer.double(score) } else { writer.null() }
        }
    }

    func zcard(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        writer.integer(try readable(argv[1], SortedSetValue.self, now: now)?.count ?? 0)
    }

    static func scoreRange(_ min: UnsafeRawBufferPointer, _ max: UnsafeRawBufferPointer) throws(CommandError) -> (ScoreBound, ScoreBound) {
        guard let low = ScoreBound(min), let high = ScoreBound(max) else { throw CommandError("ERR min or max is not a float") }
        return (low, high)
    }

    static func lexRange(_ min: UnsafeRawBufferPointer, _ max: UnsafeRawBufferPointer) throws(CommandError) -> (LexBound, LexBound) {
        guard let low = LexBound(min), let high = LexBound(max) else { throw CommandError("ERR min or max not valid string range item") }
        return (low, high)
    }

    /// The ranks of the members whose scores lie between `low` and `high`.
    static func ranks(in set: SortedSetValue, from low: ScoreBound, to high: ScoreBound) -> Range<Int> {
        let first = set.countWhile { !low.admitsFromBelow($0.score) }
        let end = set.countWhile { high.admitsFromAbove($0.score) }
        return first..<Swift.max(first, end)
    }

    /// The ranks of the members between `low` and `high` in lex order.
    static func ranks(in set: SortedSetValue, from low: LexBound, to high: LexBound) -> Range<Int> {
        let first = set.countWhile { !low.admitsFromBelow($0.member) }
        let end = set.countWhile { high.admitsFromAbove($0.member) }
        return first..<Swift.max(first, end)
    }

    func zcount(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let (low, high) = try Self.scoreRange(argv[2], argv[3])
        guard let set = try readable(argv[1], SortedSetValue.self, now: now) else {
            writer.integer(0)
            return
        }
        writer.integer(Self.ranks(in: set, from: low, to: high).count)
    }

    func zrank(_ argv: Argv, reverse: Bool, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard argv.count <= 4 else { throw .syntax }
        let withScore = argv.count == 4
        if withScore && !ByteParsing.equalsIgnoringCase(argv[3], "WITHSCORE") { throw .syntax }
        let member = argv[2]
        guard let set = try readable(argv[1], SortedSetValue.self, now: now), let rank = set.rank(of: member) else {
            if withScore { writer.nullArray() } else { writer.null() }
            return
        }
        let position = reverse ? set.count - 1 - rank : rank
        if withScore {
            writer.arrayHeader(2)
            writer.integer(position)
            writer.double(set.score(of: member)!)
        } else {
            writer.integer(position)
        }
    }

    enum RangeKind { case rank, score, lex }

    /// The selection ZRANGE and its older forms make.
    struct RangeRequest {
        var kind = RangeKind.rank
        var reverse = false
        var withScores = false
        var offset = 0
        var limit = -1
        var hasLimit = false
    }

    /// Parses `[BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` from `index` on.
    static func rangeOptions(_ argv: Argv, from index: Int, allowKind: Bool, request: RangeRequest) throws(CommandError) -> RangeRequest {
        var request = request
        var index = index
        while index < argv.count {
            let option = argv[index]
            if ByteParsing.equalsIgnoringCase(option, "WITHSCORES") {
                request.withScores = true
            } else if ByteParsing.equalsIgnoringCase(option, "LIMIT") && index + 2 < argv.count {
                request.offset = try integer(argv[index + 1])
                request.limit = try integer(argv[index + 2])
                request.hasLimit = true
                index += 2
            } else if allowKind && ByteParsing.equalsIgnoringCase(option, "BYSCORE") {
                request.kind = .score
            } else if allowKind && ByteParsing.equalsIgnoringCase(option, "BYLEX") {
                request.kind = .lex
            } else if allowKind && ByteParsing.equalsIgnoringCase(option, "REV") {
                request.reverse = true
            } else {
                throw .syntax
            }
            index += 1
        }
        if request.hasLimit && request.kind == .rank {
            throw CommandError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        }
        if request.withScores && request.kind == .lex {
            throw CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        }
        return request
    }

    /// Selects members by rank: `start` and `stop` are the command's two bounds as given (for
    /// REV score and lex ranges, max then min). LIMIT's offset and count apply in the
    /// request's direction.
    static func select(_ set: SortedSetValue, _ request: RangeRequest, _ start: UnsafeRawBufferPointer, _ stop: UnsafeRawBufferPointer) throws(CommandError) -> RankSelection {
        let ranks: Range<Int>
        switch request.kind {
        case .rank:
            let first = try integer(start)
            let last = try integer(stop)
            guard let closed = clampedRange(start: first, stop: last, length: set.count) else { return RankSelection(ranks: 0..<0) }
            let range = closed.lowerBound..<(closed.upperBound + 1)
            // REV counts positions from the highest rank down.
            let ascending = request.reverse ? (set.count - range.upperBound)..<(set.count - range.lowerBound) : range
            return RankSelection(ranks: ascending, reverse: request.reverse)
        case .score:
            let (low, high) = request.reverse ? try scoreRange(stop, start) : try scoreRange(start, stop)
            ranks = Self.ranks(in: set, from: low, to: high)
        case .lex:
            let (low, high) = request.reverse ? try lexRange(stop, start) : try lexRange(start, stop)
            ranks = Self.ranks(in: set, from: low, to: high)
        }
        guard request.offset >= 0 else { return RankSelection(ranks: 0..<0) }
        var lower = ranks.lowerBound
        var upper = ranks.upperBound
        if request.reverse {
            upper = Swift.max(lower, upper - request.offset)
            if request.limit >= 0 { lower = Swift.max(lower, upper - request.limit) }
        } else {
            lower = Swift.min(upper, lower + request.offset)
            if request.limit >= 0 { upper = Swift.min(upper, lower + request.limit) }
        }
        return RankSelection(ranks: lower..<upper, reverse: request.reverse)
    }

    /// ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX.
    func zrange(_ argv: Argv, base: RangeRequest, allowKind: Bool, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let request = try Self.rangeOptions(argv, from: 4, allowKind: allowKind, request: base)
        guard let set = try readable(argv[1], SortedSetValue.self, now: now) else {
            // Bounds are still checked, as Redis does.
            _ = try Self.select(SortedSetValue(), request, argv[2], argv[3])
            writer.arrayHeader(0)
            return
        }
        Self.writeScored(set, try Self.select(set, request, argv[2], argv[3]), withScores: request.withScores, &writer)
    }

    /// ZREMRANGEBYSCORE key min max / ZREMRANGEBYRANK key start stop / ZREMRANGEBYLEX key min max
    func zremrange(_ argv: Argv, _ kind: RangeKind, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        var request = RangeRequest()
        request.kind = kind
        _ = try Self.select(SortedSetValue(), request, argv[2], argv[3])
        let removed = try mutate(argv[1], SortedSetValue.init, create: false, now: now) { set throws(CommandError) -> Int in
            var doomed: [[UInt8]] = []
            set.forEach(ranks: try Self.select(set, request, argv[2], argv[3]).ranks) { entry in
                doomed.append(Array(entry.member))
                return true
            }
            for member in doomed { set.remove(member) }
            return doomed.count
        } ?? 0
        if removed > 0 {
            switch kind {
            case .rank: notify(.zset, "zremrangebyrank", argv[1])
            case .score: notify(.zset, "zremrangebyscore", argv[1])
            case .lex: notify(.zset, "zremrangebylex", argv[1])
            }
        }
        writer.integer(removed)
    }

    func zlexcount(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        var request = RangeRequest()
        request.kind = .lex
        _ = try Self.lexRange(argv[2], argv[3])
        let set = try readable(argv[1], SortedSetValue.self, now: now)
        writer.integer(try set.map { set throws(CommandError) in try Self.select(set, request, argv[2], argv[3]).ranks.count } ?? 0)
    }

    /// Pops up to `count` lowest (or highest) members; returns them with their scores.
    func popExtremes(_ key: UnsafeRawBufferPointer, max: Bool, count: Int, now: Int64) throws(CommandError) -> [(member: [UInt8], score: Double)]? {
        let popped = try mutate(key, SortedSetValue.init, create: false, now: now) { set -> [(member: [UInt8], score: Double)] in
            var popped: [(member: [UInt8], score: Double)] = []
            while popped.count < count, let entry = set.entry(atRank: max ? set.count - 1 : 0) {
                popped.append(entry)
                set.remove(entry.member)
            }
            return popped
        }
        if let popped, !popped.isEmpty { notify(.zset, max ? "zpopmax" : "zpopmin", key) }
        return popped
    }

    /// An array of `[member, score]` pairs (ZPOPMIN's RESP3 reply, ZMPOP's in both).
    static func writeMemberScorePairs(_ pairs: [(member: [UInt8], score: Double)], _ writer: inout RESPWriter) {
        writer.arrayHeader(pairs.count)
        for (member, score) in pairs {
            writer.arrayHeader(2)
            writer.bulk(member)
            writer.double(score)
        }
    }

    /// ZPOPMIN / ZPOPMAX key [count]
    func zpop(_ argv: Argv, max: Bool, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard argv.count <= 3 else { throw .syntax }
        let requested = argv.count == 3 ? try Self.count(argv[2]) : nil
        let popped = try popExtremes(argv[1], max: max, count: requested ?? 1, now: now) ?? []
        if requested != nil && writer.version == .v3 {
            Self.writeMemberScorePairs(popped, &writer)
            return
        }
        writer.arrayHeader(popped.count * 2)
        for (member, score) in popped {
            writer.bulk(member)
            writer.double(score)
        }
    }

    /// BZPOPMIN / BZPOPMAX key [key ...] timeout
    func blockingZpop(_ argv: Argv, max: Bool, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let timeout = try Self.blockingTimeout(argv[argv.count - 1])
        for index in 1..<(argv.count - 1) {
            let key = argv[index]
            guard let popped = try popExtremes(key, max: max, count: 1, now: now), let (member, score) = popped.first else { continue }
            if let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now), entry.isCollection { signalReady(key) }
            writer.arrayHeader(3)
            writer.bulk(key)
            writer.bulk(member)
            writer.double(score)
            return
        }
        block(on: (1..<(argv.count - 1)).map { Array(argv[$0]) }, timeout: timeout)
    }

    func zscan(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let (pattern, _) = try Self.scanOptions(argv)
        var matching: [(member: [UInt8], score: Double)] = []
        if let set = try readable(argv[1], SortedSetValue.self, now: now) {
            set.forEach(ranks: 0..<set.count) { entry in
                if pattern.map({ GlobPattern.matches($0, entry.member) }) ?? true { matching.append((Array(entry.member), entry.score)) }
                return true
            }
        }
        writer.arrayHeader(2)
        writer.bulk("0")
        writer.arrayHeader(matching.count * 2)
        for (member, score) in matching {
            writer.bulk(member)
            // ZSCAN sends scores as strings in both protocols.
            writer.bulk(RESPWriter.formatDouble(score))
        }
    }

    /// ZRANGESTORE destination source min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]:
    /// ZRANGE's selection stored as a new sorted set (WITHSCORES is a syntax error here).
    func zrangestore(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let request = try Self.rangeOptions(argv, from: 5, allowKind: true, request: RangeRequest())
        guard !request.withScores else { throw .syntax }
        let source = try readable(argv[2], SortedSetValue.self, now: now)
        let result = SortedSetValue()
        // Bounds are checked even when the source is missing, as Redis does.
        let selected = try Self.select(source ?? SortedSetValue(), request, argv[3], argv[4])
        source?.forEach(ranks: selected.ranks, reverse: selected.reverse) { entry in
            result.set(entry.member, score: entry.score, limits: configuration.sortedSetEncoding)
            return true
        }
        writer.integer(storeSortedSet(result, at: argv[1], event: "zrangestore", now: now))
    }

    /// ZRANDMEMBER key [count [WITHSCORES]], with HRANDFIELD's rules for the count.
    func zrandmember(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard argv.count > 2 else {
            guard let set = try readable(argv[1], SortedSetValue.self, now: now), set.count > 0 else {
                writer.null()
                return
            }
            writer.bulk(set.entry(atRank: Int.random(in: 0..<set.count, using: &random))!.member)
            return
        }
        guard argv.count <= 4 else { throw .syntax }
        let withScores = argv.count == 4
        if withScores && !ByteParsing.equalsIgnoringCase(argv[3], "WITHSCORES") { throw .syntax }
        guard let requested = ByteParsing.int64(argv[2]) else { throw .notInteger }
        guard let set = try readable(argv[1], SortedSetValue.self, now: now) else {
            writer.arrayHeader(0)
            return
        }
        // Checked once the key is found, as Redis does. Redis 7.0 refuses only a huge negative
        // count with WITHSCORES and would try to send the rest; Ringcache refuses every huge
        // negative count (a positive one just means the whole set).
        guard requested > Int64.min / 2 else { throw CommandError("ERR value is out of range") }
        let entries = randomPositions(count: set.count, requested: Int(requested)).map { set.entry(atRank: $0)! }
        Self.writeScored(entries, withScores: withScores, &writer)
    }
}
