import FuzzTargets

#if FUZZING
/// libFuzzer's entry point (built by `fuzz/run` with `-sanitize=fuzzer`); the target is
/// chosen by RINGCACHE_FUZZ_TARGET (`resp` or `engine`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: count > 0 ? data : nil, count: count)
    switch FuzzSelection.target {
    case .resp: FuzzTargets.respParser(bytes)
    case .engine: FuzzTargets.engineCommands(bytes)
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's entry point as `<module>_main`; hand control to libFuzzer's
/// driver from there.
@_cdecl("ringcache_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
import Foundation

/// Without the fuzzer: replays files through a target, `ringcache-fuzz resp|engine FILE...`.
@main
struct ReplayMain {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzSelection.Target(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: ringcache-fuzz resp|engine FILE...\n".utf8))
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            data.withUnsafeBytes { bytes in
                switch target {
                case .resp: FuzzTargets.respParser(bytes)
                case .engine: FuzzTargets.engineCommands(bytes)
                }
            }
        }
    }
}
#endif

enum FuzzSelection {
    enum Target: String {
        case resp
        case engine
    }

    static let target: Target = {
        guard let value = getenv("RINGCACHE_FUZZ_TARGET") else { return .resp }
        return Target(rawValue: String(cString: value)) ?? .resp
    }()
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
