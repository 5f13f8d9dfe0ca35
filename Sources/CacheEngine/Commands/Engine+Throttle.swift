import RESP

/// CL.THROTTLE key max_burst count period [quantity]: rate limiting with the generic cell
/// rate algorithm (GCRA, ATM Forum TM 4.0; as redis-cell offers it), so applications can
/// build API limits on the cluster with one command routed by key like any other.
///
/// The key holds the theoretical arrival time (TAT) in Unix milliseconds, as a string that
/// expires when the bucket would be full again. Emission interval T = period / count; the
/// tolerance τ = T × (max_burst + 1). A request of `quantity` is allowed when
/// max(TAT, now) + T × quantity − τ ≤ now, and then moves TAT there.
///
/// Reply (redis-cell's): [limited 0/1, limit = max_burst + 1, remaining, retry_after seconds
/// (−1 when allowed), reset_after seconds].
extension Engine {
    func throttle(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard argv.count <= 6 else { throw .syntax }
        let maxBurst = try Self.integer(argv[2])
        let count = try Self.integer(argv[3])
        let period = try Self.integer(argv[4])
        let quantity = argv.count == 6 ? try Self.integer(argv[5]) : 1
        guard maxBurst >= 0 else { throw CommandError("ERR invalid max_burst: must be 0 or more") }
        guard count > 0 else { throw CommandError("ERR invalid count: must be 1 or more") }
        guard period > 0, period <= 1_000_000_000 else { throw CommandError("ERR invalid period: must be 1 or more seconds") }
        guard quantity >= 0, quantity <= 1_000_000_000 else { throw CommandError("ERR invalid quantity: must be 0 or more") }
        let key = argv[1]
        var storedArrival: Int64?
        if let (_, entry) = keyspace.findLive(key, hash: keyspace.hash(key), now: now) {
            guard entry.kind == .string else { throw .wrongType }
            guard let parsed = withPlainValue(entry, { ByteParsing.int64($0) }) else {
                throw CommandError("ERR the key does not hold a CL.THROTTLE state")
            }
            storedArrival = parsed
        }
        let decision = GCRA(maxBurst: maxBurst, count: count, periodMilliseconds: Int64(period) * 1000)
            .decide(theoreticalArrival: storedArrival, quantity: quantity, now: now)
        if let newArrival = decision.newTheoreticalArrival {
            let text = Array(String(newArrival).utf8)
            text.withUnsafeBytes { storeString(key, value: $0, expiry: .at(now + Swift.max(1, decision.resetAfterMilliseconds)), now: now) }
            notify(.string, "set", key)
        }
        writer.arrayHeader(5)
        writer.integer(decision.limited ? 1 : 0)
        writer.integer(maxBurst + 1)
        writer.integer(decision.remaining)
        writer.integer(decision.retryAfterMilliseconds.map { Int($0 / 1000) } ?? -1)
        writer.integer(Int(decision.resetAfterMilliseconds / 1000))
    }
}

/// The generic cell rate algorithm as a pure value: no clock, no storage.
struct GCRA {
    let emissionInterval: Int64
    let tolerance: Int64

    init(maxBurst: Int, count: Int, periodMilliseconds: Int64) {
        emissionInterval = Swift.max(1, periodMilliseconds / Int64(count))
        tolerance = emissionInterval * Int64(maxBurst + 1)
    }

    struct Decision: Equatable {
        var limited: Bool
        var remaining: Int
        /// When the request would be allowed, if it can ever be (nil when allowed now, or
        /// when the quantity exceeds the burst).
        var retryAfterMilliseconds: Int64?
        var resetAfterMilliseconds: Int64
        /// The TAT to store, nil when limited (nothing changes).
        var newTheoreticalArrival: Int64?
    }

    func decide(theoreticalArrival: Int64?, quantity: Int, now: Int64) -> Decision {
        let arrival = Swift.max(theoreticalArrival ?? now, now)
        let increment = emissionInterval * Int64(quantity)
        let newArrival = arrival + increment
        let allowAt = newArrival - tolerance
        let limited = allowAt > now
        let resetAfter = (limited ? arrival : newArrival) - now
        let next = tolerance - resetAfter
        let remaining = next > -emissionInterval ? Int(Swift.max(0, next / emissionInterval)) : 0
        return Decision(
            limited: limited, remaining: remaining,
            retryAfterMilliseconds: limited && increment <= tolerance ? allowAt - now : nil,
            resetAfterMilliseconds: resetAfter, newTheoreticalArrival: limited ? nil : newArrival)
    }
}
