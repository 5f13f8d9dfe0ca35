import Foundation

/// Turns typed values into cache bytes and back; JSON unless told otherwise.
public protocol ValueCodec: Sendable {
    func encode<Value: Encodable>(_ value: Value) throws -> [UInt8]
    func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value
}

public struct JSONValueCodec: ValueCodec {
    public init() {}

    public func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        Array(try JSONEncoder().encode(value))
    }

    public func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}

extension RingcacheClient {
    /// A `Codable` value stored under `key`, encoded by `codec`.
    public func set<Value: Encodable>(_ key: String, value: Value, ttl: Duration? = nil, codec: some ValueCodec = JSONValueCodec()) async throws {
        try await set(bytes: Array(key.utf8), try codec.encode(value), ttl: ttl)
    }

    public func get<Value: Decodable>(_ key: String, as type: Value.Type, codec: some ValueCodec = JSONValueCodec()) async throws -> Value? {
        guard let bytes = try await get(key) else { return nil }
        return try codec.decode(type, from: bytes)
    }
}
