import RESP

/// LMPOP, ZMPOP and their blocking forms BLMPOP and BZMPOP (t_list.c lmpopGenericCommand,
/// t_zset.c zmpopGenericCommand): pop from the first of several keys that holds a non-empty
/// list or sorted set. The blocking forms wait on all the keys when every one is empty (see
/// Engine+Blocking), and answer a null array when their timeout passes.
extension Engine {
    /// `numkeys key [key ...] <first | second> [COUNT count]` from `argv[numkeysIndex]` on: the
    /// key positions, whether `first` was named, and the count (1 by default), with Redis's
    /// errors in Redis's order.
    static func multiPopArguments(_ argv: Argv, numkeysIndex: Int = 1, first: StaticString, second: StaticString) throws(CommandError) -> (keys: Range<Int>, first: Bool, count: Int) {
        guard let numkeys = ByteParsing.int64(argv[numkeysIndex]), numkeys >= 1 else { throw CommandError("ERR numkeys should be greater than 0") }
        let sideIndex = numkeysIndex + 1 + Int(Swift.min(numkeys, Int64(argv.count)))
        guard sideIndex < argv.count else { throw .syntax }
        let isFirst: Bool
        if ByteParsing.equalsIgnoringCase(argv[sideIndex], first) {
            isFirst = true
        } else if ByteParsing.equalsIgnoringCase(argv[sideIndex], second) {
            isFirst = false
        } else {
            throw .syntax
        }
        var count: Int?
        var index = sideIndex + 1
        while index < argv.count {
            guard count == nil, ByteParsing.equalsIgnoringCase(argv[index], "COUNT"), index + 1 < argv.count else { throw .syntax }
            guard let parsed = ByteParsing.int64(argv[index + 1]), parsed >= 1 else { throw CommandError("ERR count should be greater than 0") }
            count = Int(parsed)
            index += 2
        }
        return (numkeysIndex + 1..<sideIndex, isFirst, count ?? 1)
    }

    /// The four commands' shared course: parse the arguments (the blocking forms' timeout
    /// after the others, as in Redis), pop from the first non-empty key, and otherwise answer
    /// a null array or, blocking, wait on every key.
    private func multiPop(
        _ argv: Argv, blocking: Bool, first: StaticString, second: StaticString, _ writer: inout RESPWriter,
        pop: (_ keys: Range<Int>, _ first: Bool, _ count: Int, _ writer: inout RESPWriter) throws(CommandError) -> Bool
    ) throws(CommandError) {
        let (keys, isFirst, count) = try Self.multiPopArguments(argv, numkeysIndex: blocking ? 2 : 1, first: first, second: second)
        let timeout = blocking ? try Self.blockingTimeout(argv[1]) : nil
        if try pop(keys, isFirst, count, &writer) { return }
        if blocking { block(on: keys.map { Array(argv[$0]) }, timeout: timeout) } else { writer.nullArray() }
    }

    /// LMPOP numkeys key [key ...] LEFT | RIGHT [COUNT count]: `[key, [element ...]]`, or a
    /// null array when every list is empty. A key of another type before the first non-empty
    /// list is WRONGTYPE. BLMPOP timeout numkeys …: the same, or wait until one of the lists
    /// has elements.
    func listMultiPop(_ argv: Argv, blocking: Bool, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        try multiPop(argv, blocking: blocking, first: "LEFT", second: "RIGHT", &writer) { (keys, left, count, writer) throws(CommandError) in
            try popFirstList(argv, keys, fromFront: left, count: count, now: now, &writer)
        }
    }

    /// Pops up to `count` elements from the first non-empty list of `keys` and writes the
    /// reply; false (nothing written) when every list is empty.
    private func popFirstList(_ argv: Argv, _ keys: Range<Int>, fromFront: Bool, count: Int, now: Int64, _ writer: inout RESPWriter) throws(CommandError) -> Bool {
        for index in keys {
            let key = argv[index]
            // A list that exists is never empty, so the closure always pops at least one.
            guard let remaining = try mutate(key, ListValue.init, create: false, now: now, { list in
                let popped = Swift.min(count, list.count)
                writer.arrayHeader(2)
                writer.bulk(key)
                writer.arrayHeader(popped)
                for _ in 0..<popped { list.pop(atFront: fromFront) { writer.bulk($0) } }
                return list.count
            }) else { continue }
            notify(.list, fromFront ? "lpop" : "rpop", key)
            // Elements left for the next client waiting on this key.
            if remaining > 0 { signalReady(key) }
            return true
        }
        return false
    }

    /// ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]: `[key, [[member, score] ...]]`, or
    /// a null array when every sorted set is empty. BZMPOP timeout numkeys …: the same, or
    /// wait until one of the sorted sets has members.
    func sortedSetMultiPop(_ argv: Argv, blocking: Bool, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        try multiPop(argv, blocking: blocking, first: "MIN", second: "MAX", &writer) { (keys, lowest, count, writer) throws(CommandError) in
            try popFirstSortedSet(argv, keys, lowest: lowest, count: count, now: now, &writer)
        }
    }

    /// Pops up to `count` members from the first non-empty sorted set of `keys` and writes the
    /// reply; false (nothing written) when every sorted set is empty.
    private func popFirstSortedSet(_ argv: Argv, _ keys: Range<Int>, lowest: Bool, count: Int, now: Int64, _ writer: inout RESPWriter) throws(CommandError) -> Bool {
        for index in keys {
            let key = argv[index]
            guard let popped = try popExtremes(key, max: !lowest, count: count, now: now), !popped.isEmpty else { continue }
            if let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now), entry.isCollection { signalReady(key) }
            writer.arrayHeader(2)
            writer.bulk(key)
            Self.writeMemberScorePairs(popped, &writer)
            return true
        }
        return false
    }
}
