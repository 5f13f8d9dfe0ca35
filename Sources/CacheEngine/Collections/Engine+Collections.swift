import RESP

/// An error reply a command decided on before writing anything.
struct CommandError: Error {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    init(_ message: StaticString) {
        self.message = "\(message)"
    }

    static let wrongType = CommandError(ErrorReply.wrongType)
    static let syntax = CommandError(ErrorReply.syntax)
    static let notInteger = CommandError(ErrorReply.notInteger)
    static let notFloat = CommandError(ErrorReply.notFloat)
    static let outOfRange = CommandError("ERR value is out of range, must be positive")
}

/// What the collection commands share: typed lookups with WRONGTYPE, and one place where a
/// collection changes, so snapshots, replication, memory accounting and empty-key removal
/// happen the same way for every command.
extension Engine {
    /// Runs a collection command, turning a thrown `CommandError` into its error reply. A
    /// command throws only before it has written any part of its reply.
    func run(_ command: (Argv, Int64, inout RESPWriter) throws(CommandError) -> Void, _ argv: Argv, now: Int64, _ writer: inout RESPWriter) {
        do {
            try command(argv, now, &writer)
        } catch {
            writer.error(error.message)
        }
    }

    /// The live value under `key` if it is a `T`, for reading: counts a hit or a miss and
    /// records the access. Throws WRONGTYPE for a key of another type.
    func readable<T: CollectionValue>(_ key: UnsafeRawBufferPointer, _ type: T.Type, now: Int64) throws(CommandError) -> T? {
        guard let entry = lookupRead(key, now: now) else { return nil }
        guard let value = entry.isCollection ? entry.collection as? T : nil else { throw .wrongType }
        return value
    }

    /// Whether `key` holds a live value of another type than `kind` (absent is fine).
    func checkType(_ key: UnsafeRawBufferPointer, _ kind: ValueKind, now: Int64) throws(CommandError) {
        if let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now), entry.kind != kind { throw .wrongType }
    }

    /// Changes the `T` under `key`: `body` runs after the entry's pre-image is saved for a
    /// running snapshot and its version stamped; afterwards the size change is accounted and an
    /// emptied collection deleted (Redis never keeps an empty collection). With `create`, an
    /// absent key is created empty first; without, `body` is not run and nil returned.
    func mutate<T: CollectionValue, Result>(
        _ key: UnsafeRawBufferPointer, _ make: () -> T, create: Bool, now: Int64, _ body: (T) throws(CommandError) -> Result
    ) throws(CommandError) -> Result? {
        let hash = keyspace.hash(key)
        let value: T
        if let (_, found) = keyspace.findLive(key, hash: hash, now: now) {
            guard let typed = found.isCollection ? found.collection as? T : nil else { throw .wrongType }
            keyspace.willMutate(found)
            touch(found, now: now)
            value = typed
        } else {
            guard create else { return nil }
            value = make()
            let entry = Entry.allocate(key: key, valueLength: 8, expiry: nil, kind: value.kind, clock: initialClock(now), version: newEntryVersion)
            entry.storeCollection(value)
            keyspace.insertNew(entry, hash: hash)
        }
        let before = value.footprint
        defer {
            keyspace.collectionResized(by: value.footprint - before)
            if value.count == 0 {
                deleteKey(key, now: now)
                if keyspace.eventsEnabled { emptiedKeys.append(Array(key)) }
            }
        }
        return try body(value)
    }

    /// Stores `value` under `key` as a new key, replacing whatever was there (the *STORE
    /// commands). An empty collection deletes the key instead.
    func storeCollection(_ key: UnsafeRawBufferPointer, _ value: CollectionValue, now: Int64) {
        deleteKey(key, now: now)
        guard value.count > 0 else { return }
        let entry = Entry.allocate(key: key, valueLength: 8, expiry: nil, kind: value.kind, clock: initialClock(now), version: newEntryVersion)
        entry.storeCollection(value)
        keyspace.insertNew(entry, hash: keyspace.hash(key))
    }

    /// Stores a value decoded from a snapshot or a replication record.
    func storeDecoded(_ key: UnsafeRawBufferPointer, kind: ValueKind, encoded: UnsafeRawBufferPointer, expiry: Int64?, version: UInt64?, now: Int64) -> Bool {
        guard let value = CollectionCodec.decode(kind: kind, encoded, configuration: configuration) else { return false }
        deleteKey(key, now: now)
        let entry = Entry.allocate(key: key, valueLength: 8, expiry: expiry, kind: kind, clock: initialClock(now), version: version)
        entry.storeCollection(value)
        keyspace.insertNew(entry, hash: keyspace.hash(key))
        return true
    }

    // MARK: Argument parsing shared by the collection commands

    static func integer(_ bytes: UnsafeRawBufferPointer) throws(CommandError) -> Int {
        guard let value = ByteParsing.int64(bytes) else { throw .notInteger }
        return Int(value)
    }

    /// A score for ZADD or ZINCRBY: like Redis (getDoubleFromObject), a number that overflows
    /// to an infinity or underflows to zero is `ERR value is not a valid float`.
    static func float(_ bytes: UnsafeRawBufferPointer) throws(CommandError) -> Double {
        guard let value = ByteParsing.double(bytes, rangeChecked: true) else { throw .notFloat }
        return value
    }

    /// A positive COUNT (LPOP, SPOP, ZPOPMIN…): `ERR value is out of range, must be positive`.
    static func count(_ bytes: UnsafeRawBufferPointer) throws(CommandError) -> Int {
        guard let value = ByteParsing.int64(bytes), value >= 0 else { throw .outOfRange }
        return Int(value)
    }

    /// Redis's start/stop range over `length` elements (negative from the end, clamped):
    /// nil when empty.
    static func clampedRange(start: Int, stop: Int, length: Int) -> ClosedRange<Int>? {
        var start = start < 0 ? length + start : start
        var stop = stop < 0 ? length + stop : stop
        if start < 0 { start = 0 }
        guard start <= stop, start < length else { return nil }
        if stop >= length { stop = length - 1 }
        return start...stop
    }

    /// HSCAN, SSCAN and ZSCAN: `cursor [MATCH pattern] [COUNT count]` (and NOVALUES for HSCAN
    /// when `allowNoValues`). The whole collection is returned in one reply with cursor 0,
    /// which is what Redis does for its small encodings and within SCAN's contract for any
    /// size (COUNT is a hint; every element present throughout is returned).
    static func scanOptions(_ argv: Argv, allowNoValues: Bool = false) throws(CommandError) -> (pattern: UnsafeRawBufferPointer?, noValues: Bool) {
        guard ByteParsing.uint64(argv[2]) != nil else { throw CommandError(ErrorReply.invalidCursor) }
        var pattern: UnsafeRawBufferPointer?
        var noValues = false
        var index = 3
        while index < argv.count {
            if allowNoValues && ByteParsing.equalsIgnoringCase(argv[index], "NOVALUES") {
                noValues = true
                index += 1
                continue
            }
            guard index + 1 < argv.count else { throw .syntax }
            if ByteParsing.equalsIgnoringCase(argv[index], "COUNT") {
                let count = try integer(argv[index + 1])
                guard count >= 1 else { throw .syntax }
            } else if ByteParsing.equalsIgnoringCase(argv[index], "MATCH") {
                pattern = argv[index + 1]
            } else {
                throw .syntax
            }
            index += 2
        }
        return (pattern, noValues)
    }

    static func matches(_ pattern: UnsafeRawBufferPointer?, _ element: [UInt8]) -> Bool {
        guard let pattern else { return true }
        return element.withUnsafeBytes { GlobPattern.matches(pattern, $0) }
    }
}
