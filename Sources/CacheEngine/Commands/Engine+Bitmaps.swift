import RESP

/// Bitmaps (Redis's bitops.c): a string addressed bit by bit. Bit 0 is the most significant
/// bit of the first byte, so `SETBIT k 7 1` on a missing key makes the one byte 0x01. Reading
/// past the end reads zeros; writing past it zero-pads the string.
extension Engine {
    /// A bit offset: 0 up to the bits of the longest string `proto-max-bulk-len` allows.
    func bitOffset(_ bytes: UnsafeRawBufferPointer) throws(CommandError) -> Int {
        guard let offset = ByteParsing.int64(bytes), offset >= 0, offset >> 3 < Int64(configuration.protoMaxBulkLength) else {
            throw CommandError("ERR bit offset is not an integer or out of range")
        }
        return Int(offset)
    }

    /// The live string at `key` for reading (nil: missing, which reads as all zeros).
    private func readableString(_ key: UnsafeRawBufferPointer, now: Int64) throws(CommandError) -> Entry? {
        guard let entry = lookupRead(key, now: now) else { return nil }
        guard entry.kind == .string else { throw .wrongType }
        return entry
    }

    /// SETBIT key offset 0|1: the bit's old value.
    func setbit(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let offset = try bitOffset(argv[2])
        guard let bit = ByteParsing.int64(argv[3]), bit == 0 || bit == 1 else {
            throw CommandError("ERR bit is not an integer or out of range")
        }
        let on = bit == 1
        let key = argv[1]
        let existing = keyspace.findLive(key, hash: keyspace.hash(key), now: now)?.1
        guard existing?.kind ?? .string == .string else { throw .wrongType }
        let byteIndex = offset >> 3
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        let oldLength = existing?.plainLength ?? 0
        let wasOn = byteIndex < oldLength && existing.map { entry in withPlainValue(entry) { $0[byteIndex] & mask != 0 } } ?? false
        let store: (UnsafeMutableRawBufferPointer) -> Void = { value in
            if on { value[byteIndex] |= mask } else { value[byteIndex] &= ~mask }
        }
        if let existing, !existing.isCompressed, byteIndex < oldLength, existing.hasVersion == versioning {
            // Inside a plain value: in place, no allocation.
            keyspace.willMutate(existing)
            store(existing.value)
            touch(existing, now: now)
        } else {
            rewriteValue(of: key, from: existing, length: Swift.max(oldLength, byteIndex + 1), now: now, edit: store)
        }
        notify(.string, "setbit", key)
        writer.integer(wasOn ? 1 : 0)
    }

    /// GETBIT key offset.
    func getbit(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let offset = try bitOffset(argv[2])
        guard let entry = try readableString(argv[1], now: now) else {
            writer.integer(0)
            return
        }
        let byteIndex = offset >> 3
        let on = withPlainValue(entry) { value in byteIndex < value.count && value[byteIndex] & (UInt8(0x80) >> UInt8(offset & 7)) != 0 }
        writer.integer(on ? 1 : 0)
    }

    /// A start/end pair of BITCOUNT or BITPOS, in bytes or (BIT) in bits, as an inclusive range
    /// of bit positions inside a string of `length` bytes; nil when it selects nothing.
    /// Negative indexes count from the end, and the range is clamped to the string, as
    /// GETRANGE does.
    static func bitRange(start: Int64, end: Int64, inBits: Bool, length: Int) -> ClosedRange<Int>? {
        let total = Int64(length) * (inBits ? 8 : 1)
        var start = start < 0 ? start + total : start
        var end = end < 0 ? end + total : end
        start = Swift.max(start, 0)
        end = Swift.max(end, 0)
        end = Swift.min(end, total - 1)
        guard start <= end else { return nil }
        return inBits ? Int(start)...Int(end) : Int(start) * 8...Int(end) * 8 + 7
    }

    /// The unit word of BITCOUNT and BITPOS: BYTE (the default) or BIT.
    private static func countsBits(_ word: UnsafeRawBufferPointer) throws(CommandError) -> Bool {
        if ByteParsing.equalsIgnoringCase(word, "BIT") { return true }
        if ByteParsing.equalsIgnoringCase(word, "BYTE") { return false }
        throw .syntax
    }

    /// BITCOUNT key [start end [BYTE | BIT]]. As in Redis, a missing key answers 0 and a key
    /// of another type WRONGTYPE before the range is parsed.
    func bitcount(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard let entry = try readableString(argv[1], now: now) else {
            writer.integer(0)
            return
        }
        let length = entry.plainLength
        let bits: ClosedRange<Int>?
        switch argv.count {
        case 2:
            bits = length == 0 ? nil : 0...length * 8 - 1
        case 4, 5:
            guard let start = ByteParsing.int64(argv[2]), let end = ByteParsing.int64(argv[3]) else { throw .notInteger }
            // Both negative and crossed: nothing, before the unit is even looked at.
            if start < 0 && end < 0 && start > end {
                bits = nil
            } else {
                bits = Self.bitRange(start: start, end: end, inBits: argv.count == 5 ? try Self.countsBits(argv[4]) : false, length: length)
            }
        default:
            throw .syntax
        }
        guard let bits else {
            writer.integer(0)
            return
        }
        writer.integer(withPlainValue(entry) { Self.countSetBits($0, bits) })
    }

    /// Set bits of `value` at positions `bits` (within the value): whole bytes by popcount,
    /// the partial bytes at either end masked.
    static func countSetBits(_ value: UnsafeRawBufferPointer, _ bits: ClosedRange<Int>) -> Int {
        let firstByte = bits.lowerBound >> 3
        let lastByte = bits.upperBound >> 3
        var count = 0
        for index in firstByte...lastByte {
            var byte = value[index]
            if index == firstByte { byte &= 0xFF >> UInt8(bits.lowerBound & 7) }
            if index == lastByte { byte &= 0xFF << UInt8(7 - bits.upperBound & 7) }
            count += byte.nonzeroBitCount
        }
        return count
    }

    /// BITPOS key 0|1 [start [end [BYTE | BIT]]]: the first bit set to the given value, or -1.
    /// A missing key is an endless run of zeros. Looking for a 0 without an end, the string
    /// counts as zero-padded on the right, so a string of all ones answers its length in bits.
    func bitpos(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        guard let wanted = ByteParsing.int64(argv[2]) else { throw .notInteger }
        guard wanted == 0 || wanted == 1 else { throw CommandError("ERR The bit argument must be 1 or 0.") }
        guard let entry = try readableString(argv[1], now: now) else {
            writer.integer(wanted == 1 ? -1 : 0)
            return
        }
        let length = entry.plainLength
        var endGiven = false
        let bits: ClosedRange<Int>?
        switch argv.count {
        case 3:
            bits = length == 0 ? nil : 0...length * 8 - 1
        case 4, 5, 6:
            guard let start = ByteParsing.int64(argv[3]) else { throw .notInteger }
            let inBits = argv.count == 6 ? try Self.countsBits(argv[5]) : false
            var end = Int64(length) * (inBits ? 8 : 1) - 1
            if argv.count >= 5 {
                guard let given = ByteParsing.int64(argv[4]) else { throw .notInteger }
                end = given
                endGiven = true
            }
            bits = Self.bitRange(start: start, end: end, inBits: inBits, length: length)
        default:
            throw .syntax
        }
        guard let bits else {
            writer.integer(-1)
            return
        }
        if let found = withPlainValue(entry, { Self.firstBit(wanted == 1, in: $0, bits) }) {
            writer.integer(found)
        } else {
            // Past the end of the string the bits read as zeros; not past an explicit end.
            writer.integer(wanted == 0 && !endGiven ? bits.upperBound + 1 : -1)
        }
    }

    /// The first position in `bits` whose bit is `on`, skipping whole bytes that cannot hold it.
    static func firstBit(_ on: Bool, in value: UnsafeRawBufferPointer, _ bits: ClosedRange<Int>) -> Int? {
        let skippable: UInt8 = on ? 0x00 : 0xFF
        var position = bits.lowerBound
        while position <= bits.upperBound {
            let byte = value[position >> 3]
            if position & 7 == 0 && byte == skippable && position + 7 <= bits.upperBound {
                position += 8
                continue
            }
            if (byte & (UInt8(0x80) >> UInt8(position & 7)) != 0) == on { return position }
            position += 1
        }
        return nil
    }

    /// BITOP AND | OR | XOR | NOT destkey key [key ...]: the destination's length in bytes,
    /// the longest source's; shorter and missing sources count as zero-padded. An empty
    /// result deletes the destination.
    func bitop(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        enum Operation { case and, or, xor, not }
        let name = argv[1]
        let operation: Operation
        if ByteParsing.equalsIgnoringCase(name, "AND") {
            operation = .and
        } else if ByteParsing.equalsIgnoringCase(name, "OR") {
            operation = .or
        } else if ByteParsing.equalsIgnoringCase(name, "XOR") {
            operation = .xor
        } else if ByteParsing.equalsIgnoringCase(name, "NOT") {
            operation = .not
        } else {
            throw .syntax
        }
        guard operation != .not || argv.count == 4 else { throw CommandError("ERR BITOP NOT must be called with a single source key.") }
        var sources: [[UInt8]] = []
        for index in 3..<argv.count {
            guard let entry = try readableString(argv[index], now: now) else {
                sources.append([])
                continue
            }
            sources.append(withPlainValue(entry) { Array($0) })
        }
        let length = sources.map(\.count).max() ?? 0
        let destination = argv[2]
        guard length > 0 else {
            if deleteKey(destination, now: now) { notify(.generic, "del", destination) }
            writer.integer(0)
            return
        }
        var result = [UInt8](repeating: 0, count: length)
        for position in 0..<length {
            var byte = position < sources[0].count ? sources[0][position] : 0
            for source in sources.dropFirst() {
                let other = position < source.count ? source[position] : 0
                switch operation {
                case .and: byte &= other
                case .or: byte |= other
                case .xor: byte ^= other
                case .not: break
                }
            }
            result[position] = operation == .not ? ~byte : byte
        }
        result.withUnsafeBytes { storeString(destination, value: $0, expiry: .remove, now: now) }
        notify(.string, "set", destination)
        writer.integer(length)
    }
}
