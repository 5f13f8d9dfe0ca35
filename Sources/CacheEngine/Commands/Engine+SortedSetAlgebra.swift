import RESP

/// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (t_zset.c
/// zunionInterDiffGenericCommand): inputs may be sorted sets or plain sets, whose members all
/// score 1; WEIGHTS multiply each input's scores and AGGREGATE combines a member's scores.
extension Engine {
    enum SortedSetOperation {
        case union, inter, diff

        var storeEvent: StaticString {
            switch self {
            case .union: "zunionstore"
            case .inter: "zinterstore"
            case .diff: "zdiffstore"
            }
        }
    }

    enum ScoreAggregate { case sum, min, max }

    /// One input: a sorted set or a plain set (scores of 1), and its weight.
    struct ScoredInput {
        let sorted: SortedSetValue?
        let plain: SetValue?
        var weight = 1.0

        var count: Int { sorted?.count ?? plain?.count ?? 0 }

        func score(of member: [UInt8]) -> Double? {
            if let sorted { return sorted.score(of: member) }
            return plain?.contains(member) == true ? 1 : nil
        }

        /// Every member with its score, in the input's own order.
        func forEach(_ body: ([UInt8], Double) -> Void) {
            if let sorted {
                var entries: [(member: [UInt8], score: Double)] = []
                entries.reserveCapacity(sorted.count)
                sorted.forEach(ranks: 0..<sorted.count) { entry in
                    entries.append((Array(entry.member), entry.score))
                    return true
                }
                for (member, score) in entries { body(member, score) }
            } else if let plain {
                for member in plain.members { body(member, 1) }
            }
        }
    }

    /// The parsed request: inputs in the order given, and the options.
    struct SortedSetAlgebraRequest {
        var inputs: [ScoredInput] = []
        var aggregate = ScoreAggregate.sum
        var withScores = false
        var limit = 0
    }

    /// Parses `numkeys key [key ...]` at `position` and the options after them, as Redis does:
    /// the inputs' types are checked before the options, WEIGHTS and AGGREGATE are refused by
    /// ZDIFF, WITHSCORES by the STORE forms, and LIMIT is ZINTERCARD's alone.
    func sortedSetAlgebraRequest(
        _ argv: Argv, at position: Int, _ operation: SortedSetOperation, name: String, storing: Bool, cardinalityOnly: Bool, now: Int64
    ) throws(CommandError) -> SortedSetAlgebraRequest {
        guard let numkeys = ByteParsing.int64(argv[position]) else { throw .notInteger }
        guard numkeys >= 1 else { throw CommandError("ERR at least 1 input key is needed for '\(name)' command") }
        guard numkeys <= Int64(argv.count - position - 1) else { throw .syntax }
        var request = SortedSetAlgebraRequest()
        let keys = (position + 1)..<(position + 1 + Int(numkeys))
        for index in keys {
            guard let entry = lookupRead(argv[index], now: now) else {
                request.inputs.append(ScoredInput(sorted: nil, plain: nil))
                continue
            }
            switch entry.kind {
            case .zset: request.inputs.append(ScoredInput(sorted: entry.collection as? SortedSetValue, plain: nil))
            case .set: request.inputs.append(ScoredInput(sorted: nil, plain: entry.collection as? SetValue))
            default: throw .wrongType
            }
        }
        var index = keys.upperBound
        while index < argv.count {
            let option = argv[index]
            let remaining = argv.count - index
            if operation != .diff && !cardinalityOnly && remaining >= keys.count + 1 && ByteParsing.equalsIgnoringCase(option, "WEIGHTS") {
                for offset in 0..<keys.count {
                    guard let weight = ByteParsing.double(argv[index + 1 + offset], rangeChecked: true) else {
                        throw CommandError("ERR weight value is not a float")
                    }
                    request.inputs[offset].weight = weight
                }
                index += 1 + keys.count
            } else if operation != .diff && !cardinalityOnly && remaining >= 2 && ByteParsing.equalsIgnoringCase(option, "AGGREGATE") {
                let kind = argv[index + 1]
                if ByteParsing.equalsIgnoringCase(kind, "SUM") { request.aggregate = .sum }
                else if ByteParsing.equalsIgnoringCase(kind, "MIN") { request.aggregate = .min }
                else if ByteParsing.equalsIgnoringCase(kind, "MAX") { request.aggregate = .max }
                else { throw .syntax }
                index += 2
            } else if !storing && !cardinalityOnly && ByteParsing.equalsIgnoringCase(option, "WITHSCORES") {
                request.withScores = true
                index += 1
            } else if cardinalityOnly && remaining >= 2 && ByteParsing.equalsIgnoringCase(option, "LIMIT") {
                guard let limit = ByteParsing.int64(argv[index + 1]) else { throw .notInteger }
                guard limit >= 0 else { throw CommandError("ERR LIMIT can't be negative") }
                request.limit = Int(limit)
                index += 2
            } else {
                throw .syntax
            }
        }
        return request
    }

    /// A weighted score; infinity times zero counts as 0, as in Redis.
    @inline(__always)
    static func weighted(_ score: Double, _ weight: Double) -> Double {
        let product = score * weight
        return product.isNaN ? 0 : product
    }

    @inline(__always)
    static func combined(_ total: Double, _ score: Double, _ aggregate: ScoreAggregate) -> Double {
        switch aggregate {
        case .sum:
            let sum = total + score
            return sum.isNaN ? 0 : sum
        case .min: return Swift.min(total, score)
        case .max: return Swift.max(total, score)
        }
    }

    /// The combination as a new sorted set. With `limit` > 0 (ZINTERCARD) an intersection
    /// stops once it has that many members.
    static func combine(_ request: SortedSetAlgebraRequest, _ operation: SortedSetOperation, limits: ListpackLimits) -> SortedSetValue {
        let result = SortedSetValue()
        switch operation {
        case .union:
            var scores: [ByteKey: Double] = [:]
            for input in request.inputs {
                input.forEach { member, score in
                    let value = weighted(score, input.weight)
                    let key = ByteKey(member)
                    scores[key] = scores[key].map { combined($0, value, request.aggregate) } ?? value
                }
            }
            for (member, score) in scores { result.set(member.bytes, score: score, limits: limits) }
        case .inter:
            guard !request.inputs.contains(where: { $0.sorted == nil && $0.plain == nil }) else { return result }
            // Smallest input first: every candidate comes from it (Redis sorts by cardinality).
            let inputs = request.inputs.sorted { $0.count < $1.count }
            inputs[0].forEach { member, score in
                if request.limit > 0 && result.count >= request.limit { return }
                var total = weighted(score, inputs[0].weight)
                for other in inputs.dropFirst() {
                    guard let found = other.score(of: member) else { return }
                    total = combined(total, weighted(found, other.weight), request.aggregate)
                }
                result.set(member, score: total, limits: limits)
            }
        case .diff:
            let first = request.inputs[0]
            let others = request.inputs.dropFirst().filter { $0.count > 0 }
            first.forEach { member, score in
                if !others.contains(where: { $0.score(of: member) != nil }) { result.set(member, score: score, limits: limits) }
            }
        }
        return result
    }

    /// ZUNION / ZINTER / ZDIFF numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
    func sortedSetCombination(_ argv: Argv, _ operation: SortedSetOperation, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let name = String(decoding: argv[0], as: UTF8.self).lowercased()
        let request = try sortedSetAlgebraRequest(argv, at: 1, operation, name: name, storing: false, cardinalityOnly: false, now: now)
        let result = Self.combine(request, operation, limits: configuration.sortedSetEncoding)
        Self.writeScored(result, RankSelection(ranks: 0..<result.count), withScores: request.withScores, &writer)
    }

    /// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE destination numkeys key [key ...] [options]
    func sortedSetCombinationStore(_ argv: Argv, _ operation: SortedSetOperation, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let name = String(decoding: argv[0], as: UTF8.self).lowercased()
        let request = try sortedSetAlgebraRequest(argv, at: 2, operation, name: name, storing: true, cardinalityOnly: false, now: now)
        writer.integer(storeSortedSet(Self.combine(request, operation, limits: configuration.sortedSetEncoding), at: argv[1], event: operation.storeEvent, now: now))
    }

    /// Stores a computed sorted set under `destination`, replacing what was there, and raises
    /// `event`; an empty result deletes the destination instead (raising `del` if it existed),
    /// as Redis's STORE commands do. Returns the stored count.
    func storeSortedSet(_ result: SortedSetValue, at destination: UnsafeRawBufferPointer, event: StaticString, now: Int64) -> Int {
        let existed = keyspace.findLive(destination, hash: keyspace.hash(destination), now: now) != nil
        storeCollection(destination, result, now: now)
        if result.count > 0 {
            notify(.zset, event, destination)
            signalReady(destination)
        } else if existed {
            notify(.generic, "del", destination)
        }
        return result.count
    }

    /// ZINTERCARD numkeys key [key ...] [LIMIT limit]
    func zintercard(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let request = try sortedSetAlgebraRequest(argv, at: 1, .inter, name: "zintercard", storing: false, cardinalityOnly: true, now: now)
        writer.integer(Self.combine(request, .inter, limits: configuration.sortedSetEncoding).count)
    }
}
