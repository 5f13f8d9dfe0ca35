#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A list, packed the way Redis's quicklist packs one: elements lie back to back in chunks
/// of about `chunkLimit` bytes (4 KiB), and a directory keeps the chunks in order with their
/// element counts. Each element is framed by its length before and after it, as a listpack
/// entry is, so a chunk can be walked from either end. A 16-byte element costs 18 bytes plus
/// its share of a chunk, where a heap array per element cost 64 or more.
///
/// Pushes and pops at both ends are O(1) amortized: a chunk keeps free room at both ends,
/// and an emptied chunk leaves the directory. LINDEX and LSET find their chunk through the
/// directory's counts and their element by walking at most half a chunk from its nearer end
/// (O(n / 200) for 16-byte elements; Redis's quicklist is O(n) too). Ranges (LRANGE, LPOS,
/// encoding) are walked in order without copying plain elements. Elements are compressed
/// when that pays (`StoredBytes`); the frame says which.
final class ListValue: CollectionValue {
    /// A run of framed elements in `bytes[start..<end]`; `bytes` is allocated to its full
    /// capacity, and the room before `start` and after `end` takes pushes at either end.
    struct Chunk {
        var bytes: [UInt8]
        var start: Int
        var end: Int
        var count: Int

        var used: Int { end - start }
        var capacity: Int { bytes.count }
    }

    private var chunks: ContiguousArray<Chunk> = []
    private(set) var length = 0
    /// The size a chunk grows to before pushes open a new one (a single larger element gets
    /// a chunk of its own size).
    let chunkLimit: Int

    convenience init() {
        self.init(chunkLimit: 4096)
    }

    init(chunkLimit: Int) {
        self.chunkLimit = chunkLimit
        super.init(footprint: Self.objectCost)
    }

    override var count: Int { length }
    override var kind: ValueKind { .list }
    override var encodingName: String { "quicklist" }

    /// What a chunk of `capacity` bytes costs: its array's malloc chunk, and its place in the
    /// directory (a `Chunk` is 32 bytes).
    static func chunkCost(_ capacity: Int) -> Int { elementCost(capacity) + 32 }

    /// The footprint recomputed from the chunks, for tests of the running total.
    var recomputedFootprint: Int { chunks.reduce(Self.objectCost) { $0 + Self.chunkCost($1.capacity) } }

    var chunkCount: Int { chunks.count }

    // MARK: Frames

    /// A frame is `header payload trailer`: the header is a `LengthTag` (`storedLength << 1 |
    /// compressed` as an unsigned LEB128 varint), and the trailer is the header's bytes in
    /// reverse order, so reading back from a frame's end meets the low seven bits first, as
    /// reading forward does.
    static func frameSize(payload: Int) -> Int { payload + 2 * LengthTag.size(payload << 1) }

    private static func writeFrame(_ payload: UnsafeRawBufferPointer, compressed: Bool,
                                   into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        let headerSize = LengthTag.write(LengthTag.tag(length: payload.count, compressed: compressed), into: buffer, at: offset)
        var position = offset + headerSize
        if payload.count > 0 {
            (buffer.baseAddress! + position).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
        }
        position += payload.count
        for index in 0..<headerSize {
            buffer[position + index] = buffer[offset + headerSize - 1 - index]
        }
    }

    /// The frame starting at `offset`: its payload's range, whether it is compressed, and
    /// where the frame ends.
    private static func frame(startingAt offset: Int, in buffer: UnsafeRawBufferPointer)
        -> (payload: Range<Int>, compressed: Bool, end: Int) {
        let (header, headerSize) = LengthTag.read(buffer, at: offset)
        let payloadStart = offset + headerSize
        let payloadEnd = payloadStart + header >> 1
        return (payloadStart..<payloadEnd, header & 1 == 1, payloadEnd + headerSize)
    }

    /// The frame ending at `end`: its payload's range, whether it is compressed, and where the
    /// frame starts.
    private static func frame(endingAt end: Int, in buffer: UnsafeRawBufferPointer)
        -> (payload: Range<Int>, compressed: Bool, start: Int) {
        var header = 0
        var shift = 0
        var position = end - 1
        while true {
            let byte = buffer[position]
            header |= Int(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
            position -= 1
        }
        let headerSize = end - position
        let payloadEnd = end - headerSize
        let payloadStart = payloadEnd - header >> 1
        return (payloadStart..<payloadEnd, header & 1 == 1, payloadStart - headerSize)
    }

    private static func stored(_ payload: UnsafeRawBufferPointer, compressed: Bool) -> StoredBytes {
        compressed ? .compressed(Array(payload)) : .plain(Array(payload))
    }

    // MARK: Chunks

    /// Reallocates chunk `index` to `capacity` bytes, its elements placed with `headroom`
    /// bytes free before them.
    private func relocate(_ index: Int, capacity: Int, headroom: Int) {
        let old = chunks[index]
        precondition(headroom + old.used <= capacity)
        if capacity == old.capacity {
            // Same size: slide the elements within the buffer, no allocation.
            chunks[index].bytes.withUnsafeMutableBytes { buffer in
                let base = buffer.baseAddress!
                memmove(base + headroom, base + old.start, old.used)
            }
        } else {
            var bytes = [UInt8](repeating: 0, count: capacity)
            old.bytes.withUnsafeBytes { source in
                bytes.withUnsafeMutableBytes { destination in
                    if old.used > 0 {
                        (destination.baseAddress! + headroom).copyMemory(from: source.baseAddress! + old.start, byteCount: old.used)
                    }
                }
            }
            footprint += Self.chunkCost(capacity) - Self.chunkCost(old.capacity)
            chunks[index].bytes = bytes
        }
        chunks[index].start = headroom
        chunks[index].end = headroom + old.used
    }

    private func insertChunk(at index: Int, capacity: Int, atFront: Bool) {
        let start = atFront ? capacity : 0
        chunks.insert(Chunk(bytes: [UInt8](repeating: 0, count: capacity), start: start, end: start, count: 0), at: index)
        footprint += Self.chunkCost(capacity)
    }

    private func removeChunk(at index: Int) {
        footprint -= Self.chunkCost(chunks[index].capacity)
        chunks.remove(at: index)
    }

    /// Makes room for a `size`-byte frame at one end of the list; returns the chunk to write
    /// it into, its free bytes at that end being at least `size`.
    private func room(for size: Int, atFront: Bool) -> Int {
        let index = atFront ? 0 : chunks.count - 1
        if chunks.isEmpty || chunks[index].used + size > Swift.max(chunkLimit, size) {
            // A new chunk: small for a list's first, a quarter of the limit after that.
            let capacity = Swift.max(size, chunks.isEmpty ? 32 : chunkLimit / 4)
            insertChunk(at: atFront ? 0 : chunks.count, capacity: capacity, atFront: atFront)
            return atFront ? 0 : chunks.count - 1
        }
        let chunk = chunks[index]
        let free = atFront ? chunk.start : chunk.capacity - chunk.end
        guard free < size else { return index }
        // Double up to the limit, then slide within it; the end being pushed gets three
        // quarters of the free room, so alternate pushes do not slide the chunk every time.
        let capacity = Swift.max(chunk.used + size, Swift.min(Swift.max(chunkLimit, size), Swift.max(64, chunk.capacity * 2)))
        let spare = capacity - chunk.used
        let headroom = atFront ? Swift.max(size, spare - spare / 4) : Swift.min(spare / 4, spare - size)
        relocate(index, capacity: capacity, headroom: headroom)
        return index
    }

    /// After a pop: an emptied chunk leaves; a mostly empty large one is reallocated smaller.
    private func settle(_ index: Int) {
        let chunk = chunks[index]
        if chunk.count == 0 {
            removeChunk(at: index)
        } else if chunk.capacity > 256 && chunk.used * 4 < chunk.capacity {
            let capacity = Swift.max(64, chunk.used * 2)
            relocate(index, capacity: capacity, headroom: (capacity - chunk.used) / 2)
        }
    }

    /// The chunk and frame offset of element `index`: the chunk by the directory's counts,
    /// then the frame by walking from the nearer end of that chunk.
    private func locate(_ index: Int) -> (chunk: Int, offset: Int) {
        precondition(index >= 0 && index < length, "list index out of range")
        var chunkIndex: Int
        var within: Int
        if index < length / 2 {
            chunkIndex = 0
            within = index
            while within >= chunks[chunkIndex].count {
                within -= chunks[chunkIndex].count
                chunkIndex += 1
            }
        } else {
            chunkIndex = chunks.count - 1
            var fromEnd = length - 1 - index
            while fromEnd >= chunks[chunkIndex].count {
                fromEnd -= chunks[chunkIndex].count
                chunkIndex -= 1
            }
            within = chunks[chunkIndex].count - 1 - fromEnd
        }
        let chunk = chunks[chunkIndex]
        let offset = chunk.bytes.withUnsafeBytes { buffer -> Int in
            if within <= chunk.count / 2 {
                var offset = chunk.start
                for _ in 0..<within { offset = Self.frame(startingAt: offset, in: buffer).end }
                return offset
            }
            var offset = chunk.end
            for _ in within..<chunk.count { offset = Self.frame(endingAt: offset, in: buffer).start }
            return offset
        }
        return (chunkIndex, offset)
    }

    // MARK: Elements

    /// Pushes an element given as stored bytes (`compressed`: in the compressor's form).
    func push(_ payload: UnsafeRawBufferPointer, compressed: Bool, atFront: Bool) {
        let size = Self.frameSize(payload: payload.count)
        let index = room(for: size, atFront: atFront)
        let offset = atFront ? chunks[index].start - size : chunks[index].end
        chunks[index].bytes.withUnsafeMutableBytes { buffer in
            Self.writeFrame(payload, compressed: compressed, into: buffer, at: offset)
        }
        if atFront { chunks[index].start = offset } else { chunks[index].end = offset + size }
        chunks[index].count += 1
        length += 1
    }

    func push(_ element: StoredBytes, atFront: Bool) {
        switch element {
        case .plain(let bytes): bytes.withUnsafeBytes { push($0, compressed: false, atFront: atFront) }
        case .compressed(let bytes): bytes.withUnsafeBytes { push($0, compressed: true, atFront: atFront) }
        }
    }

    func pushFront(_ element: StoredBytes) { push(element, atFront: true) }

    func pushBack(_ element: StoredBytes) { push(element, atFront: false) }

    /// Removes the element at one end of a list that has one, first handing `body` its
    /// stored bytes (valid during the call) and whether they are compressed.
    private func removeEnd<Result>(atFront: Bool, _ body: (UnsafeRawBufferPointer, Bool) -> Result) -> Result {
        let index = atFront ? 0 : chunks.count - 1
        let chunk = chunks[index]
        let (result, boundary) = chunk.bytes.withUnsafeBytes { buffer -> (Result, Int) in
            if atFront {
                let frame = Self.frame(startingAt: chunk.start, in: buffer)
                return (body(UnsafeRawBufferPointer(rebasing: buffer[frame.payload]), frame.compressed), frame.end)
            }
            let frame = Self.frame(endingAt: chunk.end, in: buffer)
            return (body(UnsafeRawBufferPointer(rebasing: buffer[frame.payload]), frame.compressed), frame.start)
        }
        if atFront { chunks[index].start = boundary } else { chunks[index].end = boundary }
        chunks[index].count -= 1
        length -= 1
        settle(index)
        return result
    }

    /// Calls `body` with an element's bytes as clients see them: the stored bytes, or for a
    /// compressed element the bytes restored.
    private static func withClientBytes<Result>(_ payload: UnsafeRawBufferPointer, compressed: Bool,
                                                _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        compressed ? StoredBytes.compressed(Array(payload)).bytes.withUnsafeBytes(body) : body(payload)
    }

    /// LPOP and RPOP: removes the element at one end, handing `body` its bytes as clients see
    /// them, valid during the call (no array is made for a plain element).
    func pop(atFront: Bool, _ body: (UnsafeRawBufferPointer) -> Void) {
        precondition(length > 0, "pop from an empty list")
        removeEnd(atFront: atFront) { payload, compressed in Self.withClientBytes(payload, compressed: compressed, body) }
    }

    /// Removes the element at the front, as stored (a compressed element stays compressed).
    func popFront() -> StoredBytes? {
        guard length > 0 else { return nil }
        return removeEnd(atFront: true) { Self.stored($0, compressed: $1) }
    }

    func popBack() -> StoredBytes? {
        guard length > 0 else { return nil }
        return removeEnd(atFront: false) { Self.stored($0, compressed: $1) }
    }

    /// The element at `index` as clients see it.
    subscript(index: Int) -> [UInt8] {
        let (chunkIndex, offset) = locate(index)
        return chunks[chunkIndex].bytes.withUnsafeBytes { buffer in
            let frame = Self.frame(startingAt: offset, in: buffer)
            return Self.stored(UnsafeRawBufferPointer(rebasing: buffer[frame.payload]), compressed: frame.compressed).bytes
        }
    }

    /// Calls `body` with the elements from `first` through `last` in order (from `last` down
    /// to `first` when `reversed`): each one's index and its bytes as clients see them, valid
    /// during the call only. Stops early when `body` returns false.
    func forEach(from first: Int, through last: Int, reversed: Bool = false,
                 _ body: (Int, UnsafeRawBufferPointer) -> Bool) {
        guard first <= last else { return }
        var (chunkIndex, offset) = locate(reversed ? last : first)
        var position = reversed ? last : first
        while reversed ? position >= first : position <= last {
            let chunk = chunks[chunkIndex]
            let goOn = chunk.bytes.withUnsafeBytes { buffer -> Bool in
                while reversed ? position >= first : position <= last {
                    let frame = Self.frame(startingAt: offset, in: buffer)
                    let payload = UnsafeRawBufferPointer(rebasing: buffer[frame.payload])
                    let goOn = Self.withClientBytes(payload, compressed: frame.compressed) { body(position, $0) }
                    guard goOn else { return false }
                    if reversed {
                        position -= 1
                        guard offset > chunk.start else { return true }
                        offset = Self.frame(endingAt: offset, in: buffer).start
                    } else {
                        position += 1
                        offset = frame.end
                        guard offset < chunk.end else { return true }
                    }
                }
                return true
            }
            guard goOn else { return }
            // On to the next chunk in the walk's direction.
            chunkIndex += reversed ? -1 : 1
            guard chunkIndex >= 0 && chunkIndex < chunks.count else { return }
            offset = reversed ? Self.lastFrameStart(chunks[chunkIndex]) : chunks[chunkIndex].start
        }
    }

    private static func lastFrameStart(_ chunk: Chunk) -> Int {
        chunk.bytes.withUnsafeBytes { frame(endingAt: chunk.end, in: $0).start }
    }

    /// LSET: the element at `index` becomes `element`.
    func replace(at index: Int, with element: StoredBytes) {
        let (chunkIndex, offset) = locate(index)
        let chunk = chunks[chunkIndex]
        let oldEnd = chunk.bytes.withUnsafeBytes { Self.frame(startingAt: offset, in: $0).end }
        let (payload, compressed): ([UInt8], Bool) = switch element {
        case .plain(let bytes): (bytes, false)
        case .compressed(let bytes): (bytes, true)
        }
        let size = Self.frameSize(payload: payload.count)
        let used = chunk.used - (oldEnd - offset) + size
        // Rebuilt around the new frame: the chunk may pass the limit, as one large element may.
        let capacity = Swift.max(used, chunk.capacity)
        let headroom = (capacity - used) / 2
        var bytes = [UInt8](repeating: 0, count: capacity)
        chunk.bytes.withUnsafeBytes { source in
            bytes.withUnsafeMutableBytes { destination in
                let before = offset - chunk.start
                let after = chunk.end - oldEnd
                if before > 0 { (destination.baseAddress! + headroom).copyMemory(from: source.baseAddress! + chunk.start, byteCount: before) }
                payload.withUnsafeBytes { Self.writeFrame($0, compressed: compressed, into: destination, at: headroom + before) }
                if after > 0 { (destination.baseAddress! + headroom + before + size).copyMemory(from: source.baseAddress! + oldEnd, byteCount: after) }
            }
        }
        footprint += Self.chunkCost(capacity) - Self.chunkCost(chunk.capacity)
        chunks[chunkIndex].bytes = bytes
        chunks[chunkIndex].start = headroom
        chunks[chunkIndex].end = headroom + used
    }

    /// The elements in order, as stored (O(n); for LINSERT and LREM, O(n) in Redis too).
    var storedElements: [StoredBytes] {
        var elements: [StoredBytes] = []
        elements.reserveCapacity(length)
        for chunk in chunks {
            chunk.bytes.withUnsafeBytes { buffer in
                var offset = chunk.start
                while offset < chunk.end {
                    let frame = Self.frame(startingAt: offset, in: buffer)
                    elements.append(Self.stored(UnsafeRawBufferPointer(rebasing: buffer[frame.payload]), compressed: frame.compressed))
                    offset = frame.end
                }
            }
        }
        return elements
    }

    /// Replaces the whole content.
    func replaceAll(with elements: [StoredBytes]) {
        chunks.removeAll()
        length = 0
        footprint = Self.objectCost
        for element in elements { pushBack(element) }
    }

    override func encode(into bytes: inout [UInt8]) {
        bytes.appendUVarint(length)
        guard length > 0 else { return }
        forEach(from: 0, through: length - 1) { _, element in
            bytes.appendBlob(element)
            return true
        }
    }

    static func decode(_ reader: inout CollectionReader) -> ListValue? {
        guard let count = reader.uvarint() else { return nil }
        let list = ListValue()
        for _ in 0..<count {
            guard let element = reader.blob() else { return nil }
            list.pushBack(.plain(element))
        }
        return list
    }
}
