import ArgumentParser
import BenchCore
import Foundation
import NIOPosix
import RingcacheClient
import Synchronization

/// A load generator on RingcacheClient: cluster-aware, pipelined by concurrency (each
/// connection carries `--pipeline` requests in flight), keys uniform or Zipf, a read/write
/// mix, and latency percentiles from an HDR histogram.
@main
struct RingcacheBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringcache-bench",
        abstract: "Load a Ringcache cluster (or any Redis server) and report throughput and latency percentiles.")

    @Option(help: "A node to start from; the client finds the others.") var host = "127.0.0.1"
    @Option(help: "Its port.") var port = 7000
    @Option(help: "Connections per node.") var connections = 50
    @Option(help: "Requests in flight per connection.") var pipeline = 1
    @Option(help: "Distinct keys (key:0 … key:N-1).") var keys = 100_000
    @Option(help: "uniform or zipf.") var distribution = "zipf"
    @Option(help: "Zipf exponent.") var alpha = 0.99
    @Option(name: .customLong("value-size"), help: "Bytes per value (random, incompressible).") var valueSize = 1024
    @Option(name: .customLong("read-ratio"), help: "Share of GETs; the rest are SETs.") var readRatio = 0.9
    @Option(help: "Seconds to run (ignored with --requests).") var duration = 10.0
    @Option(help: "Requests to run instead of a duration.") var requests: Int?
    @Flag(help: "Write every key once before measuring, so reads hit.") var populate = false
    @Flag(help: "Give each worker its own keys and distinct values, and afterwards read every key back: acknowledged writes lost are counted.") var verify = false
    @Option(help: "Event-loop threads; each runs its share of the connections and of the workers that use them.") var threads = 1
    @Option(help: "Password for AUTH.") var password: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "No progress line.") var quiet = false

    func validate() throws {
        guard connections > 0, pipeline > 0, keys > 0, valueSize >= 0, threads > 0 else {
            throw ValidationError("--connections, --pipeline, --keys and --threads must be at least 1, --value-size at least 0")
        }
        guard (0...1).contains(readRatio) else { throw ValidationError("--read-ratio is a share between 0 and 1") }
        guard ["uniform", "zipf"].contains(distribution) else { throw ValidationError("--distribution is uniform or zipf") }
        guard requests.map({ $0 > 0 }) ?? (duration > 0) else { throw ValidationError("--duration and --requests must be positive") }
    }

    func run() async throws {
        var configuration = RingcacheClient.Configuration(seeds: [Endpoint(host: host, port: port)])
        configuration.connectionsPerNode = connections
        configuration.password = password
        // Workers run on the client's event loops (see EventLoopTaskExecutor), so a request
        // and its reply never leave the loop's thread: like redis-benchmark, one thread per
        // --threads drives its connections without a context switch per request.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let executors = group.makeIterator().map { EventLoopTaskExecutor($0) }
        let client: RingcacheClient
        do {
            client = try await RingcacheClient(configuration: configuration, group: group)
        } catch {
            FileHandle.standardError.write(Data("ringcache-bench: can't reach \(host):\(port): \(error)\n".utf8))
            throw ExitCode(3)
        }
        defer { client.close() }
        let kind: KeyDistribution.Kind = distribution == "zipf" ? .zipf(alpha: alpha) : .uniform
        let keySpace = KeyDistribution(kind, keyCount: keys)
        let names = (0..<keys).map { Array("key:\($0)".utf8) }
        var generator = FastRandom(seed: 42)
        let value = (0..<valueSize).map { _ in UInt8.random(in: 0...255, using: &generator) }
        if populate {
            if !quiet { FileHandle.standardError.write(Data("populating \(keys) keys…\n".utf8)) }
            for start in stride(from: 0, to: keys, by: 500) {
                try await client.set(many: (start..<min(keys, start + 500)).map { (names[$0], value) })
            }
        }

        let workers = connections * pipeline
        let counters = LoadCounters(budget: requests ?? Int.max)
        let started = ContinuousClock.now
        let deadline = requests == nil ? started + .milliseconds(Int64(duration * 1000)) : started + .seconds(86_400)
        let readRatio = self.readRatio
        let showProgress = !quiet && !json
        let progress = Task {
            var last = 0
            let interactive = isatty(STDERR_FILENO) != 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let done = counters.completed.load(ordering: .relaxed)
                let line = String(format: "%8.1f s  %10d ops/s  %10d errors", Double((ContinuousClock.now - started).components.seconds), done - last, counters.failed.load(ordering: .relaxed))
                last = done
                if showProgress { FileHandle.standardError.write(Data((interactive ? "\r" + line : line + "\n").utf8)) }
            }
        }
        let verify = self.verify
        let outcomes = await withTaskGroup(of: WorkerOutcome.self) { group in
            for worker in 0..<workers {
                group.addTask(executorPreference: executors[worker % executors.count]) {
                    var outcome = WorkerOutcome()
                    var random = FastRandom(seed: UInt64(worker + 1) &* 0x9E37_79B9)
                    var sequence = 0
                    while ContinuousClock.now < deadline, counters.budget.subtract(1, ordering: .relaxed).oldValue > 0 {
                        var index = keySpace.keyIndex(ofRank: keySpace.nextRank(using: &random))
                        // With --verify, worker w owns the keys ≡ w (mod workers): its own record
                        // of what was acknowledged is then the truth for them.
                        if verify { index = index - index % workers + worker; if index >= names.count { index = worker } }
                        let key = names[index]
                        let isRead = !verify && Double.random(in: 0..<1, using: &random) < readRatio
                        sequence += 1
                        let written = verify ? Array("\(worker):\(sequence)".utf8) : value
                        let begin = ContinuousClock.now
                        do {
                            if isRead { _ = try await client.get(bytes: key) } else { _ = try await client.set(bytes: key, written) }
                            let elapsed = ContinuousClock.now - begin
                            outcome.histogram.record(UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000))
                            counters.completed.add(1, ordering: .relaxed)
                            if verify { outcome.acknowledged[index] = written; outcome.unacknowledged[index] = nil }
                        } catch {
                            counters.failed.add(1, ordering: .relaxed)
                            let at = ContinuousClock.now - started
                            counters.errorWindow.withLock { window in
                                if window.first == nil { window.first = at }
                                window.last = at
                            }
                            counters.errorKinds.withLock { $0[String("\(error)".prefix(100)), default: 0] += 1 }
                            if verify && !isRead { outcome.unacknowledged[index, default: []].append(written) }
                        }
                    }
                    return outcome
                }
            }
            var all: [WorkerOutcome] = []
            for await part in group { all.append(part) }
            return all
        }
        var histogram = LatencyHistogram()
        for outcome in outcomes { histogram.add(outcome.histogram) }
        var lost: Int?
        if verify {
            // Every key's value must be the last acknowledged one, or a later write whose
            // reply was an error (it may have been applied).
            var count = 0
            for outcome in outcomes {
                for (index, value) in outcome.acknowledged {
                    let stored = try? await client.get(bytes: names[index])
                    if stored != value && !(outcome.unacknowledged[index] ?? []).contains(where: { $0 == stored }) { count += 1 }
                }
            }
            lost = count
        }
        progress.cancel()
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if showProgress && isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        var result = BenchResult(
            operations: Int(histogram.totalCount), errors: counters.failed.load(ordering: .relaxed), seconds: seconds,
            histogram: histogram, connections: connections, pipeline: pipeline, keys: keys,
            distribution: distribution == "zipf" ? "zipf(\(alpha))" : "uniform", valueSize: valueSize, readRatio: verify ? 0 : readRatio)
        let window = counters.errorWindow.withLock { $0 }
        result.firstErrorSeconds = window.first.map(Self.seconds)
        result.lastErrorSeconds = window.last.map(Self.seconds)
        result.lostAcknowledgedWrites = lost
        result.errorKinds = counters.errorKinds.withLock { $0 }
        print(json ? result.json() : result.text())
        if result.errors > 0 && result.operations == 0 { throw ExitCode(1) }
        if let lost, lost > 0 { throw ExitCode(2) }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Counters every worker and the progress line share.
final class LoadCounters: Sendable {
    let completed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    /// Requests left to send (with --requests).
    let budget: Atomic<Int>
    /// When the first and the last error happened, from the start.
    let errorWindow = Mutex<(first: Duration?, last: Duration?)>((nil, nil))
    /// Errors by what they said.
    let errorKinds = Mutex<[String: Int]>([:])

    init(budget: Int) {
        self.budget = Atomic(budget)
    }
}

/// What one worker saw: its latencies, and with --verify its keys' acknowledged values.
struct WorkerOutcome: Sendable {
    var histogram = LatencyHistogram()
    var acknowledged: [Int: [UInt8]] = [:]
    var unacknowledged: [Int: [[UInt8]]] = [:]
}
