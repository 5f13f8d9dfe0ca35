import Synchronization

/// SLOWLOG (https://redis.io/docs/latest/commands/slowlog-get/): commands that took at least
/// `slowlog-log-slower-than` microseconds, newest first, at most `slowlog-max-len` of them.
final class SlowLog: Sendable {
    struct Entry: Sendable {
        var id: Int
        var timestamp: Int64
        var microseconds: Int
        var arguments: [[UInt8]]
        var clientAddress: String
        var clientName: String
    }

    private struct State {
        var entries: [Entry] = []
        var nextID = 0
    }

    private let state = Mutex(State())

    /// As Redis keeps them: at most 32 arguments, each cut to 128 bytes with a note of the rest.
    static func recordedArguments(_ argv: [[UInt8]]) -> [[UInt8]] {
        var kept = argv.prefix(argv.count > 32 ? 31 : 32).map { argument -> [UInt8] in
            guard argument.count > 128 else { return argument }
            return Array(argument.prefix(128)) + Array("... (\(argument.count - 128) more bytes)".utf8)
        }
        if argv.count > 32 { kept.append(Array("... (\(argv.count - 31) more arguments)".utf8)) }
        return kept
    }

    func record(arguments: [[UInt8]], microseconds: Int, timestamp: Int64, clientAddress: String, clientName: String, maxLength: Int) {
        state.withLock { state in
            state.entries.insert(
                Entry(id: state.nextID, timestamp: timestamp, microseconds: microseconds, arguments: Self.recordedArguments(arguments),
                      clientAddress: clientAddress, clientName: clientName), at: 0)
            state.nextID += 1
            if state.entries.count > maxLength { state.entries.removeLast(state.entries.count - maxLength) }
        }
    }

    func entries(_ count: Int?) -> [Entry] {
        state.withLock { state in count.map { Array(state.entries.prefix($0)) } ?? state.entries }
    }

    var count: Int { state.withLock { $0.entries.count } }

    func reset() {
        state.withLock { $0.entries = [] }
    }
}
