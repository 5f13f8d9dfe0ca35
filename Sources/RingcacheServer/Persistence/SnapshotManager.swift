import CacheEngine
import Logging
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes and loads snapshots (the file format is documented on `SnapshotFormat`).
///
/// Writing walks the keyspace in slices of `recordsPerSlice` keys under the engine lock and does
/// the compression and file I/O outside it; BGSAVE does that on NIO's blocking-I/O thread pool
/// with a short pause between slices, so clients keep their latency. The file is written to a
/// temporary name, fsynced, renamed over the previous snapshot and the directory fsynced, so a
/// crash at any point leaves the previous snapshot whole.
final class SnapshotManager: Sendable {
    struct Status: Sendable {
        var inProgress = false
        var startedAt: Int64 = 0
        var lastSaveTime: Int64
        var lastStatusOK = true
        var lastDurationSeconds = -1
        var saves = 0
        var lastLoadKeys = 0
        var lastLoadExpired = 0
        var lastLoadMilliseconds = 0
    }

    let status: Mutex<Status>
    static let recordsPerSlice = 2000
    static let blockTarget = 4 * 1024 * 1024

    init(now: Int64) {
        status = Mutex(Status(lastSaveTime: now / 1000))
    }

    enum SaveError: Error, CustomStringConvertible {
        case alreadyInProgress
        case io(String)

        var description: String {
            switch self {
            case .alreadyInProgress: return "Background save already in progress"
            case .io(let message): return message
            }
        }
    }

    /// SAVE: writes the snapshot before returning. The caller holds no lock.
    func save(state: ServerState) throws(SaveError) {
        try begin(state: state)
        try write(state: state, pauseBetweenSlices: false)
    }

    /// BGSAVE: starts writing and returns at once.
    func backgroundSave(state: ServerState) throws(SaveError) {
        try begin(state: state)
        NIOThreadPool.singleton.submit { _ in
            try? self.write(state: state, pauseBetweenSlices: true)
        }
    }

    private func begin(state: ServerState) throws(SaveError) {
        let started = status.withLock { status -> Bool in
            guard !status.inProgress else { return false }
            status.inProgress = true
            status.startedAt = WallClock.milliseconds()
            return true
        }
        guard started else { throw .alreadyInProgress }
        guard state.engine.withEngine({ $0.beginSnapshot() }) else {
            status.withLock { $0.inProgress = false }
            throw .alreadyInProgress
        }
    }

    private func write(state: ServerState, pauseBetweenSlices: Bool) throws(SaveError) {
        let configuration = state.configuration.withLock { $0 }
        let startedAt = status.withLock { $0.startedAt }
        let changesAtStart = state.engine.withEngine { $0.stats.changesSinceSave }
        let finalPath = configuration.directory + "/" + configuration.snapshotFileName
        let temporaryPath = configuration.directory + "/temp-\(ProcessInfoSnapshot.processID).snapshot"
        var file = SnapshotFileWriter(path: temporaryPath)
        file.append(SnapshotFormat.header(created: startedAt))
        var block: [UInt8] = []
        var blockRecords = 0
        var total = 0
        while true {
            let abandon = file.failure != nil
            let step = state.engine.withEngine { engine -> (bytes: [UInt8], records: Int, finished: Bool) in
                if abandon { engine.abandonSnapshot() }
                return engine.snapshotStep(maxRecords: Self.recordsPerSlice)
            }
            block += step.bytes
            blockRecords += step.records
            if block.count >= Self.blockTarget || (step.finished && blockRecords > 0) {
                file.append(SnapshotFormat.block(records: block, count: blockRecords))
                total += blockRecords
                block.removeAll(keepingCapacity: true)
                blockRecords = 0
            }
            if step.finished { break }
            if pauseBetweenSlices { usleep(50) }
        }
        file.append(SnapshotFormat.footer(totalRecords: total, checksum: file.checksum))
        var failure = file.finish()
        if failure == nil && rename(temporaryPath, finalPath) != 0 {
            failure = "Renaming \(temporaryPath) to \(finalPath) failed: \(String(cString: strerror(errno)))"
        }
        if failure == nil { Self.syncDirectory(configuration.directory) }
        let finishedAt = WallClock.milliseconds()
        if let failure {
            unlink(temporaryPath)
            state.logger.warning("Snapshot failed", metadata: ["error": "\(failure)"])
        } else {
            state.engine.withEngine { $0.snapshotSaved(changesAtStart: changesAtStart) }
            state.logger.notice("DB saved on disk", metadata: ["keys": "\(total)", "ms": "\(finishedAt - startedAt)", "file": "\(finalPath)"])
        }
        status.withLock { status in
            status.inProgress = false
            status.lastStatusOK = failure == nil
            status.lastDurationSeconds = Int((finishedAt - startedAt) / 1000)
            if failure == nil {
                status.lastSaveTime = finishedAt / 1000
                status.saves += 1
            }
        }
        if let failure { throw .io(failure) }
    }

    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    // MARK: Loading

    enum LoadOutcome {
        case noFile
        case loaded(keys: Int, expired: Int, milliseconds: Int)
    }

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Loads the configured snapshot into the engine before the node serves anyone. Either the
    /// whole file checks out and every unexpired key is loaded, or nothing is.
    func load(state: ServerState) throws(LoadError) -> LoadOutcome {
        let configuration = state.configuration.withLock { $0 }
        let path = configuration.directory + "/" + configuration.snapshotFileName
        let started = WallClock.milliseconds()
        guard let file = Self.readFile(path) else { return .noFile }
        var loaded = 0
        var expired = 0
        let now = WallClock.milliseconds()
        let outcome = state.engine.withEngine { engine -> SnapshotFormat.DecodingError? in
            do throws(SnapshotFormat.DecodingError) {
                _ = try SnapshotFormat.decode(file) { record in
                    if engine.load(record, now: now) { loaded += 1 } else { expired += 1 }
                }
                return nil
            } catch {
                return error
            }
        }
        if let outcome { throw LoadError(description: "bad snapshot '\(path)' \(outcome)") }
        let elapsed = Int(WallClock.milliseconds() - started)
        status.withLock { status in
            status.lastLoadKeys = loaded
            status.lastLoadExpired = expired
            status.lastLoadMilliseconds = elapsed
        }
        return .loaded(keys: loaded, expired: expired, milliseconds: elapsed)
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        let ok = bytes.withUnsafeMutableBytes { raw -> Bool in
            while offset < raw.count {
                let count = read(fd, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        return ok ? bytes : Array(bytes.prefix(offset))
    }
}

/// The temporary snapshot file being written: appends, a running checksum, the first error.
struct SnapshotFileWriter {
    let path: String
    private let fd: Int32
    private(set) var checksum = CRC32C()
    private(set) var failure: String?

    init(path: String) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { failure = "Failed opening \(path) for saving: \(String(cString: strerror(errno)))" }
    }

    mutating func append(_ bytes: [UInt8]) {
        guard failure == nil else { return }
        checksum.update(bytes)
        let written = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let count = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        if !written { failure = "Write error saving \(path): \(String(cString: strerror(errno)))" }
    }

    /// Flushes the file to disk and closes it; returns the first error, if any.
    mutating func finish() -> String? {
        if failure == nil && fsync(fd) != 0 { failure = "fsync of \(path) failed: \(String(cString: strerror(errno)))" }
        if fd >= 0 { close(fd) }
        return failure
    }
}
