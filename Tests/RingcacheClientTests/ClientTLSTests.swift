import Foundation
import Testing

@testable import RingcacheClient

/// TLS against Debian's redis-server 7 with `--tls-port` (Ringcache's own TLS listener is not
/// built yet), with a certificate made here by `openssl`.
@Suite(.serialized) struct ClientTLSTests {
    static func run(_ executable: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func which(_ name: String) throws -> String {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw TestFailure("\(name) is not installed (cluster/test installs redis-server and openssl)")
    }

    @Test func connectsOverTLSWithAUTHWhenTheCertificateIsTrustedAndRefusesOtherwise() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ringcache-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = try Self.run(try Self.which("openssl"), ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                                                               "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        try awaitExit(openssl, timeout: .seconds(30))
        #expect(openssl.terminationStatus == 0)
        let port = ServerProcesses.freePort()
        let redis = try Self.run(try Self.which("redis-server"), ["--port", "0", "--tls-port", "\(port)", "--tls-cert-file", certificate, "--tls-key-file", key,
                                                                  "--tls-ca-cert-file", certificate, "--tls-auth-clients", "no", "--save", "", "--appendonly", "no",
                                                                  "--requirepass", "s3cret",
                                                                  "--dir", directory.path])
        defer { stopProcess(redis, signal: SIGKILL) }
        var configuration = RingcacheClient.Configuration(seeds: [Endpoint(host: "127.0.0.1", port: port)])
        configuration.tls = TLSOptions(caCertificateFile: certificate)
        configuration.password = "s3cret"
        // Generous: a debug-built BoringSSL handshake is slow while the simulation tests load
        // both cores.
        configuration.connectTimeout = .seconds(10)
        configuration.commandTimeout = .seconds(10)
        var client: RingcacheClient?
        try await waitUntil("redis-server answers over TLS", timeout: .seconds(60)) {
            client = try? await RingcacheClient(configuration: configuration)
            return client != nil
        }
        try await client!.set("secure", "yes", ttl: .seconds(10))
        #expect(try await client!.get("secure") == Array("yes".utf8))
        #expect(client!.topology?.endpoints == [Endpoint(host: "127.0.0.1", port: port)], "a server without cluster support is one node")
        client!.close()

        var anonymous = configuration
        anonymous.password = nil
        await #expect {
            _ = try await RingcacheClient(configuration: anonymous)
        } throws: { error in
            guard case .server(let message) = error as? RingcacheError else { return false }
            return message.hasPrefix("NOAUTH")
        }
        var untrusting = configuration
        untrusting.tls = TLSOptions()
        await #expect(throws: RingcacheError.self) { _ = try await RingcacheClient(configuration: untrusting) }
        var plain = configuration
        plain.tls = nil
        plain.commandTimeout = .milliseconds(500)
        plain.connectTimeout = .milliseconds(500)
        await #expect(throws: RingcacheError.self) { _ = try await RingcacheClient(configuration: plain) }
    }
}
