import RESP

/// List commands (https://redis.io/docs/latest/commands/?group=list), the blocking ones
/// included (see Engine+Blocking for how they wait).
extension Engine {
    enum End { case left, right }

    static func end(_ bytes: UnsafeRawBufferPointer) throws(CommandError) -> End {
        if ByteParsing.equalsIgnoringCase(bytes, "LEFT") { return .left }
        if ByteParsing.equalsIgnoringCase(bytes, "RIGHT") { return .right }
        throw .syntax
    }

    /// A fixed end, or the one argument `index` names.
    static func end(_ fixed: End?, _ argv: Argv, _ index: Int) throws(CommandError) -> End {
        if let fixed { return fixed }
        return try end(argv[index])
    }

    /// LPUSH / RPUSH / LPUSHX / RPUSHX key element [element ...]
    func push(_ argv: Argv, _ end: End, onlyIfExists: Bool, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let length = try mutate(argv[1], ListValue.init, create: !onlyIfExists, now: now) { list in
            for index in 2..<argv.count {
                // Straight from the argument into the list's chunk (or from the compressor's
                // buffer), with no array per element.
                if let compressed = compressor.compress(argv[index]) {
                    list.push(compressed, compressed: true, atFront: end == .left)
                } else {
                    list.push(argv[index], compressed: false, atFront: end == .left)
                }
            }
            return list.count
        } ?? 0
        if length > 0 {
            notify(.list, end == .left ? "lpush" : "rpush", argv[1])
            signalReady(argv[1])
        }
        writer.integer(length)
    }

    /// LPOP / RPOP key [count]
    func pop(_ argv: Argv, _ end: End, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard argv.count <= 3 else { throw .syntax }
        let requested = argv.count == 3 ? try Self.count(argv[2]) : nil
        // Replies are written as the elements leave the list, straight from its chunk.
        var popped = 0
        let found: Bool? = try mutate(argv[1], ListValue.init, create: false, now: now) { list in
            popped = Swift.min(requested ?? 1, list.count)
            if requested != nil { writer.arrayHeader(popped) }
            for _ in 0..<popped { list.pop(atFront: end == .left) { writer.bulk($0) } }
            return true
        }
        guard found != nil else {
            if requested == nil { writer.null() } else { writer.nullArray() }
            return
        }
        if popped > 0 { notify(.list, end == .left ? "lpop" : "rpop", argv[1]) }
    }

    func llen(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        writer.integer(try readable(argv[1], ListValue.self, now: now)?.count ?? 0)
    }

    func lrange(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let start = try Self.integer(argv[2])
        let stop = try Self.integer(argv[3])
        guard let list = try readable(argv[1], ListValue.self, now: now),
              let range = Self.clampedRange(start: start, stop: stop, length: list.count) else {
            writer.arrayHeader(0)
            return
        }
        writer.arrayHeader(range.count)
        list.forEach(from: range.lowerBound, through: range.upperBound) { _, element in
            writer.bulk(element)
            return true
        }
    }

    func lindex(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let index = try Self.integer(argv[2])
        guard let list = try readable(argv[1], ListValue.self, now: now) else {
            writer.null()
            return
        }
        let position = index < 0 ? list.count + index : index
        if position >= 0 && position < list.count { writer.bulk(list[position]) } else { writer.null() }
    }

    func lset(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let index = try Self.integer(argv[2])
        let done: Bool? = try mutate(argv[1], ListValue.init, create: false, now: now) { list throws(CommandError) in
            let position = index < 0 ? list.count + index : index
            guard position >= 0 && position < list.count else { throw CommandError("ERR index out of range") }
            list.replace(at: position, with: stored(argv[3]))
            return true
        }
        guard done != nil else { throw CommandError(ErrorReply.noSuchKey) }
        notify(.list, "lset", argv[1])
        writer.ok()
    }

    /// LINSERT key BEFORE | AFTER pivot element
    func linsert(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let after: Bool
        if ByteParsing.equalsIgnoringCase(argv[2], "AFTER") {
            after = true
        } else if ByteParsing.equalsIgnoringCase(argv[2], "BEFORE") {
            after = false
        } else {
            throw .syntax
        }
        let pivot = Array(argv[3])
        let length = try mutate(argv[1], ListValue.init, create: false, now: now) { list -> Int in
            var elements = list.storedElements
            guard let found = elements.firstIndex(where: { $0.bytes == pivot }) else { return -1 }
            elements.insert(stored(argv[4]), at: after ? found + 1 : found)
            list.replaceAll(with: elements)
            return list.count
        } ?? 0
        if length > 0 { notify(.list, "linsert", argv[1]) }
        writer.integer(length)
    }

    /// LREM key count element: count > 0 from the head, < 0 from the tail, 0 all.
    func lrem(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let count = try Self.integer(argv[2])
        let element = Array(argv[3])
        let removed = try mutate(argv[1], ListValue.init, create: false, now: now) { list -> Int in
            var elements = list.storedElements
            var removed = 0
            let limit = count == 0 ? Int.max : abs(count)
            if count >= 0 {
                var kept: [StoredBytes] = []
                kept.reserveCapacity(elements.count)
                for candidate in elements {
                    if removed < limit && candidate.bytes == element { removed += 1 } else { kept.append(candidate) }
                }
                elements = kept
            } else {
                var index = elements.count - 1
                while index >= 0 && removed < limit {
                    if elements[index].bytes == element {
                        elements.remove(at: index)
                        removed += 1
                    }
                    index -= 1
                }
            }
            if removed > 0 { list.replaceAll(with: elements) }
            return removed
        } ?? 0
        if removed > 0 { notify(.list, "lrem", argv[1]) }
        writer.integer(removed)
    }

    func ltrim(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let start = try Self.integer(argv[2])
        let stop = try Self.integer(argv[3])
        let trimmed: Bool? = try mutate(argv[1], ListValue.init, create: false, now: now) { list in
            guard let range = Self.clampedRange(start: start, stop: stop, length: list.count) else {
                list.replaceAll(with: [])
                return true
            }
            for _ in 0..<(list.count - 1 - range.upperBound) { _ = list.popBack() }
            for _ in 0..<range.lowerBound { _ = list.popFront() }
            return true
        }
        if trimmed != nil { notify(.list, "ltrim", argv[1]) }
        writer.ok()
    }

    /// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
    func lpos(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        var rank = 1
        var count: Int?
        var maxLength = 0
        var index = 3
        while index < argv.count {
            guard index + 1 < argv.count else { throw .syntax }
            let option = argv[index]
            let value = try Self.integer(argv[index + 1])
            if ByteParsing.equalsIgnoringCase(option, "RANK") {
                guard value != 0 else {
                    throw CommandError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
                }
                guard value != Int.min else { throw CommandError("ERR value is out of range") }
                rank = value
            } else if ByteParsing.equalsIgnoringCase(option, "COUNT") {
                guard value >= 0 else { throw CommandError("ERR COUNT can't be negative") }
                count = value
            } else if ByteParsing.equalsIgnoringCase(option, "MAXLEN") {
                guard value >= 0 else { throw CommandError("ERR MAXLEN can't be negative") }
                maxLength = value
            } else {
                throw .syntax
            }
            index += 2
        }
        let list = try readable(argv[1], ListValue.self, now: now)
        let element = Array(argv[2])
        var matches: [Int] = []
        if let list {
            let wanted = count.map { $0 == 0 ? Int.max : $0 } ?? 1
            var toSkip = abs(rank) - 1
            var scanned = 0
            list.forEach(from: 0, through: list.count - 1, reversed: rank < 0) { position, candidate in
                guard matches.count < wanted && (maxLength == 0 || scanned < maxLength) else { return false }
                if candidate.elementsEqual(element) {
                    if toSkip > 0 { toSkip -= 1 } else { matches.append(position) }
                }
                scanned += 1
                return true
            }
        }
        if count != nil {
            writer.arrayHeader(matches.count)
            for match in matches { writer.integer(match) }
        } else if let match = matches.first {
            writer.integer(match)
        } else {
            writer.null()
        }
    }

    /// Moves one element from `source`'s `from` end to `destination`'s `to` end; nil when the
    /// source is missing. Checks the destination's type before taking anything.
    func move(_ source: UnsafeRawBufferPointer, _ destination: UnsafeRawBufferPointer, from: End, to: End, now: Int64) throws(CommandError) -> [UInt8]? {
        try checkType(destination, .list, now: now)
        // The element moves as stored: a compressed element stays compressed.
        let element: StoredBytes
        if source.elementsEqual(destination) {
            // One list: it never empties, so it keeps its TTL and raises no `del` (Redis
            // pushes into the same object it popped from).
            guard let rotated = try mutate(source, ListValue.init, create: false, now: now, { list -> StoredBytes? in
                guard let element = from == .left ? list.popFront() : list.popBack() else { return nil }
                list.push(element, atFront: to == .left)
                return element
            }) ?? nil else { return nil }
            element = rotated
        } else {
            guard let popped = try mutate(source, ListValue.init, create: false, now: now, { list in
                from == .left ? list.popFront() : list.popBack()
            }) ?? nil else { return nil }
            element = popped
            _ = try mutate(destination, ListValue.init, create: true, now: now) { list in
                list.push(element, atFront: to == .left)
            }
        }
        // Redis's order (t_list.c, lmoveGenericCommand): the push, then the pop, then the
        // source's `del` if it emptied.
        notify(.list, to == .left ? "lpush" : "rpush", destination)
        notify(.list, from == .left ? "lpop" : "rpop", source)
        signalReady(destination)
        return element.bytes
    }

    /// LMOVE source destination LEFT|RIGHT LEFT|RIGHT / RPOPLPUSH source destination
    func lmove(_ argv: Argv, from: End?, to: End?, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let from = try Self.end(from, argv, 3)
        let to = try Self.end(to, argv, 4)
        if let element = try move(argv[1], argv[2], from: from, to: to, now: now) { writer.bulk(element) } else { writer.null() }
    }

    /// BLPOP / BRPOP key [key ...] timeout
    func blockingPop(_ argv: Argv, _ end: End, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let timeout = try Self.blockingTimeout(argv[argv.count - 1])
        for index in 1..<(argv.count - 1) {
            let key = argv[index]
            guard let (element, remaining) = try mutate(key, ListValue.init, create: false, now: now, { list in
                ((end == .left ? list.popFront() : list.popBack())!.bytes, list.count)
            }) else { continue }
            notify(.list, end == .left ? "lpop" : "rpop", key)
            if remaining > 0 { signalReady(key) }
            writer.arrayHeader(2)
            writer.bulk(key)
            writer.bulk(element)
            return
        }
        block(on: (1..<(argv.count - 1)).map { Array(argv[$0]) }, timeout: timeout)
    }

    /// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout / BRPOPLPUSH source destination timeout
    func blockingMove(_ argv: Argv, from: End?, to: End?, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let from = try Self.end(from, argv, 3)
        let to = try Self.end(to, argv, 4)
        let timeout = try Self.blockingTimeout(argv[argv.count - 1])
        if let element = try move(argv[1], argv[2], from: from, to: to, now: now) {
            if let list = keyspace.findLive(argv[1], hash: keyspace.hash(argv[1]), now: now), list.1.isCollection, list.1.collection.count > 0 {
                signalReady(argv[1])
            }
            writer.bulk(element)
            return
        }
        block(on: [Array(argv[1])], timeout: timeout)
    }
}
