import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Log lines in redis-server's shape, which operators already read and grep:
/// `pid:M 29 Nov 2026 10:00:00.123 * message key=value`, where the mark is `.` debug,
/// `-` verbose (info), `*` notice and `#` warning or worse.
struct RedisStyleLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let sink: LogSink

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let mark: Character
        switch event.level {
        case .trace, .debug: mark = "."
        case .info: mark = "-"
        case .notice: mark = "*"
        case .warning, .error, .critical: mark = "#"
        }
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let fields = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        sink.write("\(ProcessInfoSnapshot.processID):M \(Self.timestamp()) \(mark) \(event.message)\(fields)\n")
    }

    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%d %b %Y %H:%M:%S", &parts)
        let text = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let millis = Int(spec.tv_nsec / 1_000_000)
        return text + "." + (millis < 10 ? "00" : millis < 100 ? "0" : "") + String(millis)
    }
}

/// Where log lines go: standard output, or the `logfile`, appended. Each line is one write(2)
/// under a lock, so lines from different threads never interleave.
final class LogSink: Sendable {
    private let descriptor: Mutex<Int32>

    init(path: String) throws {
        if path.isEmpty {
            descriptor = Mutex(STDOUT_FILENO)
        } else {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw StartupError("Can't open the log file \(path): \(String(cString: strerror(errno)))")
            }
            descriptor = Mutex(fd)
        }
    }

    func write(_ line: String) {
        descriptor.withLock { fd in
            Self.writeAll(fd, line)
        }
    }

    static func writeAll(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var offset = 0
            while offset < utf8.count {
                let written = unistd_write(fd, utf8.baseAddress! + offset, utf8.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// write(2), named apart from `LogSink.write`.
private func unistd_write(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
