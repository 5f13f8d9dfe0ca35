/// What cache-aside keeps under a key: a kind byte (1 = a value, 0 = "the store has none",
/// a negative entry), the soft expiry in Unix milliseconds (big-endian), then the encoded
/// value. Past the soft expiry an entry is stale: served while one refresh runs, until the
/// key's real TTL removes it.
struct CacheEntry: Equatable {
    var softExpiry: Int64
    var payload: [UInt8]?

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [payload == nil ? 0 : 1]
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: softExpiry >> Int64(shift))) }
        return bytes + (payload ?? [])
    }

    init(softExpiry: Int64, payload: [UInt8]?) {
        self.softExpiry = softExpiry
        self.payload = payload
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 9, bytes[0] <= 1 else { return nil }
        softExpiry = bytes[1...8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        payload = bytes[0] == 1 ? Array(bytes[9...]) : nil
        if bytes[0] == 0 && bytes.count != 9 { return nil }
    }
}
