import RESP

/// String commands (https://redis.io/docs/latest/commands/?group=string).
extension Engine {
    func get(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        if let entry = lookupRead(argv[1], now: now) {
            guard entry.kind == .string else {
            writer.error(ErrorReply.wrongType)
            return
        }
            writeValue(entry, &writer)
        } else {
            writer.null()
        }
    }

    /// Converts a relative or absolute time argument to an absolute expiry in Unix ms, with
    /// Redis's checks (t_string.c getExpireMillisecondsOrReply): a non-integer is
    /// `ERR value is not an integer or out of range`; zero, negative or overflowing is
    /// `ERR invalid expire time in '<name>' command`.
    func absoluteExpiry(_ argument: UnsafeRawBufferPointer, unit: TimeUnit, relative: Bool, name: String, now: Int64, _ writer: inout RESPWriter) -> Int64? {
        guard let amount = ByteParsing.int64(argument) else {
            writer.error(ErrorReply.notInteger)
            return nil
        }
        guard amount > 0, unit == .milliseconds || amount <= Int64.max / 1000 else {
            writer.error(ErrorReply.invalidExpireTime(name))
            return nil
        }
        let milliseconds = unit == .seconds ? amount * 1000 : amount
        guard relative else { return milliseconds }
        guard milliseconds <= Int64.max - now else {
            writer.error(ErrorReply.invalidExpireTime(name))
            return nil
        }
        return now + milliseconds
    }

    /// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL]
    func set(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        var onlyIfAbsent = false
        var onlyIfPresent = false
        var returnOld = false
        var keepTTL = false
        var expiry: Int64?
        var index = 3
        while index < argv.count {
            let option = argv[index]
            let hasNext = index + 1 < argv.count
            if ByteParsing.equalsIgnoringCase(option, "NX") && !onlyIfPresent {
                onlyIfAbsent = true
            } else if ByteParsing.equalsIgnoringCase(option, "XX") && !onlyIfAbsent {
                onlyIfPresent = true
            } else if ByteParsing.equalsIgnoringCase(option, "GET") {
                returnOld = true
            } else if ByteParsing.equalsIgnoringCase(option, "KEEPTTL") && expiry == nil {
                keepTTL = true
            } else if expiry == nil && !keepTTL && hasNext,
                      let (unit, relative) = Self.expiryOption(option) {
                guard let time = absoluteExpiry(argv[index + 1], unit: unit, relative: relative, name: "set", now: now, &writer) else { return }
                expiry = time
                index += 1
            } else {
                writer.error(ErrorReply.syntax)
                return
            }
            index += 1
        }
        let key = argv[1]
        let existing = keyspace.findLive(key, hash: keyspace.hash(key), now: now)?.1
        if returnOld, let existing, existing.kind != .string {
            writer.error(ErrorReply.wrongType)
            return
        }
        if returnOld {
            if let existing { writeValue(existing, &writer) } else { writer.null() }
        }
        if (onlyIfAbsent && existing != nil) || (onlyIfPresent && existing == nil) {
            if !returnOld { writer.null() }
            return
        }
        if let expiry, expiry < now {
            // An absolute time already past: the key ends up absent, as if it expired at once.
            deleteKey(key, now: now)
            notify(.generic, "del", key)
        } else {
            storeString(key, value: argv[2], expiry: expiry.map { .at($0) } ?? (keepTTL ? .keep : .remove), now: now)
            notify(.string, "set", key)
            // t_string.c setGenericCommand: a SET that gives a TTL also raises `expire`.
            if expiry != nil { notify(.generic, "expire", key) }
        }
        if !returnOld { writer.ok() }
    }
    static func expiryOption(_ option: UnsafeRawBufferPointer) -> (TimeUnit, relative: Bool)? {
        if ByteParsing.equalsIgnoringCase(option, "EX") { return (.seconds, true) }
        if ByteParsing.equalsIgnoringCase(option, "PX") { return (.milliseconds, true) }
        if ByteParsing.equalsIgnoringCase(option, "EXAT") { return (.seconds, false) }
        if ByteParsing.equalsIgnoringCase(option, "PXAT") { return (.milliseconds, false) }
        return nil
    }
    func setnx(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let key = argv[1]
        if keyspace.findLive(key, hash: keyspace.hash(key), now: now) != nil {
            writer.integer(0)
        } else {
            storeString(key, value: argv[2], expiry: .remove, now: now)
            notify(.string, "set", key)
            writer.integer(1)
        }
    }

    /// SETEX key seconds value / PSETEX key milliseconds value
    func setex(_ argv: Argv, unit: TimeUnit, name: String, now: Int64, _ writer: inout RESPWriter) {
        guard let expiry = absoluteExpiry(argv[2], unit: unit, relative: true, name: name, now: now, &writer) else { return }
        storeString(argv[1], value: argv[3], expiry: .at(expiry), now: now)
        notify(.string, "set", argv[1])
        notify(.generic, "expire", argv[1])
        writer.ok()
    }
    func getset(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let key = argv[1]
        if let (_, old) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) {
            guard old.kind == .string else {
            writer.error(ErrorReply.wrongType)
            return
        }
            writeValue(old, &writer)
        } else {
            writer.null()
        }
        storeString(key, value: argv[2], expiry: .remove, now: now)
        notify(.string, "set", key)
    }
    func getdel(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let key = argv[1]
        guard let entry = lookupRead(key, now: now) else {
            writer.null()
            return
        }
        guard entry.kind == .string else {
            writer.error(ErrorReply.wrongType)
            return
        }
        writeValue(entry, &writer)
        deleteKey(key, now: now)
        notify(.generic, "del", key)
    }

    /// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]
    func getex(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        var expiry: Int64?
        var persist = false
        var index = 2
        while index < argv.count {
            let option = argv[index]
            if ByteParsing.equalsIgnoringCase(option, "PERSIST") && expiry == nil && !persist {
                persist = true
            } else if expiry == nil && !persist && index + 1 < argv.count, let (unit, relative) = Self.expiryOption(option) {
                guard let time = absoluteExpiry(argv[index + 1], unit: unit, relative: relative, name: "getex", now: now, &writer) else { return }
                expiry = time
                index += 1
            } else {
                writer.error(ErrorReply.syntax)
                return
            }
            index += 1
        }
        let key = argv[1]
        guard let entry = lookupRead(key, now: now) else {
            writer.null()
            return
        }
        guard entry.kind == .string else {
            writer.error(ErrorReply.wrongType)
            return
        }
        writeValue(entry, &writer)
        if let expiry {
            if expiry < now { deleteKey(key, now: now) } else { setExpiry(of: key, to: expiry) }
            notify(.generic, expiry < now ? "del" : "expire", key)
        } else if persist && entry.hasExpiry {
            // Only a TTL actually removed is an event (getexCommand).
            setExpiry(of: key, to: nil)
            notify(.generic, "persist", key)
        }
    }
    func mget(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        writer.arrayHeader(argv.count - 1)
        for index in 1..<argv.count {
            if let entry = lookupRead(argv[index], now: now), entry.kind == .string {
                writeValue(entry, &writer)
            } else {
                writer.null()
            }
        }
    }

    /// MSET / MSETNX key value [key value ...]
    func mset(_ argv: Argv, onlyIfNoneExist: Bool, now: Int64, _ writer: inout RESPWriter) {
        guard argv.count % 2 == 1 else {
            writer.error(ErrorReply.wrongArity(onlyIfNoneExist ? "msetnx" : "mset"))
            return
        }
        if onlyIfNoneExist {
            for index in stride(from: 1, to: argv.count, by: 2) {
                let key = argv[index]
                if keyspace.findLive(key, hash: keyspace.hash(key), now: now) != nil {
                    writer.integer(0)
                    return
                }
            }
        }
        for index in stride(from: 1, to: argv.count, by: 2) {
            storeString(argv[index], value: argv[index + 1], expiry: .remove, now: now)
            notify(.string, "set", argv[index])
        }
        if onlyIfNoneExist { writer.integer(1) } else { writer.ok() }
    }

    // MARK: Counters
    func incrby(_ argv: Argv, negate: Bool, now: Int64, _ writer: inout RESPWriter) {
        guard let amount = ByteParsing.int64(argv[2]) else {
            writer.error(ErrorReply.notInteger)
            return
        }
        if negate && amount == Int64.min {
            writer.error("ERR decrement would overflow")
            return
        }
        increment(argv, by: negate ? -amount : amount, now: now, &writer)
    }

    /// INCR/DECR/INCRBY/DECRBY: the value must be a 64-bit decimal; the TTL is kept.
    func increment(_ argv: Argv, by amount: Int64, now: Int64, _ writer: inout RESPWriter) {
        let key = argv[1]
        var current: Int64 = 0
        if let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) {
            guard entry.kind == .string else {
                writer.error(ErrorReply.wrongType)
                return
            }
            guard let value = withPlainValue(entry, { ByteParsing.int64($0) }) else {
                writer.error(ErrorReply.notInteger)
                return
            }
            current = value
        }
        let (result, overflow) = current.addingReportingOverflow(amount)
        guard !overflow else {
            writer.error(ErrorReply.overflow)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { scratch in
            let length = RESPWriter.formatDecimal(Int(result), into: scratch)
            storeString(key, value: UnsafeRawBufferPointer(rebasing: scratch[(24 - length)...]), expiry: .keep, now: now)
            notify(.string, "incrby", key)
        }
        writer.integer(Int(result))
    }
    /// INCRBYFLOAT key increment, in `long double` as Redis computes it (t_string.c).
    func incrbyfloat(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let key = argv[1]
        var current: LongDouble = 0
        if let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) {
            guard entry.kind == .string else {
                writer.error(ErrorReply.wrongType)
                return
            }
            guard let value = withPlainValue(entry, { ByteParsing.longDouble($0) }) else {
                writer.error(ErrorReply.notFloat)
                return
            }
            current = value
        }
        guard let increment = ByteParsing.longDouble(argv[2]) else {
            writer.error(ErrorReply.notFloat)
            return
        }
        let result = current + increment
        guard result.isFinite else {
            writer.error(ErrorReply.nanOrInfinity)
            return
        }
        NumberFormatting.humanLongDouble(result).withUnsafeBytes { text in
            storeString(key, value: text, expiry: .keep, now: now)
            notify(.string, "incrbyfloat", key)
            writer.bulk(text)
        }
    }

    // MARK: Byte-level edits
    func append(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let key = argv[1]
        let suffix = argv[2]
        guard let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) else {
            storeString(key, value: suffix, expiry: .remove, now: now)
            notify(.string, "append", key)
            writer.integer(suffix.count)
            return
        }
        guard entry.kind == .string else {
            writer.error(ErrorReply.wrongType)
            return
        }
        let oldLength = entry.plainLength
        let newLength = oldLength + suffix.count
        guard newLength <= configuration.protoMaxBulkLength else {
            writer.error(ErrorReply.stringTooLong)
            return
        }
        rewriteValue(of: key, from: entry, length: newLength, now: now) { value in
            if suffix.count > 0 {
                (value.baseAddress! + oldLength).copyMemory(from: suffix.baseAddress!, byteCount: suffix.count)
            }
        }
        notify(.string, "append", key)
        writer.integer(newLength)
    }

    /// Gives `key` a value of `length` bytes that starts as a copy of the old value (truncated
    /// or zero-padded) and is then edited by `edit`; the TTL is kept and the result is
    /// compressed if that pays.
    func rewriteValue(of key: UnsafeRawBufferPointer, from old: Entry?, length: Int, now: Int64, edit: (UnsafeMutableRawBufferPointer) -> Void) {
        var bytes = [UInt8](repeating: 0, count: length)
        bytes.withUnsafeMutableBytes { value in
            if let old {
                withPlainValue(old) { plain in
                    let kept = Swift.min(length, plain.count)
                    if kept > 0 { value.baseAddress!.copyMemory(from: plain.baseAddress!, byteCount: kept) }
                }
            }
            edit(value)
        }
        bytes.withUnsafeBytes { storeString(key, value: $0, expiry: .keep, now: now) }
    }

    func strlen(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let entry = lookupRead(argv[1], now: now)
        guard entry?.kind ?? .string == .string else {
            writer.error(ErrorReply.wrongType)
            return
        }
        writer.integer(entry?.plainLength ?? 0)
    }

    /// GETRANGE key start end (t_string.c getrangeCommand), negative offsets from the end.
    func getrange(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        guard let startArgument = ByteParsing.int64(argv[2]), let endArgument = ByteParsing.int64(argv[3]) else {
            writer.error(ErrorReply.notInteger)
            return
        }
        guard let entry = lookupRead(argv[1], now: now) else {
            writer.bulk(UnsafeRawBufferPointer(start: nil, count: 0))
            return
        }
        guard entry.kind == .string else {
            writer.error(ErrorReply.wrongType)
            return
        }
        let length = Int64(entry.plainLength)
        var start = startArgument
        var end = endArgument
        if start < 0 && end < 0 && start > end {
            writer.bulk(UnsafeRawBufferPointer(start: nil, count: 0))
            return
        }
        if start < 0 { start += length }
        if end < 0 { end += length }
        start = Swift.max(start, 0)
        end = Swift.max(end, 0)
        if end >= length { end = length - 1 }
        guard length > 0, start <= end else {
            writer.bulk(UnsafeRawBufferPointer(start: nil, count: 0))
            return
        }
        withPlainValue(entry) { value in
            writer.bulk(UnsafeRawBufferPointer(rebasing: value[Int(start)...Int(end)]))
        }
    }

    /// SETRANGE key offset value: zero-pads as needed; an empty value on a missing key creates
    /// nothing.
    func setrange(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        guard let offset = ByteParsing.int64(argv[2]) else {
            writer.error(ErrorReply.notInteger)
            return
        }
        guard offset >= 0 else {
            writer.error(ErrorReply.offsetOutOfRange)
            return
        }
        let key = argv[1]
        let patch = argv[3]
        let existing = keyspace.findLive(key, hash: keyspace.hash(key), now: now)?.1
        guard existing?.kind ?? .string == .string else {
            writer.error(ErrorReply.wrongType)
            return
        }
        let oldLength = existing?.plainLength ?? 0
        if patch.count == 0 {
            writer.integer(oldLength)
            return
        }
        guard offset <= Int64(configuration.protoMaxBulkLength - patch.count) else {
            writer.error(ErrorReply.stringTooLong)
            return
        }
        let newLength = Swift.max(oldLength, Int(offset) + patch.count)
        let write: (UnsafeMutableRawBufferPointer) -> Void = { value in
            (value.baseAddress! + Int(offset)).copyMemory(from: patch.baseAddress!, byteCount: patch.count)
        }
        if let existing, !existing.isCompressed, newLength == oldLength, existing.hasVersion == versioning {
            // Overwriting inside a plain value: in place, no allocation.
            keyspace.willMutate(existing)
            write(existing.value)
            touch(existing, now: now)
        } else {
            rewriteValue(of: key, from: existing, length: newLength, now: now, edit: write)
        }
        // Redis raises the event for every SETRANGE that writes bytes, in place or not.
        notify(.string, "setrange", key)
        writer.integer(newLength)
    }
}
