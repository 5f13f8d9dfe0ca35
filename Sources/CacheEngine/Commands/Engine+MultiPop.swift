import RESP

/// LMPOP and ZMPOP (t_list.c lmpopGenericCommand, t_zset.c zmpopGenericCommand): pop from
/// the first of several keys that holds a non-empty list or sorted set. The blocking forms
/// (BLMPOP, BZMPOP) are not served.
extension Engine {
    /// `numkeys key [key ...] <first | second> [COUNT count]` from argv[1] on: the key
    /// positions, whether `first` was named, and the count (1 by default), with Redis's errors.
    static func multiPopArguments(_ argv: Argv, first: StaticString, second: StaticString) throws(CommandError) -> (keys: Range<Int>, first: Bool, count: Int) {
        guard let numkeys = ByteParsing.int64(argv[1]), numkeys >= 1 else { throw CommandError("ERR numkeys should be greater than 0") }
        let sideIndex = 2 + Int(Swift.min(numkeys, Int64(argv.count)))
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
        return (2..<sideIndex, isFirst, count ?? 1)
    }

    /// LMPOP numkeys key [key ...] LEFT | RIGHT [COUNT count]: `[key, [element ...]]`, or a
    /// null array when every list is empty. A key of another type before the first non-empty
    /// list is WRONGTYPE.
    func lmpop(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let (keys, fromFront, count) = try Self.multiPopArguments(argv, first: "LEFT", second: "RIGHT")
        for index in keys {
            let key = argv[index]
            let popped = try mutate(key, ListValue.init, create: false, now: now) { list in
                let popped = Swift.min(count, list.count)
                writer.arrayHeader(2)
                writer.bulk(key)
                writer.arrayHeader(popped)
                for _ in 0..<popped { list.pop(atFront: fromFront) { writer.bulk($0) } }
                return popped
            }
            if let popped, popped > 0 {
                notify(.list, fromFront ? "lpop" : "rpop", key)
                return
            }
        }
        writer.nullArray()
    }

    /// ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]: `[key, [[member, score] ...]]`, or
    /// a null array when every sorted set is empty.
    func zmpop(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let (keys, lowest, count) = try Self.multiPopArguments(argv, first: "MIN", second: "MAX")
        for index in keys {
            guard let popped = try popExtremes(argv[index], max: !lowest, count: count, now: now), !popped.isEmpty else { continue }
            writer.arrayHeader(2)
            writer.bulk(argv[index])
            Self.writeMemberScorePairs(popped, &writer)
            return
        }
        writer.nullArray()
    }
}
