/// A set of integers as Redis keeps a small one in an intset (intset.c): the values sorted
/// ascending in one array, each 2, 4 or 8 bytes wide — the narrowest width that holds every
/// value, widened for all at once when a value needs it. Lookups are binary searches; inserts
/// and removals shift the tail. A 7-digit member costs 4 bytes where a member array of its own
/// costs a 48-byte chunk, a reference and an index slot.
///
/// Only canonical decimal members are kept here (`canonicalInteger`): one whose bytes are
/// exactly what formatting its value gives back, so a member reads back byte for byte.
struct IntegerSet {
    /// The values, `width` bytes each, little-endian, ascending.
    private var bytes: [UInt8] = []
    private(set) var width = 2

    var count: Int { bytes.count / width }
    var capacity: Int { bytes.capacity }

    /// The value of `member` if it is a canonical decimal integer that fits 64 bits: exactly
    /// the members Redis's intset takes (string2ll: an optional minus, no leading zeros, no
    /// plus sign, not "-0"), each of which reads back byte for byte.
    static func canonicalInteger(_ member: UnsafeRawBufferPointer) -> Int64? {
        ByteParsing.int64(member)
    }

    private static func width(for value: Int64) -> Int {
        if value >= Int64(Int16.min) && value <= Int64(Int16.max) { return 2 }
        if value >= Int64(Int32.min) && value <= Int64(Int32.max) { return 4 }
        return 8
    }

    /// The value at `position`, which must be below `count`.
    func value(at position: Int) -> Int64 {
        bytes.withUnsafeBytes { Self.load(from: $0, at: position, width: width) }
    }

    @inline(__always)
    private static func load(from buffer: UnsafeRawBufferPointer, at position: Int, width: Int) -> Int64 {
        switch width {
        case 2: Int64(Int16(littleEndian: buffer.loadUnaligned(fromByteOffset: position * 2, as: Int16.self)))
        case 4: Int64(Int32(littleEndian: buffer.loadUnaligned(fromByteOffset: position * 4, as: Int32.self)))
        default: Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: position * 8, as: Int64.self))
        }
    }

    @inline(__always)
    private static func store(_ value: Int64, into buffer: UnsafeMutableRawBufferPointer, at position: Int, width: Int) {
        switch width {
        case 2: buffer.storeBytes(of: Int16(truncatingIfNeeded: value).littleEndian, toByteOffset: position * 2, as: Int16.self)
        case 4: buffer.storeBytes(of: Int32(truncatingIfNeeded: value).littleEndian, toByteOffset: position * 4, as: Int32.self)
        default: buffer.storeBytes(of: value.littleEndian, toByteOffset: position * 8, as: Int64.self)
        }
    }

    /// Where `value` is, or where it would go.
    private func search(_ value: Int64) -> (position: Int, found: Bool) {
        guard Self.width(for: value) <= width else {
            // Wider than every stored value: it is past one end.
            return (value < 0 ? 0 : count, false)
        }
        return bytes.withUnsafeBytes { buffer in
            var low = 0
            var high = count
            while low < high {
                let middle = (low + high) / 2
                let stored = Self.load(from: buffer, at: middle, width: width)
                if stored == value { return (middle, true) }
                if stored < value { low = middle + 1 } else { high = middle }
            }
            return (low, false)
        }
    }

    func contains(_ value: Int64) -> Bool { search(value).found }

    /// Adds `value`; returns whether it was new.
    mutating func insert(_ value: Int64) -> Bool {
        let (position, found) = search(value)
        guard !found else { return false }
        let needed = Self.width(for: value)
        if needed > width { widen(to: needed) }
        let newCount = count + 1
        let newSize = newCount * width
        if newSize > bytes.capacity {
            var grown: [UInt8] = []
            grown.reserveCapacity(newSize + newSize / 8)
            grown.append(contentsOf: bytes)
            bytes = grown
        }
        bytes.append(contentsOf: repeatElement(0, count: width))
        let width = self.width
        bytes.withUnsafeMutableBytes { buffer in
            let start = position * width
            let end = (newCount - 1) * width
            if end > start { (buffer.baseAddress! + start + width).copyMemory(from: buffer.baseAddress! + start, byteCount: end - start) }
            Self.store(value, into: buffer, at: position, width: width)
        }
        return true
    }

    /// Removes `value`; returns whether it was present.
    mutating func remove(_ value: Int64) -> Bool {
        let (position, found) = search(value)
        guard found else { return false }
        bytes.removeSubrange((position * width)..<((position + 1) * width))
        return true
    }

    /// Rewrites every value `newWidth` bytes wide (intsetUpgradeAndAdd), from the end so no
    /// value is overwritten before it is read.
    private mutating func widen(to newWidth: Int) {
        let oldWidth = width
        let count = self.count
        bytes.append(contentsOf: repeatElement(0, count: count * (newWidth - oldWidth)))
        bytes.withUnsafeMutableBytes { buffer in
            for position in stride(from: count - 1, through: 0, by: -1) {
                let value = Self.load(from: UnsafeRawBufferPointer(buffer), at: position, width: oldWidth)
                Self.store(value, into: buffer, at: position, width: newWidth)
            }
        }
        width = newWidth
    }

    /// Calls `body` with the decimal bytes of the value at `position`, valid during the call.
    func withMember<R>(at position: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        Self.withDecimal(value(at: position), body)
    }

    /// Formats `value` in decimal on the stack.
    static func withDecimal<R>(_ value: Int64, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { buffer in
            var magnitude = value.magnitude
            var start = 20
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "-")
            }
            return body(UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }
}
