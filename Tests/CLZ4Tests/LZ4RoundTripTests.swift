import CLZ4
import Testing

/// Compresses with LZ4_compress_default; returns the compressed bytes.
func lz4Compress(_ input: [UInt8]) -> [UInt8] {
    let bound = Int(LZ4_compressBound(Int32(input.count)))
    var output = [UInt8](repeating: 0, count: max(bound, 1))
    let size = input.withUnsafeBytes { source in
        output.withUnsafeMutableBytes { destination in
            LZ4_compress_default(
                source.baseAddress?.assumingMemoryBound(to: CChar.self),
                destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(input.count), Int32(bound))
        }
    }
    return Array(output.prefix(Int(size)))
}

/// Decompresses with LZ4_decompress_safe into at most `capacity` bytes; nil on corrupt input.
func lz4Decompress(_ input: [UInt8], capacity: Int) -> [UInt8]? {
    var output = [UInt8](repeating: 0, count: max(capacity, 1))
    let size = input.withUnsafeBytes { source in
        output.withUnsafeMutableBytes { destination in
            LZ4_decompress_safe(
                source.baseAddress!.assumingMemoryBound(to: CChar.self),
                destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(input.count), Int32(capacity))
        }
    }
    return size < 0 ? nil : Array(output.prefix(Int(size)))
}

@Suite("liblz4 through the CLZ4 system library")
struct LZ4RoundTripTests {
    static func json(_ size: Int) -> [UInt8] {
        Array(String(repeating: "{\"id\":1234,\"name\":\"ringcache\",\"tags\":[\"a\",\"b\"]}", count: size / 40 + 1).utf8.prefix(size))
    }

    static func noise(_ size: Int) -> [UInt8] {
        var state = UInt64(size) &+ 1
        return (0..<size).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    @Test("compressible and incompressible data round-trip", arguments: [0, 1, 100, 4096, 1 << 20])
    func roundTrip(size: Int) {
        for input in [Self.json(size), Self.noise(size)] {
            let compressed = lz4Compress(input)
            #expect(!compressed.isEmpty)
            #expect(lz4Decompress(compressed, capacity: input.count) == input)
        }
    }

    @Test("repetitive JSON shrinks to under a quarter")
    func ratio() {
        let input = Self.json(64 * 1024)
        #expect(lz4Compress(input).count < input.count / 4)
    }

    @Test("corrupt input is reported, not trusted")
    func corrupt() {
        var compressed = lz4Compress(Self.json(4096))
        compressed[0] = 0xFF
        compressed.removeLast(compressed.count / 2)
        #expect(lz4Decompress(compressed, capacity: 4096) == nil)
    }
}
