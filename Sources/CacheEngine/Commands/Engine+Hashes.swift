import RESP

/// Hash commands (https://redis.io/docs/latest/commands/?group=hash).
extension Engine {
    /// HSET key field value [field value ...] / HMSET (which replies OK).
    func hset(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard argv.count % 2 == 0 else { throw CommandError(ErrorReply.wrongArity(ByteParsing.string(argv[0]).lowercased())) }
        let added = try mutate(argv[1], HashValue.init, create: true, now: now) { hash in
            var added = 0
            for index in stride(from: 2, to: argv.count, by: 2) where setField(hash, argv[index], argv[index + 1]) {
                added += 1
            }
            return added
        } ?? 0
        notify(.hash, "hset", argv[1])
        if ByteParsing.equalsIgnoringCase(argv[0], "HMSET") { writer.ok() } else { writer.integer(added) }
    }

    func hsetnx(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let added = try mutate(argv[1], HashValue.init, create: true, now: now) { hash in
            guard !hash.contains(argv[2]) else { return false }
            return setField(hash, argv[2], argv[3])
        } ?? false
        if added { notify(.hash, "hset", argv[1]) }
        writer.integer(added ? 1 : 0)
    }

    func hget(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let hash = try readable(argv[1], HashValue.self, now: now)
        if hash?.withField(argv[2], { view in view.withValueBytes { writer.bulk($0) } }) == nil {
            writer.null()
        }
    }

    func hmget(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let hash = try readable(argv[1], HashValue.self, now: now)
        writer.arrayHeader(argv.count - 2)
        for index in 2..<argv.count {
            if hash?.withField(argv[index], { view in view.withValueBytes { writer.bulk($0) } }) == nil { writer.null() }
        }
    }

    func hdel(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let removed = try mutate(argv[1], HashValue.init, create: false, now: now) { hash in
            (2..<argv.count).reduce(0) { $0 + (hash.remove(argv[$1]) ? 1 : 0) }
        } ?? 0
        if removed > 0 { notify(.hash, "hdel", argv[1]) }
        writer.integer(removed)
    }

    func hexists(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        writer.integer(try readable(argv[1], HashValue.self, now: now)?.contains(argv[2]) == true ? 1 : 0)
    }

    func hlen(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        writer.integer(try readable(argv[1], HashValue.self, now: now)?.count ?? 0)
    }

    func hstrlen(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        writer.integer(try readable(argv[1], HashValue.self, now: now)?.withField(argv[2]) { $0.valueCount } ?? 0)
    }

    /// Sets `field` of `hash` to `value`, compressed when that pays; returns whether the
    /// field is new.
    func setField(_ hash: HashValue, _ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool {
        let limits = configuration.hashEncoding
        if let compressed = compressor.compress(value) {
            return hash.set(field, storedValue: compressed, compressed: true, valueCount: value.count, limits: limits)
        }
        return hash.set(field, storedValue: value, compressed: false, valueCount: value.count, limits: limits)
    }

    enum HashPart { case keys, values, all }

    /// HKEYS, HVALS, HGETALL (a map in RESP3).
    func hgetall(_ argv: Argv, part: HashPart, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard let hash = try readable(argv[1], HashValue.self, now: now) else {
            if part == .all { writer.mapHeader(0) } else { writer.arrayHeader(0) }
            return
        }
        switch part {
        case .keys:
            writer.arrayHeader(hash.count)
            hash.forEach { writer.bulk($0.field) }
        case .values:
            writer.arrayHeader(hash.count)
            hash.forEach { view in view.withValueBytes { writer.bulk($0) } }
        case .all:
            writer.mapHeader(hash.count)
            hash.forEach { view in
                writer.bulk(view.field)
                view.withValueBytes { writer.bulk($0) }
            }
        }
    }

    func hincrby(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard let increment = ByteParsing.int64(argv[3]) else { throw .notInteger }
        let result = try mutate(argv[1], HashValue.init, create: true, now: now) { hash throws(CommandError) in
            let field = argv[2]
            var current: Int64 = 0
            if let old = hash.value(field) {
                guard let parsed = old.withUnsafeBytes({ ByteParsing.int64($0) }) else { throw CommandError("ERR hash value is not an integer") }
                current = parsed
            }
            let (sum, overflow) = current.addingReportingOverflow(increment)
            guard !overflow else { throw CommandError(ErrorReply.overflow) }
            hash.set(Array(field), Array(String(sum).utf8), limits: configuration.hashEncoding)
            return sum
        } ?? Int64(0)
        notify(.hash, "hincrby", argv[1])
        writer.integer(Int(result))
    }

    /// HINCRBYFLOAT key field increment, in `long double` as Redis computes it (t_hash.c).
    func hincrbyfloat(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard let increment = ByteParsing.longDouble(argv[3]) else { throw .notFloat }
        // Checked before the key, as Redis 7 does; INCRBYFLOAT has no such check.
        guard increment.isFinite else { throw CommandError("ERR value is NaN or Infinity") }
        let result = try mutate(argv[1], HashValue.init, create: true, now: now) { hash throws(CommandError) in
            let field = argv[2]
            var current: LongDouble = 0
            if let old = hash.value(field) {
                guard let parsed = old.withUnsafeBytes({ ByteParsing.longDouble($0) }) else { throw CommandError("ERR hash value is not a float") }
                current = parsed
            }
            let sum = current + increment
            guard sum.isFinite else { throw CommandError(ErrorReply.nanOrInfinity) }
            let text = NumberFormatting.humanLongDouble(sum)
            hash.set(Array(field), text, limits: configuration.hashEncoding)
            return text
        } ?? [UInt8]()
        notify(.hash, "hincrbyfloat", argv[1])
        writer.bulk(result)
    }

    /// HRANDFIELD key [count [WITHVALUES]]
    func hrandfield(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard argv.count > 2 else {
            guard let hash = try readable(argv[1], HashValue.self, now: now) else {
                writer.null()
                return
            }
            hash.fields[Int.random(in: 0..<hash.count, using: &random)].withKeyBytes { writer.bulk($0) }
            return
        }
        guard argv.count <= 4 else { throw .syntax }
        let withValues = argv.count == 4
        if withValues && !ByteParsing.equalsIgnoringCase(argv[3], "WITHVALUES") { throw .syntax }
        guard let requested = ByteParsing.int64(argv[2]) else { throw .notInteger }
        let hash = try readable(argv[1], HashValue.self, now: now)
        // Checked once the key is found, as Redis does: a missing key answers an empty array.
        if hash != nil && !(requested > Int64.min / 2 && requested < Int64.max / 2) { throw CommandError("ERR value is out of range") }
        let positions = randomPositions(count: hash?.count ?? 0, requested: Int(requested))
        let fields = hash?.fields ?? []
        if withValues && writer.version == .v3 {
            writer.arrayHeader(positions.count)
            for position in positions {
                writer.arrayHeader(2)
                fields[position].withKeyBytes { writer.bulk($0) }
                fields[position].withValueBytes { writer.bulk($0) }
            }
        } else {
            writer.arrayHeader(positions.count * (withValues ? 2 : 1))
            for position in positions {
                fields[position].withKeyBytes { writer.bulk($0) }
                if withValues { fields[position].withValueBytes { writer.bulk($0) } }
            }
        }
    }

    /// Positions for HRANDFIELD, SRANDMEMBER and ZRANDMEMBER with a count: a positive count
    /// picks that many distinct positions (all, if fewer); a negative one picks |count| with
    /// repeats allowed.
    func randomPositions(count: Int, requested: Int) -> [Int] {
        guard count > 0, requested != 0 else { return [] }
        if requested < 0 {
            return (0..<(-requested)).map { _ in Int.random(in: 0..<count, using: &random) }
        }
        if requested >= count { return Array(0..<count) }
        // Floyd's algorithm: `requested` distinct positions in O(requested).
        var chosen = Set<Int>()
        var order: [Int] = []
        for upper in (count - requested)..<count {
            let pick = Int.random(in: 0...upper, using: &random)
            let position = chosen.contains(pick) ? upper : pick
            chosen.insert(position)
            order.append(position)
        }
        return order
    }

    /// HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES]
    func hscan(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let (pattern, noValues) = try Self.scanOptions(argv, allowNoValues: true)
        let fields = try readable(argv[1], HashValue.self, now: now)?.fields ?? []
        let matching = fields.filter { field in pattern.map { pattern in field.withKeyBytes { GlobPattern.matches(pattern, $0) } } ?? true }
        writer.arrayHeader(2)
        writer.bulk("0")
        writer.arrayHeader(matching.count * (noValues ? 1 : 2))
        for field in matching {
            field.withKeyBytes { writer.bulk($0) }
            if !noValues { field.withValueBytes { writer.bulk($0) } }
        }
    }
}
