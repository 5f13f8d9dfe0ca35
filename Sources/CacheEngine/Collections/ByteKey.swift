/// A byte string as a dictionary key: the members of a sorted set's score index.
///
/// `[UInt8]`'s own `hash(into:)` feeds the hasher one element per call
/// (`Hasher.combine(UInt8)`): for a 20-byte member that is 21 calls, and `perf` put them at 7%
/// of SADD's and HSET's user time when sets and hashes still used dictionaries (they have
/// `IndexedTable`'s own index now). This hands the bytes over in one `combine(bytes:)`. The
/// wrapper is the array itself, so a key still shares its storage with the skip list's copy.
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
