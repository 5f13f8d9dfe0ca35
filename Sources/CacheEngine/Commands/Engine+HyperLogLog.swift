import RESP

/// PFADD, PFCOUNT and PFMERGE (Redis's hyperloglog.c): a HyperLogLog is a string in Redis's
/// HYLL layout (`HyperLogLog`), so TYPE says string, GET returns it, and SET of a value taken
/// from Redis is a HyperLogLog here too. Unlike Redis, PFCOUNT does not write its result back
/// into the value's header cache: a read stays a read, and every copy of a key keeps the same
/// bytes (so GET after PFCOUNT differs from Redis's in those eight bytes).
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

    private func storeHyperLogLog(_ key: UnsafeRawBufferPointer, _ hyperLogLog: HyperLogLog, now: Int64) {
        let bytes = hyperLogLog.encoded(sparseMaxBytes: configuration.hyperLogLogSparseMaxBytes)
        bytes.withUnsafeBytes { storeString(key, value: $0, expiry: .keep, now: now) }
    }

    /// PFADD key [element ...]: 1 if a register changed or the key was created, else 0.
    func pfadd(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let key = argv[1]
        let existing = keyspace.findLive(key, hash: keyspace.hash(key), now: now)?.1
        var hyperLogLog = try existing.map { entry throws(CommandError) in try self.hyperLogLog(in: entry) } ?? HyperLogLog()
        var changed = existing == nil
        for index in 2..<argv.count where hyperLogLog.add(argv[index]) {
            changed = true
        }
        if changed {
            storeHyperLogLog(key, hyperLogLog, now: now)
            notify(.string, "pfadd", key)
        } else if let existing {
            touch(existing, now: now)
        }
        writer.integer(changed ? 1 : 0)
    }

    /// PFCOUNT key [key ...]: the estimated cardinality of the union; missing keys count as
    /// empty.
    func pfcount(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        if argv.count == 2, let entry = lookupRead(argv[1], now: now), entry.kind == .string,
           let cached = withPlainValue(entry, { HyperLogLog.cachedCardinality($0) }) {
            writer.integer(cached)
            return
        }
        var union: HyperLogLog?
        for index in 1..<argv.count {
            guard let entry = lookupRead(argv[index], now: now) else { continue }
            let hyperLogLog = try self.hyperLogLog(in: entry)
            if union == nil { union = hyperLogLog } else { union!.merge(hyperLogLog) }
        }
        writer.integer(union?.cardinality ?? 0)
    }

    /// PFMERGE destkey [sourcekey ...]: the union of the sources and of destkey itself (when it
    /// exists) into destkey, whose TTL stays. Every key is checked before destkey is written.
    func pfmerge(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        var union = HyperLogLog()
        for index in 1..<argv.count {
            guard let entry = lookupRead(argv[index], now: now) else { continue }
            union.merge(try hyperLogLog(in: entry))
        }
        let destination = argv[1]
        storeHyperLogLog(destination, union, now: now)
        notify(.string, "pfadd", destination)
        writer.ok()
    }
}
