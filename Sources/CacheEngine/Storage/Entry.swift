/// One key and its value in a single allocation: a cache's capacity is its memory per key, so
/// there is no object, no separate key buffer and no separate value buffer.
///
/// Layout (offsets in bytes; the allocation is 16-byte aligned by malloc):
///
///     0   UInt32  key length (bit 31: which snapshot generation saved the entry; keys are
///                 shorter than 2^31 bytes because proto-max-bulk-len is capped there)
///     4   UInt32  value length (bit 31: the entry carries a replication version)
///     8   UInt32  meta: bits 0-2 value kind, bit 3 in S3-FIFO's main queue, bit 4 has-expiry,
///                 bit 5 LZ4-compressed, bits 6-7 S3-FIFO access count, bits 8-31 access clock
///                 (LRU: deciseconds; LFU: Redis's 16-bit minutes + 8-bit log counter)
///    12   UInt32  index in the keyspace's volatile list      } only with has-expiry
///    16   Int64   absolute expiry, Unix milliseconds          }
///    12 or 24     UInt64  replication version (hybrid logical clock), only with bit 31 of
///                 the value length: entries of a clustered node with replicas carry one
///    then         key bytes, then value bytes; a compressed value is a UInt32 original
///                 length followed by the LZ4 block
///
/// A key `key:0000001` with a 32-byte value and no TTL takes 12 + 11 + 32 = 55 bytes, which
/// glibc serves from its 64-byte size class.
struct Entry: Equatable {
    let raw: UnsafeMutableRawPointer

    init(_ raw: UnsafeMutableRawPointer) {
        self.raw = raw
    }

    static let plainHeaderSize = 12
    static let volatileHeaderSize = 24
    static let kindMask: UInt32 = 0x7
    static let mainQueueBit: UInt32 = 1 << 3
    static let hasExpiryBit: UInt32 = 1 << 4
    static let compressedBit: UInt32 = 1 << 5
    static let frequencyShift: UInt32 = 6
    static let frequencyMask: UInt32 = 0x3 << 6
    /// Bits an eviction policy owns; they move with the key when its allocation is replaced.
    static let policyBits: UInt32 = mainQueueBit | frequencyMask

    static let versionBit: UInt32 = 1 << 31
    static let versionSize = 8

    static func headerSize(hasExpiry: Bool, hasVersion: Bool = false) -> Int {
        (hasExpiry ? volatileHeaderSize : plainHeaderSize) + (hasVersion ? versionSize : 0)
    }

    static func allocationSize(keyLength: Int, valueLength: Int, hasExpiry: Bool, hasVersion: Bool = false) -> Int {
        headerSize(hasExpiry: hasExpiry, hasVersion: hasVersion) + keyLength + valueLength
    }

    /// Allocates an entry holding `key` and room for `valueLength` value bytes (uninitialised).
    /// `policyBits` carries an eviction policy's per-key state over from a replaced entry.
    static func allocate(
        key: UnsafeRawBufferPointer, valueLength: Int, expiry: Int64?, kind: ValueKind, clock: UInt32,
        compressed: Bool = false, policyBits: UInt32 = 0, version: UInt64? = nil
    ) -> Entry {
        let hasExpiry = expiry != nil
        let size = allocationSize(keyLength: key.count, valueLength: valueLength, hasExpiry: hasExpiry, hasVersion: version != nil)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        raw.storeBytes(of: UInt32(truncatingIfNeeded: key.count), toByteOffset: 0, as: UInt32.self)
        raw.storeBytes(of: UInt32(truncatingIfNeeded: valueLength) | (version != nil ? versionBit : 0), toByteOffset: 4, as: UInt32.self)
        let meta = UInt32(kind.rawValue) | (hasExpiry ? hasExpiryBit : 0) | (compressed ? compressedBit : 0)
            | (policyBits & Self.policyBits) | (clock << 8)
        raw.storeBytes(of: meta, toByteOffset: 8, as: UInt32.self)
        if let expiry {
            raw.storeBytes(of: UInt32.max, toByteOffset: 12, as: UInt32.self)
            raw.storeBytes(of: expiry, toByteOffset: 16, as: Int64.self)
        }
        if let version {
            raw.storeBytes(of: version, toByteOffset: hasExpiry ? volatileHeaderSize : plainHeaderSize, as: UInt64.self)
        }
        if key.count > 0 {
            (raw + headerSize(hasExpiry: hasExpiry, hasVersion: version != nil)).copyMemory(from: key.baseAddress!, byteCount: key.count)
        }
        return Entry(raw)
    }

    func deallocate() {
        raw.deallocate()
    }

    static let snapshotBit: UInt32 = 1 << 31

    var keyLength: Int { Int(raw.load(fromByteOffset: 0, as: UInt32.self) & ~Self.snapshotBit) }

    /// Compared with the keyspace's snapshot parity: equal means the running snapshot already
    /// holds this entry (or the entry is newer than the snapshot).
    var snapshotParity: Bool {
        get { raw.load(fromByteOffset: 0, as: UInt32.self) & Self.snapshotBit != 0 }
        nonmutating set {
            let word = raw.load(fromByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: newValue ? word | Self.snapshotBit : word & ~Self.snapshotBit, toByteOffset: 0, as: UInt32.self)
        }
    }

    var valueLength: Int { Int(raw.load(fromByteOffset: 4, as: UInt32.self) & ~Self.versionBit) }

    var hasVersion: Bool { raw.load(fromByteOffset: 4, as: UInt32.self) & Self.versionBit != 0 }

    private var versionOffset: Int { hasExpiry ? Self.volatileHeaderSize : Self.plainHeaderSize }

    /// The replication version, 0 for an entry without one. Unaligned after a plain header.
    var version: UInt64 {
        get { hasVersion ? raw.loadUnaligned(fromByteOffset: versionOffset, as: UInt64.self) : 0 }
        nonmutating set {
            guard hasVersion else { return }
            raw.storeBytes(of: newValue, toByteOffset: versionOffset, as: UInt64.self)
        }
    }

    var versionIfAny: UInt64? { hasVersion ? version : nil }

    var meta: UInt32 {
        get { raw.load(fromByteOffset: 8, as: UInt32.self) }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 8, as: UInt32.self) }
    }

    var kind: ValueKind { ValueKind(rawValue: UInt8(meta & Self.kindMask)) ?? .string }

    var hasExpiry: Bool { meta & Self.hasExpiryBit != 0 }

    var isCompressed: Bool { meta & Self.compressedBit != 0 }

    var policyBits: UInt32 { meta & Self.policyBits }

    /// S3-FIFO: whether the key sits in the main queue (else the small one).
    var inMainQueue: Bool {
        get { meta & Self.mainQueueBit != 0 }
        nonmutating set { meta = newValue ? meta | Self.mainQueueBit : meta & ~Self.mainQueueBit }
    }

    /// S3-FIFO's two-bit access count.
    var accessCount: UInt32 {
        get { (meta & Self.frequencyMask) >> Self.frequencyShift }
        nonmutating set { meta = (meta & ~Self.frequencyMask) | ((Swift.min(newValue, 3) << Self.frequencyShift) & Self.frequencyMask) }
    }

    /// The value's length as clients see it: the stored length, or the original length of a
    /// compressed value.
    var plainLength: Int {
        isCompressed ? Int(raw.loadUnaligned(fromByteOffset: headerSize + keyLength, as: UInt32.self)) : valueLength
    }

    /// What the allocation really costs, allocator overhead included: the chunk malloc handed
    /// out, not the bytes asked for.
    var footprint: Int { Allocation.footprint(raw) }

    /// The 24-bit access clock, for OBJECT IDLETIME and LRU or LFU eviction.
    var accessClock: UInt32 {
        get { meta >> 8 }
        nonmutating set { meta = (meta & 0xFF) | (newValue << 8) }
    }

    var volatileIndex: Int {
        get { Int(raw.load(fromByteOffset: 12, as: UInt32.self)) }
        nonmutating set { raw.storeBytes(of: UInt32(truncatingIfNeeded: newValue), toByteOffset: 12, as: UInt32.self) }
    }

    /// Absolute expiry in Unix milliseconds; only meaningful when `hasExpiry`.
    var expiry: Int64 {
        get { raw.load(fromByteOffset: 16, as: Int64.self) }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 16, as: Int64.self) }
    }

    var expiryIfAny: Int64? { hasExpiry ? expiry : nil }

    var headerSize: Int { Self.headerSize(hasExpiry: hasExpiry, hasVersion: hasVersion) }

    var key: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw + headerSize, count: keyLength)
    }

    var value: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: raw + headerSize + keyLength, count: valueLength)
    }

    func keyEquals(_ other: UnsafeRawBufferPointer) -> Bool {
        let length = keyLength
        guard length == other.count else { return false }
        guard length > 0 else { return true }
        return memcmp(raw + headerSize, other.baseAddress!, length) == 0
    }
}

/// Sizes of heap blocks as the allocator sees them.
enum Allocation {
    /// glibc's per-chunk header: a chunk's real cost is its usable size plus this.
    static let chunkOverhead = MemoryLayout<Int>.size

    static func footprint(_ pointer: UnsafeMutableRawPointer) -> Int {
        #if canImport(Darwin)
        return malloc_size(pointer)
        #else
        return malloc_usable_size(pointer) + chunkOverhead
        #endif
    }
}

/// What an entry's value bytes hold: a string's bytes, or for the other Redis types a
/// reference to a `CollectionValue`. The raw values are the snapshot and replication type tags.
enum ValueKind: UInt8, Sendable {
    case string = 0
    case hash = 1
    case list = 2
    case set = 3
    case zset = 4

    /// The name TYPE replies with and SCAN TYPE filters by.
    var typeName: StaticString {
        switch self {
        case .string: "string"
        case .hash: "hash"
        case .list: "list"
        case .set: "set"
        case .zset: "zset"
        }
    }
}

#if canImport(CMalloc) && os(Linux)
import CMalloc
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
