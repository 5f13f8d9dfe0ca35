/// The cluster bus wire format: one envelope per UDP datagram.
///
///     "RCB" 0x01 | mac flag (1) | kind (1) | sender id (20) | payload | [HMAC-SHA256 (32)]
///
/// Integers are big-endian. A record is id (20) | host length (1) | host | client port (2) |
/// bus port (2) | incarnation (8) | state (1) | token count (1) | tokens (8 each); an update is a
/// record followed by its reporter's id (20). With `cluster-secret` set, every datagram ends with
/// an HMAC over all bytes before it; a node with a secret drops datagrams without a valid one.
public struct BusCodec: Sendable {
    static let magic: [UInt8] = [UInt8(ascii: "R"), UInt8(ascii: "C"), UInt8(ascii: "B"), 2]
    let authenticator: HMACSHA256?

    public init(secret: String?) {
        authenticator = secret.flatMap { $0.isEmpty ? nil : HMACSHA256(key: Array($0.utf8)) }
    }

    public enum DecodeError: Error, Equatable {
        case malformed
        case unauthenticated
    }

    public func encode(_ envelope: Envelope) -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes(Self.magic)
        writer.u8(authenticator == nil ? 0 : 1)
        writer.u8(UInt8(envelope.message.kindIndex))
        writer.id(envelope.sender)
        switch envelope.message {
        case let .ping(sequence, target, updates):
            writer.u32(sequence)
            writer.id(target)
            writer.updates(updates)
        case let .pingRequest(sequence, target, address, updates):
            writer.u32(sequence)
            writer.id(target)
            writer.string(address.host)
            writer.u16(address.port)
            writer.updates(updates)
        case let .ack(sequence, updates):
            writer.u32(sequence)
            writer.updates(updates)
        case let .nack(sequence):
            writer.u32(sequence)
        case let .gossip(updates):
            writer.updates(updates)
        case let .join(record):
            writer.record(record)
        case let .joinAccepted(tokens, incarnation):
            writer.u64(incarnation)
            writer.tokens(tokens)
        case let .sync(members, wantsReply):
            writer.u8(wantsReply ? 1 : 0)
            writer.u8(UInt8(members.count))
            for record in members { writer.record(record) }
        }
        if let authenticator { writer.bytes(authenticator.authenticate(writer.output)) }
        return writer.output
    }

    public func decode(_ bytes: [UInt8]) throws(DecodeError) -> Envelope {
        var body = bytes[...]
        if let authenticator {
            guard bytes.count > 32 + 6, bytes[4] == 1 else { throw .unauthenticated }
            body = bytes[..<(bytes.count - 32)]
            guard HMACSHA256.equal(authenticator.authenticate(body), bytes[(bytes.count - 32)...]) else { throw .unauthenticated }
        } else if bytes.count > 4, bytes[4] == 1 {
            // Signed by a node with a secret; we have none to check it with.
            body = bytes[..<max(5, bytes.count - 32)]
        }
        var reader = ByteReader(body)
        guard let envelope = reader.envelope(), reader.isAtEnd else { throw .malformed }
        return envelope
    }
}

struct ByteWriter {
    var output: [UInt8] = []

    mutating func bytes(_ bytes: [UInt8]) { output += bytes }
    mutating func u8(_ value: UInt8) { output.append(value) }
    mutating func u16(_ value: UInt16) { integer(value) }
    mutating func u32(_ value: UInt32) { integer(value) }
    mutating func u64(_ value: UInt64) { integer(value) }
    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        for shift in stride(from: T.bitWidth - 8, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
    mutating func id(_ id: NodeID) {
        u64(id.high)
        u64(id.middle)
        u32(id.low)
    }
    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8.prefix(255))
        u8(UInt8(utf8.count))
        bytes(utf8)
    }
    mutating func tokens(_ tokens: [UInt64]) {
        u8(UInt8(min(tokens.count, 255)))
        for token in tokens.prefix(255) { u64(token) }
    }
    mutating func record(_ record: MemberRecord) {
        id(record.id)
        string(record.address.host)
        u16(record.address.clientPort)
        u16(record.address.busPort)
        u64(record.incarnation)
        u8(record.state.rawValue)
        u8(record.phase.rawValue)
        tokens(record.tokens)
    }
    mutating func updates(_ updates: [MemberUpdate]) {
        u8(UInt8(min(updates.count, 255)))
        for update in updates.prefix(255) {
            record(update.record)
            id(update.reporter)
        }
    }
}

struct ByteReader {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { bytes.isEmpty }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard bytes.count >= count else { return nil }
        defer { bytes = bytes.dropFirst(count) }
        return bytes.prefix(count)
    }
    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard let raw = take(T.bitWidth / 8) else { return nil }
        return raw.reduce(T(0)) { $0 << 8 | T($1) }
    }
    mutating func u8() -> UInt8? { integer(UInt8.self) }
    mutating func u16() -> UInt16? { integer(UInt16.self) }
    mutating func u32() -> UInt32? { integer(UInt32.self) }
    mutating func u64() -> UInt64? { integer(UInt64.self) }
    mutating func id() -> NodeID? {
        guard let high = u64(), let middle = u64(), let low = u32() else { return nil }
        return NodeID(high: high, middle: middle, low: low)
    }
    mutating func string() -> String? {
        guard let count = u8(), let raw = take(Int(count)) else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }
    mutating func tokens() -> [UInt64]? {
        guard let count = u8() else { return nil }
        var tokens: [UInt64] = []
        for _ in 0..<count {
            guard let token = u64() else { return nil }
            tokens.append(token)
        }
        return tokens
    }
    mutating func record() -> MemberRecord? {
        guard let id = id(), let host = string(), let clientPort = u16(), let busPort = u16(),
              let incarnation = u64(), let rawState = u8(), let state = MemberState(rawValue: rawState),
              let rawPhase = u8(), let phase = MemberPhase(rawValue: rawPhase),
              let tokens = tokens() else { return nil }
        return MemberRecord(id: id, address: MemberAddress(host: host, clientPort: clientPort, busPort: busPort),
                            incarnation: incarnation, state: state, tokens: tokens, phase: phase)
    }
    mutating func updates() -> [MemberUpdate]? {
        guard let count = u8() else { return nil }
        var updates: [MemberUpdate] = []
        for _ in 0..<count {
            guard let record = record(), let reporter = id() else { return nil }
            updates.append(MemberUpdate(record: record, reporter: reporter))
        }
        return updates
    }
    mutating func envelope() -> Envelope? {
        guard let magic = take(4), Array(magic) == BusCodec.magic, u8() != nil, let kind = u8(), let sender = id() else { return nil }
        let message: SWIMMessage
        switch kind {
        case 0:
            guard let sequence = u32(), let target = id(), let updates = updates() else { return nil }
            message = .ping(sequence: sequence, target: target, updates: updates)
        case 1:
            guard let sequence = u32(), let target = id(), let host = string(), let port = u16(), let updates = updates() else { return nil }
            message = .pingRequest(sequence: sequence, target: target, address: BusAddress(host: host, port: port), updates: updates)
        case 2:
            guard let sequence = u32(), let updates = updates() else { return nil }
            message = .ack(sequence: sequence, updates: updates)
        case 3:
            guard let sequence = u32() else { return nil }
            message = .nack(sequence: sequence)
        case 4:
            guard let updates = updates() else { return nil }
            message = .gossip(updates: updates)
        case 5:
            guard let record = record() else { return nil }
            message = .join(record)
        case 6:
            guard let incarnation = u64(), let tokens = tokens() else { return nil }
            message = .joinAccepted(tokens: tokens, incarnation: incarnation)
        case 7:
            guard let wantsReply = u8(), let count = u8() else { return nil }
            var records: [MemberRecord] = []
            for _ in 0..<count {
                guard let record = record() else { return nil }
                records.append(record)
            }
            message = .sync(members: records, wantsReply: wantsReply == 1)
        default:
            return nil
        }
        return Envelope(sender: sender, message: message)
    }
}
