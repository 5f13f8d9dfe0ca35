import CacheEngine
import Synchronization

/// Calls, time and errors per command, and errors per code: what INFO commandstats and
/// errorstats report and what /metrics exports.
///
/// Connections do not touch this table per command. Each one notes its commands in a batch
/// (`CommandBatch`, no locks, no atomics) and merges the batch here once per read, so a
/// pipeline of a thousand commands costs one lock.
final class CommandStatistics: Sendable {
    /// Upper bounds of the latency histogram buckets, in microseconds (Prometheus `le`).
    static let bucketBounds: [Int] = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 50_000, 250_000, 1_000_000]

    struct Entry: Sendable {
        var calls = 0
        var microseconds = 0
        var rejected = 0
        var failed = 0
        /// Cumulative counts per bucket bound, plus one for +Inf at the end.
        var buckets = [Int](repeating: 0, count: CommandStatistics.bucketBounds.count + 1)
    }

    private let commands = Mutex<[Entry]>(Array(repeating: Entry(), count: Command.allCases.count))
    private let errors = Mutex<[String: Int]>([:])

    func merge(_ batch: inout CommandBatch) {
        guard !batch.isEmpty else { return }
        commands.withLock { table in
            // In place: a copy of the entry would share its bucket array with the table and
            // make the increment copy that array, an allocation per command.
            for note in batch.notes {
                let index = Int(note.command)
                switch note.outcome {
                case .rejected:
                    table[index].rejected += 1
                case .failed, .succeeded:
                    table[index].calls += 1
                    table[index].microseconds += note.microseconds
                    if note.outcome == .failed { table[index].failed += 1 }
                    let bucket = Self.bucketBounds.firstIndex { note.microseconds <= $0 } ?? Self.bucketBounds.count
                    table[index].buckets[bucket] += 1
                }
            }
        }
        if !batch.errorCodes.isEmpty {
            errors.withLock { errors in
                for code in batch.errorCodes { errors[code, default: 0] += 1 }
            }
        }
        batch.removeAll()
    }

    func snapshot() -> [(Command, Entry)] {
        let table = commands.withLock { $0 }
        return Command.allCases.map { ($0, table[Int($0.rawValue)]) }
    }

    func errorCounts() -> [String: Int] {
        errors.withLock { $0 }
    }

    func reset() {
        commands.withLock { $0 = Array(repeating: Entry(), count: Command.allCases.count) }
        errors.withLock { $0 = [:] }
    }
}

/// One connection's commands since its last merge.
struct CommandBatch {
    enum Outcome: UInt8 {
        case succeeded, failed, rejected
    }

    struct Note {
        var command: UInt8
        var outcome: Outcome
        var microseconds: Int
    }

    private(set) var notes: [Note] = []
    /// Error codes (`ERR`, `WRONGTYPE`, ...) replied in this batch, for errorstats.
    private(set) var errorCodes: [String] = []

    var isEmpty: Bool { notes.isEmpty && errorCodes.isEmpty }

    mutating func note(_ command: Command, _ outcome: Outcome, microseconds: Int) {
        notes.append(Note(command: command.rawValue, outcome: outcome, microseconds: microseconds))
    }

    mutating func noteError(code: String) {
        errorCodes.append(code)
    }

    mutating func removeAll() {
        // Keep the capacity of a typical pipeline; let an unusually long one go.
        notes.removeAll(keepingCapacity: notes.capacity <= 1024)
        errorCodes.removeAll(keepingCapacity: true)
    }
}
