// A product catalogue served from SQLite, with and without Ringcache in front of it.
//
//     cluster/up
//     swift run ringcache-catalogue-example --port 7001 --products 10000 --requests 20000
//
// It fills an SQLite database with products, then reads them with a Zipf(0.99) popularity
// (a few products are hot, most are cold) twice: straight from SQLite, then through
// CacheAside on the cluster. It prints the hit ratio and the latency percentiles of both.
// `--store-delay-ms` adds a delay to every database read, as a database across the network
// would have; local SQLite alone answers in microseconds.
import Foundation
import RingcacheClient
import RingcacheSQLite

struct Product: Codable, Sendable {
    var id: String
    var name: String
    var priceCents: Int
    var description: String
}

/// The SQLite store, optionally slowed down like a remote database.
struct Catalogue: BackingStore {
    typealias Value = Product
    let database: SQLiteBackingStore<Product>
    let delay: Duration

    func load(_ key: String) async throws -> Product? {
        if delay > .zero { try await Task.sleep(for: delay) }
        return try await database.load(key)
    }

    func load(many keys: [String]) async throws -> [String: Product] {
        if delay > .zero { try await Task.sleep(for: delay) }
        return try await database.load(many: keys)
    }

    func write(_ key: String, _ value: Product) async throws { try await database.write(key, value) }
    func delete(_ key: String) async throws { try await database.delete(key) }
}

func option(_ name: String, default value: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count, let parsed = Int(arguments[index + 1]) else { return value }
    return parsed
}

/// Zipf(s) over 0..<n by inverting the cumulative distribution (exact, precomputed).
struct Zipf {
    let cumulative: [Double]

    init(count: Int, exponent: Double) {
        var running = 0.0
        var cumulative: [Double] = []
        cumulative.reserveCapacity(count)
        for rank in 1...count {
            running += 1 / pow(Double(rank), exponent)
            cumulative.append(running)
        }
        self.cumulative = cumulative.map { $0 / running }
    }

    func next(using random: inout some RandomNumberGenerator) -> Int {
        let target = Double.random(in: 0..<1, using: &random)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

func percentile(_ sorted: [Duration], _ fraction: Double) -> String {
    let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    let microseconds = Double(value.components.seconds) * 1e6 + Double(value.components.attoseconds) / 1e12
    return String(format: "%8.1f µs", microseconds)
}

/// `stampede` mode, for the tests: many concurrent reads of one missing key from this process,
/// against a database shared with other processes that do the same. Every load from the
/// database is counted in its `loads` table, so a test can check that all processes together
/// loaded the key once.
struct CountedCatalogue: BackingStore {
    typealias Value = Product
    let database: SQLiteBackingStore<Product>

    func load(_ key: String) async throws -> Product? {
        _ = try await database.connection.query("UPDATE loads SET count = count + 1")
        try await Task.sleep(for: .milliseconds(200))  // a slow query, so the processes overlap
        return try await database.load(key)
    }

    func write(_ key: String, _ value: Product) async throws { try await database.write(key, value) }
    func delete(_ key: String) async throws { try await database.delete(key) }
}

/// Opens the catalogue database, or says why not and exits. (Closing before exit matters: an
/// SQLite connection must be closed before it is released.)
func openCatalogue(_ path: String) async -> SQLiteBackingStore<Product> {
    do {
        return try await SQLiteBackingStore<Product>.open(path: path, table: "products")
    } catch {
        FileHandle.standardError.write(Data("ringcache-catalogue-example: \(error)\n".utf8))
        exit(1)
    }
}

if CommandLine.arguments.dropFirst().first == "stampede" {
    let arguments = CommandLine.arguments
    guard let dbIndex = arguments.firstIndex(of: "--db"), dbIndex + 1 < arguments.count,
          let keyIndex = arguments.firstIndex(of: "--key"), keyIndex + 1 < arguments.count else {
        FileHandle.standardError.write(Data("usage: ringcache-catalogue-example stampede --port P --db PATH --key KEY [--readers N]\n".utf8))
        exit(2)
    }
    let database = await openCatalogue(arguments[dbIndex + 1])
    do {
        let client = try await RingcacheClient(configuration: .init(seeds: [Endpoint(host: "127.0.0.1", port: option("port", default: 7001))]))
        let cache = CacheAside(client: client, store: CountedCatalogue(database: database))
        let key = arguments[keyIndex + 1]
        let names = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<option("readers", default: 50) { group.addTask { try await cache.get(key)?.name } }
            var names = Set<String?>()
            for try await name in group { names.insert(name) }
            return names
        }
        print("read \(names.map { $0 ?? "nil" }.sorted()) with \(cache.statistics.loads) loads in this process")
        client.close()
        try await database.close()
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("ringcache-catalogue-example: \(error)\n".utf8))
        try? await database.close()
        exit(1)
    }
}

let port = option("port", default: 7001)
let productCount = option("products", default: 10_000)
let requests = option("requests", default: 20_000)
let delay = Duration.milliseconds(option("store-delay-ms", default: 0))
let path = FileManager.default.temporaryDirectory.appendingPathComponent("ringcache-catalogue-\(getpid()).sqlite").path
defer { try? FileManager.default.removeItem(atPath: path) }

let database = await openCatalogue(path)
do {
    _ = try await database.connection.query("BEGIN")
    for index in 0..<productCount {
        let id = "sku-\(index)"
        try await database.write(id, Product(id: id, name: "Product \(index)", priceCents: 100 + index % 9_900,
                                             description: String(repeating: "Well made and well loved. ", count: 8)))
    }
    _ = try await database.connection.query("COMMIT")
    let store = Catalogue(database: database, delay: delay)
    let client = try await RingcacheClient(configuration: .init(seeds: [Endpoint(host: "127.0.0.1", port: port)]))
    var options = CacheAside<Catalogue>.Options()
    options.keyPrefix = "catalogue:\(getpid()):"
    options.ttl = .seconds(300)
    let cache = CacheAside(client: client, store: store, options: options)

    var random = SystemRandomNumberGenerator()
    let zipf = Zipf(count: productCount, exponent: 0.99)
    let keys = (0..<requests).map { _ in "sku-\(zipf.next(using: &random))" }
    let clock = ContinuousClock()

    var direct: [Duration] = []
    for key in keys {
        let started = clock.now
        _ = try await store.load(key)
        direct.append(clock.now - started)
    }
    var cached: [Duration] = []
    for key in keys {
        let started = clock.now
        guard try await cache.get(key) != nil else { throw SQLiteStoreError("\(key) vanished") }
        cached.append(clock.now - started)
    }
    direct.sort()
    cached.sort()
    let statistics = cache.statistics
    let hitRatio = Double(statistics.hits) / Double(max(1, statistics.hits + statistics.misses))
    print("""
        \(productCount) products in SQLite, \(requests) reads with Zipf(0.99) popularity, store delay \(delay)
        cluster seed 127.0.0.1:\(port) (\(client.topology?.endpoints.count ?? 0) nodes)

                               p50          p90          p99
        SQLite only     \(percentile(direct, 0.5))  \(percentile(direct, 0.9))  \(percentile(direct, 0.99))
        with Ringcache  \(percentile(cached, 0.5))  \(percentile(cached, 0.9))  \(percentile(cached, 0.99))

        hit ratio \(String(format: "%.1f%%", hitRatio * 100)) (\(statistics.hits) hits, \(statistics.misses) misses, \(statistics.loads) loads from SQLite)
        """)
    _ = try await client.delete((0..<productCount).map { "\(options.keyPrefix)sku-\($0)" })
    client.close()
    try await database.close()
} catch {
    FileHandle.standardError.write(Data("ringcache-catalogue-example: \(error)\n".utf8))
    try? await database.close()
    exit(1)
}
