import Metrics
import MetricsTestKit
import Testing

@testable import RingcacheClient

/// The process-wide metrics backend for these tests; swift-metrics can be bootstrapped once.
let testMetrics: TestMetrics = {
    let metrics = TestMetrics()
    MetricsSystem.bootstrap(metrics)
    return metrics
}()

@Suite(.serialized) struct CacheMetricsTests {
    @Test func cacheAsideCountsIntoSwiftMetrics() async throws {
        let metrics = testMetrics
        let servers = try ServerProcesses()
        defer { servers.stopAll() }
        let port = try await servers.start()
        var options = CacheAside<CountingStore>.Options()
        options.metricsName = "metrics-test"
        let cache = CacheAside(client: try await ClientClusterTests.client(port), store: CountingStore(values: ["a": "1"]), options: options)
        for _ in 0..<3 { _ = try await cache.get("a") }
        _ = try await cache.get("missing")
        let dimensions = [("cache", "metrics-test")]
        #expect(try metrics.expectCounter("ringcache_cache_hits_total", dimensions).totalValue == 2)
        #expect(try metrics.expectCounter("ringcache_cache_misses_total", dimensions).totalValue == 2)
        #expect(try metrics.expectCounter("ringcache_cache_loads_total", dimensions).totalValue == 2)
        #expect(cache.statistics.hits == 2 && cache.statistics.misses == 2)
    }
}
