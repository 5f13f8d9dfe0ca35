import Foundation
import RingcacheClient

#if canImport(Glibc)
import Glibc
#endif

/// Real `ringcache-server` processes on loopback ports chosen at run time, each in a folder
/// of its own; every process is stopped by `stopAll()` (tests call it in `defer`).
final class ServerProcesses: @unchecked Sendable {
    // @unchecked: used from one test task at a time; the lock guards the process list anyway.
    private let lock = NSLock()
    private var processes: [Int: Process] = [:]
    private(set) var ports: [Int] = []
    private var busPorts: [Int: Int] = [:]
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ringcache-client-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// The server binary: $RINGCACHE_SERVER, else this package's release build, else its debug build.
    static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["RINGCACHE_SERVER"] { return path }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for build in ["release", "debug"] {
            let path = package.appendingPathComponent(".build/\(build)/ringcache-server").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestFailure("ringcache-server is not built: run swift build (or set RINGCACHE_SERVER)")
    }

    static func freePort(udp: Bool = false) -> Int {
        let descriptor = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port for a cluster bus: free for TCP (replication links) and UDP (gossip) alike.
    static func freeBusPort() -> Int {
        while true {
            let port = freePort()
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
    }

    /// Starts a node; with `seed`, it joins the node on that port.
    @discardableResult
    func start(seed: Int? = nil, port: Int? = nil) async throws -> Int {
        let port = port ?? Self.freePort()
        let busPort = lock.withLock { busPorts[port] } ?? Self.freeBusPort()
        let directory = root.appendingPathComponent("node-\(port)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments = ["--port", "\(port)", "--cluster-port", "\(busPort)", "--dir", directory.path,
                         "--logfile", directory.appendingPathComponent("node.log").path, "--cluster-probe-interval", "100"]
        if let seed, let seedBus = lock.withLock({ busPorts[seed] }) {
            arguments += ["--cluster-seeds", "127.0.0.1:\(seed)@\(seedBus)"]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binary())
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock {
            processes[port] = process
            busPorts[port] = busPort
            if !ports.contains(port) { ports.append(port) }
        }
        try await waitUntil("node \(port) answers", timeout: .seconds(10)) { Self.answersPing(port) }
        return port
    }

    func kill(_ port: Int) {
        let process = lock.withLock { processes.removeValue(forKey: port) }
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        try? awaitExit(process, timeout: .seconds(10))
    }

    func stopAll() {
        let all = lock.withLock { defer { processes.removeAll() }; return Array(processes.values) }
        for process in all { process.terminate() }
        for process in all { stopProcess(process) }
        try? FileManager.default.removeItem(at: root)
    }

    /// Sends a raw inline command and returns the first reply line.
    static func ask(_ port: Int, _ command: String) -> String? {
        askAll(port, command)?.split(separator: "\r\n").first.map(String.init)
    }

    static func answersPing(_ port: Int) -> Bool { ask(port, "PING") == "+PONG" }

    /// Every node's CLUSTER INFO says ok and knows `count` live members.
    func converged(_ count: Int) -> Bool {
        let current = lock.withLock { Array(processes.keys) }
        return current.allSatisfy { port in
            guard let bulk = Self.askAll(port, "CLUSTER INFO") else { return false }
            return bulk.contains("cluster_state:ok") && bulk.contains("cluster_size:\(count)\r")
                && bulk.contains("cluster_node_phase:serving\r") && bulk.contains("cluster_slots_moving:0\r")
        }
    }

    /// The whole reply of a command, for bulk replies.
    static func askAll(_ port: Int, _ command: String) -> String? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array((command + "\r\n").utf8)
        guard send(descriptor, request, request.count, 0) == request.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var received: [UInt8] = []
        // A bulk reply: "$<length>\r\n<bytes>\r\n".
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer.prefix(count)
            let text = String(decoding: received, as: UTF8.self)
            if let header = text.split(separator: "\r\n").first, header.hasPrefix("$"), let length = Int(header.dropFirst()),
               received.count >= header.utf8.count + 2 + length + 2 { break }
            if text.hasPrefix("-") || text.hasPrefix("+") { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 10 ms until it holds, failing after `timeout`.
func waitUntil(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("timed out after \(timeout) waiting until \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Waits for `process` to exit by polling (Foundation's `waitUntilExit` can hang when called
/// from a task on Linux), failing after `timeout`.
func awaitExit(_ process: Process, timeout: Duration) throws {
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
        guard ContinuousClock.now < deadline else { throw TestFailure("process \(process.processIdentifier) still running after \(timeout)") }
        usleep(5_000)
    }
}

/// SIGTERM (or `signal`), up to 10 s to exit, then SIGKILL: a test never leaves a process
/// behind. (A child started through Foundation may inherit a mask that blocks SIGTERM, as
/// redis-server does here; such tests pass SIGKILL.)
func stopProcess(_ process: Process, signal: Int32 = SIGTERM) {
    guard process.isRunning else { return }
    kill(process.processIdentifier, signal)
    if (try? awaitExit(process, timeout: .seconds(10))) == nil {
        kill(process.processIdentifier, SIGKILL)
        try? awaitExit(process, timeout: .seconds(10))
    }
}
