import Foundation
import RingcacheClient
import RingcacheSQLite
import Testing

@Suite(.serialized) struct SQLiteStoreTests {
    struct Product: Codable, Equatable, Sendable {
        var name: String
        var priceCents: Int
    }

    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ringcache-sqlite-\(UUID().uuidString).sqlite").path
    }

    @Test func storesLoadsBatchesAndDeletesInARealDatabase() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try await SQLiteBackingStore<Product>.open(path: path, table: "products")
        try await store.write("sku-1", Product(name: "Lamp", priceCents: 4_999))
        try await store.write("sku-2", Product(name: "Desk", priceCents: 19_900))
        try await store.write("sku-1", Product(name: "Lamp", priceCents: 3_999))
        #expect(try await store.load("sku-1") == Product(name: "Lamp", priceCents: 3_999))
        #expect(try await store.load("sku-404") == nil)
        let keys = (0..<1200).map { "sku-\($0)" }
        let batch = try await store.load(many: keys)
        #expect(batch == ["sku-1": Product(name: "Lamp", priceCents: 3_999), "sku-2": Product(name: "Desk", priceCents: 19_900)])
        try await store.delete("sku-2")
        #expect(try await store.load("sku-2") == nil)
        try await store.close()
        // The data is on disk: a new connection sees it.
        let reopened = try await SQLiteBackingStore<Product>.open(path: path, table: "products")
        #expect(try await reopened.load("sku-1")?.priceCents == 3_999)
        try await reopened.close()
        await #expect(throws: SQLiteStoreError.self) { _ = try await SQLiteBackingStore<Product>.open(path: path, table: "bad; DROP") }
    }

    @Test func cacheAsideOverSQLiteServesHitsFromTheCluster() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let servers = try await ClientClusterTests.cluster(3)
        defer { servers.stopAll() }
        let database = try await SQLiteBackingStore<Product>.open(path: path)
        for index in 0..<200 { try await database.write("sku-\(index)", Product(name: "Item \(index)", priceCents: index)) }
        let client = try await ClientClusterTests.client(servers.ports[0])
        var options = CacheAside<SQLiteBackingStore<Product>>.Options()
        options.writeMode = .writeThrough
        let cache = CacheAside(client: client, store: database, options: options)
        for round in 0..<3 {
            for index in 0..<200 { #expect(try await cache.get("sku-\(index)")?.priceCents == index, "round \(round)") }
        }
        #expect(cache.statistics.misses == 200 && cache.statistics.hits == 400)
        try await cache.set("sku-7", Product(name: "Item 7", priceCents: 777))
        #expect(try await database.load("sku-7")?.priceCents == 777, "write-through writes the database")
        #expect(try await cache.get("sku-7")?.priceCents == 777)
        #expect(cache.statistics.misses == 200, "and the cache")
        client.close()
        try await database.close()
    }
}
