import RESP

/// Generic key commands (https://redis.io/docs/latest/commands/?group=generic).
extension Engine {
    func del(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        var deleted = 0
        for index in 1..<argv.count where deleteKey(argv[index], now: now) {
            deleted += 1
            notify(.generic, "del", argv[index])
        }
        writer.integer(deleted)
    }

    /// EXISTS counts a key once per time it is named.
    func exists(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        var found = 0
        for index in 1..<argv.count {
            let key = argv[index]
            if keyspace.findLive(key, hash: keyspace.hash(key), now: now) != nil { found += 1 }
        }
        writer.integer(found)
    }
    func touch(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        var found = 0
        for index in 1..<argv.count {
            let key = argv[index]
            if let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) {
                touch(entry, now: now)
                found += 1
            }
        }
        writer.integer(found)
    }

    /// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT key time [NX | XX | GT | LT] (expire.c,
    /// expireGenericCommand). A time already past deletes the key. No TTL counts as an infinite
    /// one for GT and LT.
    func expire(_ argv: Argv, unit: TimeUnit, relative: Bool, name: String, now: Int64, _ writer: inout RESPWriter) {
        var nx = false, xx = false, gt = false, lt = false
        for index in 3..<argv.count {
            let option = argv[index]
            if ByteParsing.equalsIgnoringCase(option, "NX") { nx = true }
            else if ByteParsing.equalsIgnoringCase(option, "XX") { xx = true }
            else if ByteParsing.equalsIgnoringCase(option, "GT") { gt = true }
            else if ByteParsing.equalsIgnoringCase(option, "LT") { lt = true }
            else {
                writer.error("ERR Unsupported option \(ByteParsing.string(option))")
                return
            }
        }
        if nx && (xx || gt || lt) {
            writer.error(ErrorReply.expireNXWithOthers)
            return
        }
        if gt && lt {
            writer.error(ErrorReply.expireGTAndLT)
            return
        }
        guard let amount = ByteParsing.int64(argv[2]) else {
            writer.error(ErrorReply.notInteger)
            return
        }
        if unit == .seconds && (amount > Int64.max / 1000 || amount < Int64.min / 1000) {
            writer.error(ErrorReply.invalidExpireTime(name))
            return
        }
        var when = unit == .seconds ? amount * 1000 : amount
        if relative {
            let (sum, overflow) = when.addingReportingOverflow(now)
            guard !overflow else {
                writer.error(ErrorReply.invalidExpireTime(name))
                return
            }
            when = sum
        }
        let key = argv[1]
        guard let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) else {
            writer.integer(0)
            return
        }
        let current = entry.expiryIfAny
        if (nx && current != nil) || (xx && current == nil) {
            writer.integer(0)
            return
        }
        if gt && (current == nil || when <= current!) {
            writer.integer(0)
            return
        }
        if lt, let current, when >= current {
            writer.integer(0)
            return
        }
        if when <= now {
            deleteKey(key, now: now)
            notify(.generic, "del", key)
        } else {
            setExpiry(of: key, to: when)
            notify(.generic, "expire", key)
        }
        writer.integer(1)
    }

    /// TTL/PTTL (remaining, rounded to the nearest second for TTL) and EXPIRETIME/PEXPIRETIME
    /// (absolute): -2 when the key is missing, -1 when it has no TTL.
    func ttl(_ argv: Argv, milliseconds: Bool, absolute: Bool, now: Int64, _ writer: inout RESPWriter) {
        let key = argv[1]
        guard let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) else {
            writer.integer(-2)
            return
        }
        guard let expiry = entry.expiryIfAny else {
            writer.integer(-1)
            return
        }
        if absolute {
            writer.integer(Int(milliseconds ? expiry : expiry / 1000))
        } else {
            let remaining = Swift.max(expiry - now, 0)
            writer.integer(Int(milliseconds ? remaining : (remaining + 500) / 1000))
        }
    }
    func persist(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let key = argv[1]
        guard let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now), entry.hasExpiry else {
            writer.integer(0)
            return
        }
        setExpiry(of: key, to: nil)
        notify(.generic, "persist", key)
        writer.integer(1)
    }
    func type(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let key = argv[1]
        if let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) {
            writer.simpleString(entry.kind.typeName)
        } else {
            writer.simpleString("none")
        }
    }
    func keys(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let pattern = argv[1]
        let matchAll = pattern.count == 1 && pattern[0] == UInt8(ascii: "*")
        var matches: [Entry] = []
        keyspace.forEachEntry { entry in
            guard !Keyspace.isExpired(entry, now: now) else { return }
            if matchAll || GlobPattern.matches(pattern, entry.key) { matches.append(entry) }
        }
        writer.arrayHeader(matches.count)
        for entry in matches { writer.bulk(entry.key) }
    }

    /// The live keys `predicate` accepts, at most `limit` of them (CLUSTER GETKEYSINSLOT).
    public func keys(matching predicate: (UnsafeRawBufferPointer) -> Bool, limit: Int, now: Int64) -> [[UInt8]] {
        var result: [[UInt8]] = []
        keyspace.forEachEntry { entry in
            guard result.count < limit, !Keyspace.isExpired(entry, now: now), predicate(entry.key) else { return }
            result.append(Array(entry.key))
        }
        return result
    }

    /// How many live keys `predicate` accepts (CLUSTER COUNTKEYSINSLOT). A walk over the whole
    /// keyspace: Ringcache keeps no per-slot index, which would cost memory on every key.
    public func countKeys(matching predicate: (UnsafeRawBufferPointer) -> Bool, now: Int64) -> Int {
        var count = 0
        keyspace.forEachEntry { entry in
            if !Keyspace.isExpired(entry, now: now) && predicate(entry.key) { count += 1 }
        }
        return count
    }

    /// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
    func scan(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        guard var cursor = ByteParsing.uint64(argv[1]) else {
            writer.error(ErrorReply.invalidCursor)
            return
        }
        var count = 10
        var pattern: UnsafeRawBufferPointer?
        var typeFilter: UnsafeRawBufferPointer?
        var index = 2
        while index < argv.count {
            let option = argv[index]
            guard index + 1 < argv.count else {
                writer.error(ErrorReply.syntax)
                return
            }
            let value = argv[index + 1]
            if ByteParsing.equalsIgnoringCase(option, "COUNT") {
                guard let parsed = ByteParsing.int64(value) else {
                    writer.error(ErrorReply.notInteger)
                    return
                }
                guard parsed >= 1 else {
                    writer.error(ErrorReply.syntax)
                    return
                }
                count = Int(Swift.min(parsed, Int64(Int32.max)))
            } else if ByteParsing.equalsIgnoringCase(option, "MATCH") {
                pattern = value
            } else if ByteParsing.equalsIgnoringCase(option, "TYPE") {
                typeFilter = value
            } else {
                writer.error(ErrorReply.syntax)
                return
            }
            index += 2
        }
        var found: [Entry] = []
        var iterations = 0
        repeat {
            cursor = keyspace.scanStep(cursor: cursor) { found.append($0) }
            iterations += 1
        } while cursor != 0 && iterations < count * 10 && found.count < count
        // An unknown TYPE matches nothing, as in Redis 7.0.
        let wantedKind: ValueKind?? = typeFilter.map { filter in
            let name = ByteParsing.string(filter).lowercased()
            return [ValueKind.string, .hash, .list, .set, .zset].first { "\($0.typeName)" == name }
        }
        let emitted = found.filter { entry in
            (wantedKind == nil || wantedKind! == entry.kind) && !Keyspace.isExpired(entry, now: now) && (pattern.map { GlobPattern.matches($0, entry.key) } ?? true)
        }
        writer.arrayHeader(2)
        writer.bulk(String(cursor))
        writer.arrayHeader(emitted.count)
        for entry in emitted { writer.bulk(entry.key) }
    }

    /// RANDOMKEY: samples keys until it finds one that has not expired, deleting the expired
    /// ones it meets, with a bound so a keyspace of expired keys cannot stall it.
    func randomkey(now: Int64, _ writer: inout RESPWriter) {
        for _ in 0..<100 {
            guard let (location, entry) = keyspace.randomEntry(using: &random) else { break }
            if !Keyspace.isExpired(entry, now: now) {
                writer.bulk(entry.key)
                return
            }
            keyspace.noteExpired(entry)
            keyspace.remove(at: location)
        }
        writer.null()
    }

    /// RENAME / RENAMENX src dst: the value and TTL move to the new name.
    func rename(_ argv: Argv, onlyIfAbsent: Bool, now: Int64, _ writer: inout RESPWriter) {
        let source = argv[1]
        let destination = argv[2]
        guard let (_, entry) = keyspace.findLive(source, hash: keyspace.hash(source), now: now) else {
            writer.error(ErrorReply.noSuchKey)
            return
        }
        if source.elementsEqual(destination) {
            if onlyIfAbsent { writer.integer(0) } else { writer.ok() }
            return
        }
        let destinationHash = keyspace.hash(destination)
        if onlyIfAbsent && keyspace.findLive(destination, hash: destinationHash, now: now) != nil {
            writer.integer(0)
            return
        }
        let moved = Entry.allocate(
            key: destination, valueLength: entry.valueLength, expiry: entry.expiryIfAny, kind: entry.kind, clock: entry.accessClock,
            compressed: entry.isCompressed, version: newEntryVersion)
        moved.copyValue(from: entry)
        deleteKey(source, now: now)
        deleteKey(destination, now: now)
        keyspace.insertNew(moved, hash: destinationHash)
        notify(.generic, "rename_from", source)
        notify(.generic, "rename_to", destination)
        if moved.isCollection { signalReady(destination) }
        if onlyIfAbsent { writer.integer(1) } else { writer.ok() }
    }

    /// COPY source destination [DB destination-db] [REPLACE] (db.c copyCommand). There is one
    /// database, so DB takes only 0. The copy keeps the source's TTL; a collection is copied
    /// through its portable form, so the two keys share nothing afterwards.
    func copy(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        var replace = false
        var index = 3
        while index < argv.count {
            let option = argv[index]
            if ByteParsing.equalsIgnoringCase(option, "REPLACE") {
                replace = true
            } else if ByteParsing.equalsIgnoringCase(option, "DB") && index + 1 < argv.count {
                guard let database = ByteParsing.int64(argv[index + 1]) else {
                    writer.error(ErrorReply.notInteger)
                    return
                }
                guard database == 0 else {
                    writer.error("ERR DB index is out of range")
                    return
                }
                index += 1
            } else {
                writer.error(ErrorReply.syntax)
                return
            }
            index += 1
        }
        let source = argv[1]
        let destination = argv[2]
        if source.elementsEqual(destination) {
            writer.error("ERR source and destination objects are the same")
            return
        }
        guard let (_, original) = keyspace.findLive(source, hash: keyspace.hash(source), now: now) else {
            writer.integer(0)
            return
        }
        let destinationHash = keyspace.hash(destination)
        if keyspace.findLive(destination, hash: destinationHash, now: now) != nil {
            guard replace else {
                writer.integer(0)
                return
            }
            deleteKey(destination, now: now)
        }
        let copied: Entry
        if original.isCollection {
            let encoded = CollectionCodec.encode(original.collection)
            guard let value = encoded.withUnsafeBytes({ CollectionCodec.decode(kind: original.kind, $0, configuration: configuration) }) else {
                preconditionFailure("a collection's portable form decodes")
            }
            copied = Entry.allocate(key: destination, valueLength: 8, expiry: original.expiryIfAny, kind: original.kind,
                                    clock: initialClock(now), version: newEntryVersion)
            copied.storeCollection(value)
        } else {
            copied = Entry.allocate(key: destination, valueLength: original.valueLength, expiry: original.expiryIfAny, kind: .string,
                                    clock: initialClock(now), compressed: original.isCompressed, version: newEntryVersion)
            copied.copyValue(from: original)
        }
        keyspace.insertNew(copied, hash: destinationHash)
        notify(.generic, "copy_to", destination)
        if copied.isCollection { signalReady(destination) }
        writer.integer(1)
    }

    /// OBJECT ENCODING | IDLETIME | FREQ | REFCOUNT | HELP. Looking does not count as access.
    func object(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        let subcommand = argv[1]
        if ByteParsing.equalsIgnoringCase(subcommand, "HELP") {
            let lines = [
                "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "ENCODING <key>",
                "    Return the kind of internal representation used in order to store the value",
                "    associated with a <key>.",
                "IDLETIME <key>",
                "    Return the idle time of the <key>, that is the approximated number of",
                "    seconds elapsed since the last access to the key.",
                "REFCOUNT <key>",
                "    Return the number of references of the value associated with the specified",
                "    <key>.",
                "HELP",
                "    Print this help.",
            ]
            writer.simpleStrings(lines)
            return
        }
        let known = ["ENCODING", "IDLETIME", "REFCOUNT", "FREQ"].contains { ByteParsing.string(subcommand).uppercased() == $0 }
        guard known, argv.count == 3 else {
            writer.error(ErrorReply.unknownSubcommand(ByteParsing.string(subcommand), of: "object"))
            return
        }
        let key = argv[2]
        guard let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) else {
            writer.null()
            return
        }
        let usesLFU = configuration.evictionPolicy.usesLFU
        if ByteParsing.equalsIgnoringCase(subcommand, "ENCODING") {
            if entry.isCollection {
                writer.bulk(entry.collection.encodingName)
            } else {
                writer.bulk(withPlainValue(entry) { Self.stringEncoding($0) })
            }
        } else if ByteParsing.equalsIgnoringCase(subcommand, "IDLETIME") {
            guard !usesLFU else {
                writer.error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
                return
            }
            let idle = (Self.clock(now) &- entry.accessClock) & 0xFF_FFFF
            writer.integer(Int(idle / Self.clockTicksPerSecond))
        } else if ByteParsing.equalsIgnoringCase(subcommand, "REFCOUNT") {
            writer.integer(1)
        } else if usesLFU {
            writer.integer(Int(LFU.decayedCounter(entry.accessClock, now: now, decayTime: configuration.lfuDecayTime)))
        } else {
            writer.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        }
    }

    /// The encoding Redis would report for a string (object.c): `int` for a 64-bit decimal,
    /// `embstr` up to 44 bytes, `raw` beyond.
    static func stringEncoding(_ value: UnsafeRawBufferPointer) -> String {
        if ByteParsing.int64(value) != nil { return "int" }
        return value.count <= 44 ? "embstr" : "raw"
    }

    /// FLUSHDB / FLUSHALL [ASYNC | SYNC]
    func flush(_ argv: Argv, _ writer: inout RESPWriter) {
        if argv.count > 2 || (argv.count == 2 && !ByteParsing.equalsIgnoringCase(argv[1], "ASYNC") && !ByteParsing.equalsIgnoringCase(argv[1], "SYNC")) {
            writer.error(ErrorReply.syntax)
            return
        }
        keyspace.removeAll()
        writer.ok()
    }
}
