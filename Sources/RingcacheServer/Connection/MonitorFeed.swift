import NIOCore
import Synchronization

/// The connections that sent MONITOR, and the line each command is shown to them as:
/// `+<unix seconds>.<micros> [0 <client address>] "<arg>" "<arg>" ...` (Redis's format,
/// arguments escaped as sdscatrepr does).
///
/// Connections read `isActive` once per read, so with no monitor attached feeding costs one
/// relaxed atomic load per read.
final class MonitorFeed: Sendable {
    private let monitors = Mutex<[Int: any Channel]>([:])
    private let active = Atomic<Bool>(false)

    var isActive: Bool { active.load(ordering: .relaxed) }

    func add(id: Int, channel: any Channel) {
        monitors.withLock { monitors in
            monitors[id] = channel
            active.store(true, ordering: .relaxed)
        }
    }

    func remove(id: Int) {
        monitors.withLock { monitors in
            guard monitors.removeValue(forKey: id) != nil else { return }
            active.store(!monitors.isEmpty, ordering: .relaxed)
        }
    }

    /// Sends one command to every monitor but `sender` (a monitor does not see itself).
    func feed(_ arguments: [[UInt8]], clientAddress: String, senderID: Int, microseconds: Int64) {
        let targets = monitors.withLock { $0.filter { $0.key != senderID }.map(\.value) }
        guard !targets.isEmpty else { return }
        var line = "+\(microseconds / 1_000_000).\(Self.sixDigits(microseconds % 1_000_000)) [0 \(clientAddress)]"
        for argument in arguments {
            line += " " + Self.quoted(argument)
        }
        line += "\r\n"
        for channel in targets {
            channel.writeAndFlush(channel.allocator.buffer(string: line), promise: nil)
        }
    }

    static func sixDigits(_ value: Int64) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, 6 - text.count)) + text
    }

    /// Redis's sdscatrepr: printable bytes as they are, `\\`, `\"`, `\n`, `\r`, `\t`, `\a`,
    /// `\b`, and `\xhh` for the rest.
    static func quoted(_ bytes: [UInt8]) -> String {
        var text = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): text += "\\\\"
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\n"): text += "\\n"
            case UInt8(ascii: "\r"): text += "\\r"
            case UInt8(ascii: "\t"): text += "\\t"
            case 7: text += "\\a"
            case 8: text += "\\b"
            case 0x20...0x7e: text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16)
                text += "\\x" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return text + "\""
    }
}
