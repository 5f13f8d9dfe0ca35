import CLZ4
import CacheEngine
import Cluster
import NIOCore

/// A set of hash slots as sorted, disjoint ranges: how slot sets travel.
struct SlotRanges: Equatable, Sendable, CustomStringConvertible {
    var ranges: [ClosedRange<Int>]

    init(_ ranges: [ClosedRange<Int>]) {
        self.ranges = ranges
    }

    /// From any collection of slots.
    init(slots: some Sequence<Int>) {
        var ranges: [ClosedRange<Int>] = []
        for slot in Set(slots).sorted() {
            if let last = ranges.last, last.upperBound + 1 == slot {
                ranges[ranges.count - 1] = last.lowerBound...slot
            } else {
                ranges.append(slot...slot)
            }
        }
        self.ranges = ranges
    }

    var slots: [Int] { ranges.flatMap { Array($0) } }
    var count: Int { ranges.reduce(0) { $0 + $1.count } }
    var isEmpty: Bool { ranges.isEmpty }

    var description: String {
        ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }
}

/// What owners tell each other on a replication link (the TCP side of the cluster bus).
///
/// Data flows one way per link (the connecting node sends, the accepting node applies and
/// acknowledges), so each pair of nodes uses two links. Every op is numbered by the sender;
/// acknowledgements are cumulative, and a sender that reconnects sends again everything not
/// acknowledged, which applying by version makes harmless.
enum ReplicationOp: Equatable, Sendable {
    /// A key's state after a write (or a fill), applied if newer.
    case write(ReplicatedKey)
    /// "Send me these slots": from a node that will own them to a current owner, with the
    /// requester's digest of each (in slot order): slots whose digests match need no copy.
    case fillRequest(SlotRanges, digests: [UInt64])
    /// The fill of these slots starts, at the donor's clock reading `clock`: the receiver
    /// merges what follows by version and, at `fillEnd`, drops its stale copies and sends back
    /// what it holds newer (see `SlotMerge`).
    case fillBegin(SlotRanges, clock: UInt64)
    /// Every key of these slots has been sent (`keys` of them).
    case fillEnd(SlotRanges, keys: Int)
    /// The sender cannot fill these slots now (it is not their owner in its view yet).
    case fillRefused(SlotRanges)
    /// The sender dropped writes meant for the receiver (its hint buffer overflowed): the
    /// receiver must refill every slot it holds from the sender.
    case resync
    /// The sender took writes for these slots while its ring did not list the receiver as
    /// their owner (it believed the receiver dead): the receiver asks for them again, with
    /// digests, if it held them all along.
    case recheck(SlotRanges)
}

enum ReplicationFrame: Equatable, Sendable {
    /// Acceptor → connector: prove you know the cluster secret.
    case challenge(nonce: [UInt8])
    /// Connector → acceptor: who I am, and HMAC(secret, nonce ‖ id).
    case hello(id: NodeID, proof: [UInt8])
    /// Ops numbered `firstSequence`, `firstSequence + 1`, ….
    case batch(firstSequence: UInt64, ops: [ReplicationOp])
    /// Everything up to and including `sequence` is applied.
    case ack(sequence: UInt64)
}

/// The wire format, big-endian:
///
///     frame     := length:u32 type:u8 body            (length counts type and body)
///     challenge := nonce[16]
///     hello     := id[20] proof[32]
///     batch     := firstSequence:u64 count:u32 compressed:u8 [rawLength:u32] ops
///                  (ops LZ4-compressed when `compressed` is 1)
///     ack       := sequence:u64
///     op        := kind:u8 …  write: key:bytes version:u64 expiry:i64 (-1 none)
///                               hasValue:u8 (0 tombstone, else 1 + type) [value:bytes]
///                  ranges: count:u16 (start:u16 end:u16)*
///     bytes     := length:u32 data
enum ReplicationCodec {
    static let maxFrame = 256 * 1024 * 1024
    /// Batches this long or longer are LZ4-compressed when that saves an eighth.
    static let compressionThreshold = 4096

    static func encode(_ frame: ReplicationFrame, into buffer: inout ByteBuffer) {
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        switch frame {
        case .challenge(let nonce):
            buffer.writeInteger(UInt8(1))
            buffer.writeBytes(nonce)
        case .hello(let id, let proof):
            buffer.writeInteger(UInt8(2))
            writeID(id, into: &buffer)
            buffer.writeBytes(proof)
        case .batch(let firstSequence, let ops):
            buffer.writeInteger(UInt8(3))
            buffer.writeInteger(firstSequence)
            buffer.writeInteger(UInt32(ops.count))
            var body = ByteBuffer()
            for op in ops { encode(op, into: &body) }
            if body.readableBytes >= compressionThreshold, let compressed = compress(body.readableBytesView) {
                buffer.writeInteger(UInt8(1))
                buffer.writeInteger(UInt32(body.readableBytes))
                buffer.writeBytes(compressed)
            } else {
                buffer.writeInteger(UInt8(0))
                buffer.writeBuffer(&body)
            }
        case .ack(let sequence):
            buffer.writeInteger(UInt8(4))
            buffer.writeInteger(sequence)
        }
        buffer.setInteger(UInt32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex)
    }

    struct DecodeError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Decodes one frame if `buffer` holds a whole one; nil when more bytes are needed.
    static func decode(_ buffer: inout ByteBuffer) throws -> ReplicationFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1, length <= maxFrame else { throw DecodeError("bad frame length \(length)") }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        var body = buffer.readSlice(length: Int(length))!
        let type = body.readInteger(as: UInt8.self)!
        switch type {
        case 1:
            guard let nonce = body.readBytes(length: 16) else { throw DecodeError("short challenge") }
            return .challenge(nonce: nonce)
        case 2:
            guard let id = readID(&body), let proof = body.readBytes(length: 32) else { throw DecodeError("short hello") }
            return .hello(id: id, proof: proof)
        case 3:
            guard let first = body.readInteger(as: UInt64.self), let count = body.readInteger(as: UInt32.self),
                  let compressed = body.readInteger(as: UInt8.self) else { throw DecodeError("short batch") }
            var ops: [ReplicationOp] = []
            ops.reserveCapacity(Int(min(count, 65536)))
            var payload = body
            if compressed == 1 {
                guard let rawLength = body.readInteger(as: UInt32.self), rawLength <= maxFrame,
                      let plain = decompress(body.readableBytesView, rawLength: Int(rawLength)) else { throw DecodeError("bad compressed batch") }
                payload = ByteBuffer(bytes: plain)
            }
            for _ in 0..<count {
                guard let op = decodeOp(&payload) else { throw DecodeError("bad op") }
                ops.append(op)
            }
            return .batch(firstSequence: first, ops: ops)
        case 4:
            guard let sequence = body.readInteger(as: UInt64.self) else { throw DecodeError("short ack") }
            return .ack(sequence: sequence)
        default:
            throw DecodeError("unknown frame type \(type)")
        }
    }

    // MARK: Ops

    static func encode(_ op: ReplicationOp, into buffer: inout ByteBuffer) {
        switch op {
        case .write(let record):
            buffer.writeInteger(UInt8(1))
            buffer.writeInteger(UInt32(record.key.count))
            buffer.writeBytes(record.key)
            buffer.writeInteger(record.version)
            buffer.writeInteger(record.expiry ?? -1)
            if let value = record.value {
                // 1 + the value's type: 1 a string, 2 a hash, 3 a list, 4 a set, 5 a zset.
                buffer.writeInteger(UInt8(1) + record.type)
                buffer.writeInteger(UInt32(value.count))
                buffer.writeBytes(value)
            } else {
                buffer.writeInteger(UInt8(0))
            }
        case .fillRequest(let slots, let digests):
            writeRanges(2, slots, into: &buffer)
            buffer.writeInteger(UInt32(digests.count))
            for digest in digests { buffer.writeInteger(digest) }
        case .fillBegin(let slots, let clock):
            writeRanges(3, slots, into: &buffer)
            buffer.writeInteger(clock)
        case .fillEnd(let slots, let keys):
            writeRanges(4, slots, into: &buffer)
            buffer.writeInteger(UInt64(keys))
        case .fillRefused(let slots): writeRanges(5, slots, into: &buffer)
        case .resync: buffer.writeInteger(UInt8(6))
        case .recheck(let slots): writeRanges(7, slots, into: &buffer)
        }
    }

    static func decodeOp(_ buffer: inout ByteBuffer) -> ReplicationOp? {
        guard let kind = buffer.readInteger(as: UInt8.self) else { return nil }
        switch kind {
        case 1:
            guard let keyLength = buffer.readInteger(as: UInt32.self), let key = buffer.readBytes(length: Int(keyLength)),
                  let version = buffer.readInteger(as: UInt64.self), let expiry = buffer.readInteger(as: Int64.self),
                  let hasValue = buffer.readInteger(as: UInt8.self) else { return nil }
            var value: [UInt8]?
            if hasValue >= 1 {
                guard let length = buffer.readInteger(as: UInt32.self), let bytes = buffer.readBytes(length: Int(length)) else { return nil }
                value = bytes
            }
            return .write(ReplicatedKey(key: key, version: version, expiry: expiry < 0 ? nil : expiry, value: value, type: hasValue >= 1 ? hasValue - 1 : 0))
        case 2:
            guard let slots = readRanges(&buffer), let count = buffer.readInteger(as: UInt32.self), count <= HashSlot.count else { return nil }
            var digests: [UInt64] = []
            for _ in 0..<count {
                guard let digest = buffer.readInteger(as: UInt64.self) else { return nil }
                digests.append(digest)
            }
            return .fillRequest(slots, digests: digests)
        case 3:
            guard let slots = readRanges(&buffer), let clock = buffer.readInteger(as: UInt64.self) else { return nil }
            return .fillBegin(slots, clock: clock)
        case 4:
            guard let slots = readRanges(&buffer), let keys = buffer.readInteger(as: UInt64.self) else { return nil }
            return .fillEnd(slots, keys: Int(keys))
        case 5: return readRanges(&buffer).map { .fillRefused($0) }
        case 6: return .resync
        case 7: return readRanges(&buffer).map { .recheck($0) }
        default: return nil
        }
    }

    private static func writeRanges(_ kind: UInt8, _ slots: SlotRanges, into buffer: inout ByteBuffer) {
        buffer.writeInteger(kind)
        buffer.writeInteger(UInt16(slots.ranges.count))
        for range in slots.ranges {
            buffer.writeInteger(UInt16(range.lowerBound))
            buffer.writeInteger(UInt16(range.upperBound))
        }
    }

    private static func readRanges(_ buffer: inout ByteBuffer) -> SlotRanges? {
        guard let count = buffer.readInteger(as: UInt16.self) else { return nil }
        var ranges: [ClosedRange<Int>] = []
        for _ in 0..<count {
            guard let start = buffer.readInteger(as: UInt16.self), let end = buffer.readInteger(as: UInt16.self),
                  start <= end, Int(end) < HashSlot.count else { return nil }
            ranges.append(Int(start)...Int(end))
        }
        return SlotRanges(ranges)
    }

    static func writeID(_ id: NodeID, into buffer: inout ByteBuffer) {
        buffer.writeInteger(id.high)
        buffer.writeInteger(id.middle)
        buffer.writeInteger(id.low)
    }

    static func readID(_ buffer: inout ByteBuffer) -> NodeID? {
        guard let high = buffer.readInteger(as: UInt64.self), let middle = buffer.readInteger(as: UInt64.self),
              let low = buffer.readInteger(as: UInt32.self) else { return nil }
        return NodeID(high: high, middle: middle, low: low)
    }

    static func idBytes(_ id: NodeID) -> [UInt8] {
        var buffer = ByteBuffer()
        writeID(id, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    // MARK: LZ4

    private static func compress(_ bytes: ByteBufferView) -> [UInt8]? {
        let bound = Int(LZ4_compressBound(Int32(bytes.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let written = bytes.withContiguousStorageIfAvailable { source in
            output.withUnsafeMutableBytes { destination in
                LZ4_compress_default(
                    source.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                    destination.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(source.count), Int32(bound))
            }
        } ?? 0
        guard written > 0, Int(written) < bytes.count - bytes.count / 8 else { return nil }
        output.removeSubrange(Int(written)...)
        return output
    }

    private static func decompress(_ bytes: ByteBufferView, rawLength: Int) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: rawLength)
        let read = bytes.withContiguousStorageIfAvailable { source in
            output.withUnsafeMutableBytes { destination in
                LZ4_decompress_safe(
                    source.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                    destination.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(source.count), Int32(rawLength))
            }
        } ?? -1
        return Int(read) == rawLength ? output : nil
    }
}
