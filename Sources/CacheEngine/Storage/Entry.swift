/// One key and its value in a single allocation: a cache's capacity is its memory per key, so
/// there is no object, no separate key buffer and no separate value buffer.
///
/// Layout (offsets in bytes; the allocation is 16-byte aligned by malloc):
///
///     0   UInt32  key length
///     4   UInt32  value length
///     8   UInt32  meta: bits 0-3 value kind, bit 4 has-expiry, bits 8-31 access clock (LRU)
///    12   UInt32  index in the keyspace's volatile list      } only with has-expiry
///    16   Int64   absolute expiry, Unix milliseconds          }
///    12 or 24     key bytes, then value bytes
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
    static let hasExpiryBit: UInt32 = 1 << 4
    static let kindMask: UInt32 = 0xF

    static func headerSize(hasExpiry: Bool) -> Int {
        hasExpiry ? volatileHeaderSize : plainHeaderSize
    }

    static func allocationSize(keyLength: Int, valueLength: Int, hasExpiry: Bool) -> Int {
        headerSize(hasExpiry: hasExpiry) + keyLength + valueLength
    }

    /// Allocates an entry holding `key` and room for `valueLength` value bytes (uninitialised).
    static func allocate(key: UnsafeRawBufferPointer, valueLength: Int, expiry: Int64?, kind: ValueKind, clock: UInt32) -> Entry {
        let hasExpiry = expiry != nil
        let size = allocationSize(keyLength: key.count, valueLength: valueLength, hasExpiry: hasExpiry)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        raw.storeBytes(of: UInt32(truncatingIfNeeded: key.count), toByteOffset: 0, as: UInt32.self)
        raw.storeBytes(of: UInt32(truncatingIfNeeded: valueLength), toByteOffset: 4, as: UInt32.self)
        raw.storeBytes(of: UInt32(kind.rawValue) | (hasExpiry ? hasExpiryBit : 0) | (clock << 8), toByteOffset: 8, as: UInt32.self)
        if let expiry {
            raw.storeBytes(of: UInt32.max, toByteOffset: 12, as: UInt32.self)
            raw.storeBytes(of: expiry, toByteOffset: 16, as: Int64.self)
        }
        if key.count > 0 {
            (raw + headerSize(hasExpiry: hasExpiry)).copyMemory(from: key.baseAddress!, byteCount: key.count)
        }
        return Entry(raw)
    }

    func deallocate() {
        raw.deallocate()
    }

    var keyLength: Int { Int(raw.load(fromByteOffset: 0, as: UInt32.self)) }

    var valueLength: Int { Int(raw.load(fromByteOffset: 4, as: UInt32.self)) }

    var meta: UInt32 {
        get { raw.load(fromByteOffset: 8, as: UInt32.self) }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 8, as: UInt32.self) }
    }

    var kind: ValueKind { ValueKind(rawValue: UInt8(meta & Self.kindMask)) ?? .string }

    var hasExpiry: Bool { meta & Self.hasExpiryBit != 0 }

    /// The 24-bit access clock (seconds), for OBJECT IDLETIME and LRU eviction.
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

    var headerSize: Int { Self.headerSize(hasExpiry: hasExpiry) }

    var key: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw + headerSize, count: keyLength)
    }

    var value: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: raw + headerSize + keyLength, count: valueLength)
    }

    /// Bytes this entry asked the allocator for.
    var allocationSize: Int { headerSize + keyLength + valueLength }

    func keyEquals(_ other: UnsafeRawBufferPointer) -> Bool {
        let length = keyLength
        guard length == other.count else { return false }
        guard length > 0 else { return true }
        return memcmp(raw + headerSize, other.baseAddress!, length) == 0
    }
}

/// What an entry's value bytes hold. Strings only for now; the other Redis types will be stored
/// behind the same entry header.
enum ValueKind: UInt8, Sendable {
    case string = 0
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
