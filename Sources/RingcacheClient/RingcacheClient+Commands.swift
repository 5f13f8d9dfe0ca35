import Cluster
import RESP

/// The common commands, with keys and values as bytes (`String` overloads encode UTF-8).
extension RingcacheClient {
    public func get(_ key: some StringProtocol) async throws(RingcacheError) -> [UInt8]? {
        try await get(bytes: Array(key.utf8))
    }

    public func get(bytes key: [UInt8]) async throws(RingcacheError) -> [UInt8]? {
        try Self.bytes(try await execute([Self.word("GET"), key], key: key, isRead: true))
    }

    /// SET with an optional time to live (millisecond precision) and NX/XX condition.
    /// Returns false when the condition kept the value from being set.
    @discardableResult
    public func set(_ key: some StringProtocol, _ value: some StringProtocol, ttl: Duration? = nil, condition: SetCondition = .always) async throws(RingcacheError) -> Bool {
        try await set(bytes: Array(key.utf8), Array(value.utf8), ttl: ttl, condition: condition)
    }

    @discardableResult
    public func set(bytes key: [UInt8], _ value: [UInt8], ttl: Duration? = nil, condition: SetCondition = .always) async throws(RingcacheError) -> Bool {
        var command = [Self.word("SET"), key, value]
        if let ttl { command += [Self.word("PX"), Self.word(String(max(1, Self.milliseconds(ttl))))] }
        switch condition {
        case .always: break
        case .ifAbsent: command.append(Self.word("NX"))
        case .ifPresent: command.append(Self.word("XX"))
        }
        let reply = try await execute(command, key: key, isRead: false)
        try Self.checkError(reply)
        return reply != .null
    }

    public enum SetCondition: Sendable {
        case always
        /// NX
        case ifAbsent
        /// XX
        case ifPresent
    }

    /// Deletes keys (split by slot); returns how many existed.
    @discardableResult
    public func delete(_ keys: [String]) async throws(RingcacheError) -> Int {
        try await countBySlot("DEL", keys.map { Array($0.utf8) }, isRead: false)
    }

    public func exists(_ keys: [String]) async throws(RingcacheError) -> Int {
        try await countBySlot("EXISTS", keys.map { Array($0.utf8) }, isRead: true)
    }

    /// PTTL: nil when the key does not exist or has no time to live.
    public func ttl(_ key: String) async throws(RingcacheError) -> Duration? {
        let reply = try await execute([Self.word("PTTL"), Array(key.utf8)], key: Array(key.utf8), isRead: true)
        try Self.checkError(reply)
        guard let milliseconds = reply.int, milliseconds >= 0 else { return nil }
        return .milliseconds(milliseconds)
    }

    public func incr(_ key: String, by amount: Int64 = 1) async throws(RingcacheError) -> Int64 {
        let reply = try await execute([Self.word("INCRBY"), Array(key.utf8), Self.word(String(amount))], key: Array(key.utf8), isRead: false)
        try Self.checkError(reply)
        guard let value = reply.int else { throw .protocolViolation("INCRBY answered \(reply)") }
        return value
    }

    /// MGET across slots: one MGET per slot, sent concurrently, results in the order asked.
    public func get(many keys: [[UInt8]]) async throws(RingcacheError) -> [[UInt8]?] {
        var results = [[UInt8]?](repeating: nil, count: keys.count)
        let groups = Dictionary(grouping: keys.indices) { HashSlot.slot(for: keys[$0]) }
        do {
            try await withThrowingTaskGroup(of: ([Int], RESPValue).self) { group in
                for (_, indices) in groups {
                    group.addTask {
                        let command = [Self.word("MGET")] + indices.map { keys[$0] }
                        return (indices, try await self.execute(command, key: keys[indices[0]], isRead: true))
                    }
                }
                for try await (indices, reply) in group {
                    try Self.checkError(reply)
                    guard let elements = reply.elements, elements.count == indices.count else {
                        throw RingcacheError.protocolViolation("MGET answered \(reply)")
                    }
                    for (index, element) in zip(indices, elements) { results[index] = try Self.bytes(element) }
                }
            }
        } catch let error as RingcacheError {
            throw error
        } catch {
            throw .protocolViolation("\(error)")
        }
        return results
    }

    /// MSET across slots: one MSET per slot (atomic per slot only).
    public func set(many pairs: [(key: [UInt8], value: [UInt8])]) async throws(RingcacheError) {
        let groups = Dictionary(grouping: pairs.indices) { HashSlot.slot(for: pairs[$0].key) }
        do {
            try await withThrowingTaskGroup(of: RESPValue.self) { group in
                for (_, indices) in groups {
                    group.addTask {
                        let command = [Self.word("MSET")] + indices.flatMap { [pairs[$0].key, pairs[$0].value] }
                        return try await self.execute(command, key: pairs[indices[0]].key, isRead: false)
                    }
                }
                for try await reply in group { try Self.checkError(reply) }
            }
        } catch let error as RingcacheError {
            throw error
        } catch {
            throw .protocolViolation("\(error)")
        }
    }

    private func countBySlot(_ name: String, _ keys: [[UInt8]], isRead: Bool) async throws(RingcacheError) -> Int {
        let groups = Dictionary(grouping: keys) { HashSlot.slot(for: $0) }
        var total = 0
        for (_, group) in groups {
            let reply = try await execute([Self.word(name)] + group, key: group[0], isRead: isRead)
            try Self.checkError(reply)
            total += Int(reply.int ?? 0)
        }
        return total
    }

    // MARK: Helpers

    static func word(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    static func checkError(_ reply: RESPValue) throws(RingcacheError) {
        if case .error(let message) = reply { throw .server(message) }
    }

    static func bytes(_ reply: RESPValue) throws(RingcacheError) -> [UInt8]? {
        switch reply {
        case .null: return nil
        case .bulkString(let buffer), .simpleString(let buffer), .verbatimString(let buffer): return Array(buffer.readableBytesView)
        case .error(let message): throw .server(message)
        default: throw .protocolViolation("expected a string, got \(reply)")
        }
    }
}
