import RESP

/// PFADD, PFCOUNT and PFMERGE (Redis's hyperloglog.c): a HyperLogLog is a string in Redis's
/// HYLL layout (`HyperLogLog`), so TYPE says string, GET returns it, and SET of a value taken
/// from Redis is a HyperLogLog here too.
///
/// As in Redis, the value's header caches the count: PFCOUNT of one key stores it there and
/// answers from it until a write marks it stale. That store is not a write: it changes no
/// version and is not replicated, so another owner's copy may differ from this one in those
/// eight bytes until its own PFCOUNT. HyperLogLogs are kept uncompressed, so a dense one's
/// registers are edited in place.
extension Engine {
    static let notHyperLogLog = CommandError("WRONGTYPE Key is not a valid HyperLogLog string value.")
    static let corruptHyperLogLog = CommandError("INVALIDOBJ Corrupted HLL object detected")

    /// The HyperLogLog in `entry`, with Redis's errors for another type or a string that is not
    /// one.
    private func hyperLogLog(in entry: Entry) throws(CommandError) -> HyperLogLog {
        guard entry.kind == .string else { throw .wrongType }
        let decoded = withPlainValue(entry) { bytes in Result { () throws(HyperLogLog.DecodingError) in try HyperLogLog(decoding: bytes) } }
        switch decoded {
        case .success(let hyperLogLog): return hyperLogLog
        case .failure(.notHyperLogLog): throw Self.notHyperLogLog
        case .failure(.corrupt): throw Self.corruptHyperLogLog
        }
    }

    /// Writes `hyperLogLog` to `key`, keeping its TTL. A dense value stays dense, as in Redis;
    /// the header keeps the old value's cached count, marked stale.
    private func storeHyperLogLog(_ key: UnsafeRawBufferPointer, _ hyperLogLog: HyperLogLog, replacing old: Entry?, dense: Bool, now: Int64) {
        var bytes = hyperLogLog.encoded(sparseMaxBytes: dense ? 0 : configuration.hyperLogLogSparseMaxBytes)
        bytes.withUnsafeMutableBytes { encoded in
            if let old {
                withPlainValue(old) { previous in
                    for offset in 8..<16 { encoded[offset] = previous[offset] }
                }
            }
            HyperLogLog.invalidateCache(in: encoded)
            storeString(key, value: UnsafeRawBufferPointer(encoded), expiry: .keep, now: now, compressible: false)
        }
    }

    /// Whether `entry` holds a valid HyperLogLog in the dense encoding (of any storage).
    private func isDense(_ entry: Entry) -> Bool {
        withPlainValue(entry) { HyperLogLog.isDense($0) }
    }

    /// PFADD key [element ...]: 1 if a register changed or the key was created, else 0.
    func pfadd(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let key = argv[1]
        let existing = keyspace.findLive(key, hash: keyspace.hash(key), now: now)?.1
        if let existing, existing.kind == .string, !existing.isCompressed, existing.hasVersion == versioning,
           HyperLogLog.isDense(UnsafeRawBufferPointer(existing.value)) {
            // Dense and plain: each element costs one register, read and written in place.
            let value = existing.value
            var changed = false
            for index in 2..<argv.count {
                let (register, count) = HyperLogLog.position(of: argv[index])
                guard HyperLogLog.denseRegister(UnsafeRawBufferPointer(value), register) < count else { continue }
                if !changed { keyspace.willMutate(existing) }
                changed = true
                HyperLogLog.setDenseRegister(value, register, count)
            }
            touch(existing, now: now)
            if changed {
                HyperLogLog.invalidateCache(in: value)
                notify(.string, "pfadd", key)
            }
            writer.integer(changed ? 1 : 0)
            return
        }
        var hyperLogLog = try existing.map { entry throws(CommandError) in try self.hyperLogLog(in: entry) } ?? HyperLogLog()
        var changed = existing == nil
        for index in 2..<argv.count where hyperLogLog.add(argv[index]) {
            changed = true
        }
        if changed {
            storeHyperLogLog(key, hyperLogLog, replacing: existing, dense: existing.map(isDense) ?? false, now: now)
            notify(.string, "pfadd", key)
        } else if let existing {
            touch(existing, now: now)
        }
        writer.integer(changed ? 1 : 0)
    }

    /// PFCOUNT key [key ...]: the estimated cardinality of the union; missing keys count as
    /// empty. One key answers from, or fills, its header's cache.
    func pfcount(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        if argv.count == 2 {
            guard let entry = lookupRead(argv[1], now: now) else {
                writer.integer(0)
                return
            }
            if entry.kind == .string, let cached = withPlainValue(entry, { HyperLogLog.cachedCardinality($0) }) {
                writer.integer(cached)
                return
            }
            let cardinality = try hyperLogLog(in: entry).cardinality
            if !entry.isCompressed { HyperLogLog.cache(cardinality, in: entry.value) }
            writer.integer(cardinality)
            return
        }
        var union = HyperLogLog()
        for index in 1..<argv.count {
            guard let entry = lookupRead(argv[index], now: now) else { continue }
            union.merge(try hyperLogLog(in: entry))
        }
        writer.integer(union.cardinality)
    }

    /// PFMERGE destkey [sourcekey ...]: the union of the sources and of destkey itself (when it
    /// exists) into destkey, whose TTL stays. Every key is checked before destkey is written;
    /// as in Redis, the result is dense if any input was.
    func pfmerge(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        var union = HyperLogLog()
        var dense = false
        for index in 1..<argv.count {
            guard let entry = lookupRead(argv[index], now: now) else { continue }
            union.merge(try hyperLogLog(in: entry))
            dense = dense || isDense(entry)
        }
        let destination = argv[1]
        let existing = keyspace.findLive(destination, hash: keyspace.hash(destination), now: now)?.1
        storeHyperLogLog(destination, union, replacing: existing, dense: dense, now: now)
        notify(.string, "pfadd", destination)
        writer.ok()
    }
}
