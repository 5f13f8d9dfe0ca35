#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about this process for INFO server.
enum ProcessInfoSnapshot {
    static let processID = Int(getpid())

    static let operatingSystem: String = {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return "\(field(names.sysname)) \(field(names.release)) \(field(names.machine))"
    }()

    static let executable: String = {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments.first ?? "" }
        return String(decoding: buffer.prefix(length), as: UTF8.self)
    }()

    /// CPU time used by the process (system, user), in seconds with six decimals.
    static func cpuSeconds() -> (system: String, user: String) {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func format(_ time: timeval) -> String {
            let micros = Int(time.tv_usec)
            let padded = String(micros)
            return "\(time.tv_sec)." + String(repeating: "0", count: 6 - padded.count) + padded
        }
        return (format(usage.ru_stime), format(usage.ru_utime))
    }

    /// Resident set size in bytes (INFO's `used_memory_rss`), from /proc/self/statm.
    static func residentSetSize() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0
        var resident = 0
        guard fscanf_two(file, &size, &resident) else { return 0 }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    private static func fscanf_two(_ file: UnsafeMutablePointer<FILE>, _ first: inout Int, _ second: inout Int) -> Bool {
        var buffer = [CChar](repeating: 0, count: 128)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return false }
        let fields = String(cString: buffer).split(separator: " ")
        guard fields.count >= 2, let a = Int(fields[0]), let b = Int(fields[1]) else { return false }
        first = a
        second = b
        return true
    }
}

/// Asking this process to stop the way an operator's SIGTERM does.
enum ProcessSignals {
    static func requestGracefulShutdown() {
        kill(getpid(), SIGTERM)
    }
}
