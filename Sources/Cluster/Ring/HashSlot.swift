/// Redis Cluster's key distribution (cluster spec, "Keys distribution model"): a key belongs to
/// slot CRC16(key) mod 16384, where CRC16 is the XMODEM variant (polynomial 0x1021, initial
/// value 0, no reflection). If the key contains a hash tag — the bytes between the first `{` and
/// the first `}` after it, when there is at least one — only the tag is hashed, so keys sharing
/// a tag share a slot. Stock cluster clients compute the same function, which is how they route.
public enum HashSlot {
    public static let count = 16384

    public static func slot(for key: UnsafeRawBufferPointer) -> Int {
        Int(CRC16.checksum(hashedPart(of: key)) & UInt16(count - 1))
    }

    public static func slot(for key: some Sequence<UInt8>) -> Int {
        Array(key).withUnsafeBytes { slot(for: $0) }
    }

    /// The bytes that decide the slot: the hash tag if the key has a non-empty one, else the key.
    public static func hashedPart(of key: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key }
        guard let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 else { return key }
        return UnsafeRawBufferPointer(rebasing: key[(open + 1)..<close])
    }
}

/// CRC16-XMODEM, table-driven.
enum CRC16 {
    static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var crc: UInt16 = 0
        table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(byte))]
            }
        }
        return crc
    }
}
