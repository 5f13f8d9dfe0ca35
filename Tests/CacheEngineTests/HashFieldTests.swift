import Testing

@testable import CacheEngine

@Suite("a hash's packed field and value")
struct HashFieldTests {
    /// Field lengths on both sides of the header's one-byte limit (fields up to 63 bytes),
    /// empty fields and values included.
    @Test("gives back the field and value it packed", arguments: [0, 1, 16, 63, 64, 200, 70_000])
    func roundTrip(fieldLength: Int) {
        let field = (0..<fieldLength).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for valueLength in [0, 1, 16, 300] {
            let value = (0..<valueLength).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ fieldLength) }
            let packed = HashField(field: field, value: value)
            #expect(packed.field == field)
            #expect(packed.value == value)
            #expect(packed.fieldCount == fieldLength)
            #expect(packed.valueCount == valueLength)
            let headerLength = fieldLength < 64 ? 1 : fieldLength < 8192 ? 2 : 3
            #expect(packed.storedCount == headerLength + fieldLength + valueLength)
        }
    }

    @Test("keeps a compressed value compressed and restores it on read")
    func compressed() {
        var compressor = ValueCompressor(threshold: 64)
        defer { compressor.deallocate() }
        let field = Array("field".utf8)
        let value = [UInt8](repeating: UInt8(ascii: "a"), count: 4096)
        let packed = value.withUnsafeBytes { value in
            let block = compressor.compress(value)!
            return field.withUnsafeBytes { HashField(field: $0, value: block, compressed: true) }
        }
        #expect(packed.storedCount < 200)
        #expect(packed.field == field)
        #expect(packed.valueCount == value.count)
        #expect(packed.value == value)
    }
}
