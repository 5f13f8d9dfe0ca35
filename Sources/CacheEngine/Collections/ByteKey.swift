/// A byte string as a dictionary key, for the scratch dictionaries of ZUNION and ZINTER.
///
/// `[UInt8]`'s own `hash(into:)` feeds the hasher one element per call
/// (`Hasher.combine(UInt8)`): for a 20-byte member that is 21 calls, and `perf` put them at 7%
/// of SADD's and HSET's user time when sets and hashes still used dictionaries (they, and the
/// sorted sets, have `IndexedTable`'s own index now). This hands the bytes over in one
/// `combine(bytes:)`; the wrapper is the array itself.
struct ByteKey: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
        lhs.bytes == rhs.bytes
    }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
