import Foundation
import RingcacheClient
import SQLiteNIO

/// A `BackingStore` over an SQLite table of `(key TEXT PRIMARY KEY, value TEXT)`, values
/// stored as JSON — enough for any `Codable` value, and a real database for cache-aside to sit
/// in front of. Batch loads are one `SELECT ... WHERE key IN (...)`.
public final class SQLiteBackingStore<Value: Codable & Sendable>: BackingStore, Sendable {
    public let connection: SQLiteConnection
    public let table: String

    /// Opens (creating if needed) the database at `path` and the table.
    public static func open(path: String, table: String = "cache_aside_values") async throws -> SQLiteBackingStore {
        guard table.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw SQLiteStoreError("table name '\(table)' must be letters, digits and underscores")
        }
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        _ = try await connection.query("CREATE TABLE IF NOT EXISTS \(table) (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return SQLiteBackingStore(connection: connection, table: table)
    }

    init(connection: SQLiteConnection, table: String) {
        self.connection = connection
        self.table = table
    }

    public func load(_ key: String) async throws -> Value? {
        let rows = try await connection.query("SELECT value FROM \(table) WHERE key = ?", [.text(key)])
        guard let text = rows.first?.column("value")?.string else { return nil }
        return try JSONDecoder().decode(Value.self, from: Data(text.utf8))
    }

    public func load(many keys: [String]) async throws -> [String: Value] {
        guard !keys.isEmpty else { return [:] }
        var values: [String: Value] = [:]
        // SQLite allows 999 bound parameters per statement in its oldest default.
        for start in stride(from: 0, to: keys.count, by: 500) {
            let chunk = Array(keys[start..<min(start + 500, keys.count)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try await connection.query("SELECT key, value FROM \(table) WHERE key IN (\(placeholders))", chunk.map { .text($0) })
            for row in rows {
                guard let key = row.column("key")?.string, let text = row.column("value")?.string else { continue }
                values[key] = try JSONDecoder().decode(Value.self, from: Data(text.utf8))
            }
        }
        return values
    }

    public func write(_ key: String, _ value: Value) async throws {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        _ = try await connection.query("INSERT INTO \(table) (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(key), .text(json)])
    }

    public func delete(_ key: String) async throws {
        _ = try await connection.query("DELETE FROM \(table) WHERE key = ?", [.text(key)])
    }

    public func close() async throws {
        try await connection.close()
    }
}

public struct SQLiteStoreError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
