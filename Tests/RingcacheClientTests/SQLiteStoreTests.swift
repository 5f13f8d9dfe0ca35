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

@Suite(.serialized) struct TwoProcessStampedeTests {
    static func exampleBinary() throws -> String {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for build in ["debug", "release"] {
            let path = package.appendingPathComponent(".build/\(build)/ringcache-catalogue-example").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestFailure("ringcache-catalogue-example is not built: run swift build")
    }

    @Test func twoProcessesWithFiftyReadersEachLoadAMissingKeyOnce() async throws {
        let servers = try ServerProcesses()
        defer { servers.stopAll() }
        let port = try await servers.start()
        let path = SQLiteStoreTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        /// The example's product shape.
        struct CatalogueProduct: Codable, Sendable {
            var id: String
            var name: String
            var priceCents: Int
            var description: String
        }
        let database = try await SQLiteBackingStore<CatalogueProduct>.open(path: path, table: "products")
        try await database.write("sku-1", CatalogueProduct(id: "sku-1", name: "Lamp", priceCents: 4_999, description: "Bright."))
        _ = try await database.connection.query("CREATE TABLE loads (count INTEGER NOT NULL)")
        _ = try await database.connection.query("INSERT INTO loads VALUES (0)")
        let binary = try Self.exampleBinary()
        let processes = try (0..<2).map { _ in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["stampede", "--port", "\(port)", "--db", path, "--key", "sku-1", "--readers", "50"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            return (process, output)
        }
        try await waitUntil("both processes finish", timeout: .seconds(30)) { processes.allSatisfy { !$0.0.isRunning } }
        for (process, output) in processes {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0, "\(text)")
            #expect(text.hasPrefix("read [\"Lamp\"]"), "\(text)")
        }
        let loads = try await database.connection.query("SELECT count FROM loads").first?.column("count")?.integer
        #expect(loads == 1, "100 concurrent reads in two processes loaded the key from the database once")
        try await database.close()
    }
}
