/// The source of truth a cache sits in front of: a database or a service. Implement it for
/// any store; `CacheAside` does the rest.
public protocol BackingStore: Sendable {
    associatedtype Value: Codable & Sendable

    /// The value for `key`, or nil if the store has none.
    func load(_ key: String) async throws -> Value?
    /// The values for `keys` that exist, in one round trip where the store can.
    func load(many keys: [String]) async throws -> [String: Value]
    func write(_ key: String, _ value: Value) async throws
    func delete(_ key: String) async throws
}

extension BackingStore {
    public func load(many keys: [String]) async throws -> [String: Value] {
        var values: [String: Value] = [:]
        for key in keys {
            if let value = try await load(key) { values[key] = value }
        }
        return values
    }
}
