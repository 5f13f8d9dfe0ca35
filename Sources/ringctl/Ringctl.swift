import ArgumentParser
import Foundation
import RingcacheClient

/// The admin CLI: a view of the cluster from any node, key lookups with their owners, and
/// the membership operations (MEET, FORGET, LEAVE). Every read command takes `--json`.
///
/// Exit codes: 0 healthy, 1 rebalancing (moves under way), 2 degraded (a node suspect or
/// dead, slots unserved, a node unreachable), 3 the node asked could not be reached, 4 the
/// command was refused.
@main
struct Ringctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringctl",
        abstract: "Look at and operate a Ringcache cluster.",
        discussion: "Exit codes: 0 healthy, 1 rebalancing, 2 degraded, 3 unreachable, 4 refused.",
        subcommands: [Status.self, Ring.self, Nodes.self, Info.self, Get.self, SetKey.self, Del.self, TTL.self,
                      Meet.self, Forget.self, Leave.self, Rebalance.self, Watch.self],
        defaultSubcommand: Status.self)
}

/// Where to reach the cluster, shared by every subcommand.
struct Connection: ParsableArguments {
    @Option(help: "Any node of the cluster.") var host = "127.0.0.1"
    @Option(help: "Its client port.") var port = 7000
    @Option(help: "Password for AUTH (or RINGCACHE_PASSWORD).") var password: String?
    @Flag(help: "Connect with TLS (trusting the system's CAs, or --tls-ca-file).") var tls = false
    @Option(name: .customLong("tls-ca-file"), help: "CA certificate to trust for --tls.") var tlsCAFile: String?

    var endpoint: Endpoint { Endpoint(host: host, port: port) }

    func client() async throws -> RingcacheClient {
        var configuration = RingcacheClient.Configuration(seeds: [endpoint])
        configuration.password = password ?? ProcessInfo.processInfo.environment["RINGCACHE_PASSWORD"]
        configuration.connectTimeout = .seconds(2)
        configuration.commandTimeout = .seconds(5)
        configuration.connectionsPerNode = 1
        if tls { configuration.tls = TLSOptions(caCertificateFile: tlsCAFile) }
        do {
            return try await RingcacheClient(configuration: configuration)
        } catch {
            throw Failure.unreachable("can't reach \(host):\(port) (\(error)): is a node running there? cluster/up starts three")
        }
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table.") var json = false
}

/// One-line errors with the exit code they mean.
enum Failure: Error, CustomStringConvertible {
    case unreachable(String)
    case refused(String)
    case usage(String)

    var description: String {
        switch self {
        case .unreachable(let text), .refused(let text), .usage(let text): text
        }
    }

    var exitCode: Int32 {
        switch self {
        case .unreachable: 3
        case .refused: 4
        case .usage: 64
        }
    }
}

/// Runs a subcommand body, turning failures into one line on stderr and an exit code.
func guarded(_ body: () async throws -> Int32) async throws {
    let code: Int32
    do {
        code = try await body()
    } catch let failure as Failure {
        FileHandle.standardError.write(Data("ringctl: \(failure)\n".utf8))
        throw ExitCode(failure.exitCode)
    }
    if code != 0 { throw ExitCode(code) }
}

/// Colours only on a terminal.
enum Style {
    static let enabled = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    static func paint(_ text: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    static func green(_ text: String) -> String { paint(text, "32") }
    static func yellow(_ text: String) -> String { paint(text, "33") }
    static func red(_ text: String) -> String { paint(text, "31") }
    static func bold(_ text: String) -> String { paint(text, "1") }
}

/// A plain text table with aligned columns.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let widths = header.indices.map { column in ([header] + rows).map { visibleLength($0[column]) }.max() ?? 0 }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in cell + String(repeating: " ", count: widths[index] - visibleLength(cell)) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
}

/// Length without ANSI colour codes.
func visibleLength(_ text: String) -> Int {
    var length = 0
    var inEscape = false
    for character in text {
        if character == "\u{1B}" { inEscape = true } else if inEscape { if character == "m" { inEscape = false } } else { length += 1 }
    }
    return length
}

func jsonString(_ value: Any) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}

/// Pushes buffered standard output out now (progress lines, watch frames).
func flushOutput() {
    // fflush(NULL) flushes every output stream; naming `stdout` is not concurrency-safe.
    fflush(nil)
}
