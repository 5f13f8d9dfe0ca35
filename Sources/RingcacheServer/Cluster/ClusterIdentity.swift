import Cluster
import Foundation

/// What a node keeps across restarts so that it stays the same member: its id, its ring tokens
/// and its last incarnation, in `dir/cluster-config-file` (default `nodes-<port>.conf`).
///
///     # Ringcache cluster identity; written by the server, do not edit while it runs.
///     id 3f4c...40 hex digits
///     incarnation 4
///     tokens 1125899906842623 2251799813685247 ...
struct ClusterIdentity: Equatable {
    var id: NodeID
    var incarnation: UInt64 = 0
    var tokens: [UInt64] = []

    /// Reads the file, or makes a new identity when there is none. A file that exists but
    /// cannot be read as an identity stops the start (it names the file and line).
    static func load(path: String, generator: inout some RandomNumberGenerator) throws -> ClusterIdentity {
        guard FileManager.default.fileExists(atPath: path) else {
            return ClusterIdentity(id: .random(using: &generator))
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var id: NodeID?
        var identity = ClusterIdentity(id: NodeID(high: 0, middle: 0, low: 0))
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.split(separator: " ")
            guard let keyword = words.first, !keyword.hasPrefix("#") else { continue }
            func bad() -> StartupError { StartupError("bad cluster config file '\(path)' at line \(number + 1): \(line)") }
            switch keyword {
            case "id":
                guard words.count == 2, let parsed = NodeID(hex: words[1]) else { throw bad() }
                id = parsed
            case "incarnation":
                guard words.count == 2, let value = UInt64(words[1]) else { throw bad() }
                identity.incarnation = value
            case "tokens":
                let tokens = words.dropFirst().compactMap { UInt64($0) }
                guard tokens.count == words.count - 1 else { throw bad() }
                identity.tokens = tokens
            default:
                throw bad()
            }
        }
        guard let id else { throw StartupError("bad cluster config file '\(path)': no id line") }
        identity.id = id
        return identity
    }

    /// Writes to a temporary file and renames it over the old one, so a crash leaves either.
    func save(path: String) throws {
        let text = """
            # Ringcache cluster identity; written by the server, do not edit while it runs.
            id \(id.hex)
            incarnation \(incarnation)
            tokens \(tokens.map(String.init).joined(separator: " "))

            """
        let temporary = path + ".tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else { throw StartupError("can't rename \(temporary) to \(path): \(String(cString: strerror(errno)))") }
    }
}
