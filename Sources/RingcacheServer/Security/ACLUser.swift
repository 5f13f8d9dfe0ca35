import CacheEngine
import Cluster

/// One ACL user (https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/):
/// whether it is enabled, its passwords (SHA-256, hex, never the clear text), the commands it
/// may run, and the key and channel patterns it may touch.
///
/// Contract: a value, changed only by `apply(_:)` with Redis's rule grammar; rules apply in
/// order, each on the result of the ones before.
struct ACLUser: Sendable, Equatable {
    let name: String
    var enabled = false
    var noPassword = false
    var passwordHashes: [String] = []
    /// Indexed by `Command.rawValue`.
    var allowed: [Bool] = Array(repeating: false, count: Command.allCases.count)
    /// The command rules as given since the last `+@all`/`-@all`, for ACL LIST and GETUSER.
    var commandRules: [String] = ["-@all"]
    var allKeys = false
    var keyPatterns: [[UInt8]] = []
    var allChannels = false
    var channelPatterns: [[UInt8]] = []

    init(name: String) {
        self.name = name
    }

    /// Redis's default user: everything allowed, no password.
    static func defaultUser() -> ACLUser {
        var user = ACLUser(name: "default")
        for rule in ["on", "nopass", "~*", "&*", "+@all"] { try! user.apply(rule) }
        return user
    }

    /// Whether no check is needed: every command, key and channel allowed.
    var isUnrestricted: Bool { allKeys && allChannels && !allowed.contains(false) }

    struct RuleError: Error {
        let message: String
    }

    static func hash(_ password: String) -> String {
        SHA256.hash(Array(password.utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// Applies one rule: on, off, nopass, resetpass, >password, <password, #hash, !hash,
    /// +command, -command, +@category, -@category, allcommands, nocommands, ~pattern, allkeys,
    /// resetkeys, &pattern, allchannels, resetchannels, reset.
    mutating func apply(_ rule: String) throws(RuleError) {
        let lowered = rule.lowercased()
        switch lowered {
        case "on": enabled = true
        case "off": enabled = false
        case "nopass":
            noPassword = true
            passwordHashes = []
        case "resetpass":
            noPassword = false
            passwordHashes = []
        case "allkeys": allKeys = true; keyPatterns = []
        case "resetkeys": allKeys = false; keyPatterns = []
        case "allchannels": allChannels = true; channelPatterns = []
        case "resetchannels": allChannels = false; channelPatterns = []
        case "allcommands": try apply("+@all")
        case "nocommands": try apply("-@all")
        case "reset":
            self = ACLUser(name: name)
        default:
            guard let first = rule.first else { throw RuleError(message: "Syntax error") }
            let rest = String(rule.dropFirst())
            switch first {
            case ">":
                noPassword = false
                let hashed = Self.hash(rest)
                if !passwordHashes.contains(hashed) { passwordHashes.append(hashed) }
            case "<":
                let hashed = Self.hash(rest)
                guard passwordHashes.contains(hashed) else { throw RuleError(message: "The password you are trying to remove from the user does not exist") }
                passwordHashes.removeAll { $0 == hashed }
            case "#":
                guard rest.count == 64, rest.allSatisfy(\.isHexDigit) else {
                    throw RuleError(message: "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
                }
                noPassword = false
                if !passwordHashes.contains(rest.lowercased()) { passwordHashes.append(rest.lowercased()) }
            case "!":
                guard passwordHashes.contains(rest.lowercased()) else { throw RuleError(message: "The password you are trying to remove from the user does not exist") }
                passwordHashes.removeAll { $0 == rest.lowercased() }
            case "~":
                guard !allKeys else { throw RuleError(message: "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns") }
                if rest == "*" { allKeys = true; keyPatterns = [] } else { keyPatterns.append(Array(rest.utf8)) }
            case "&":
                guard !allChannels else { throw RuleError(message: "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels") }
                if rest == "*" { allChannels = true; channelPatterns = [] } else { channelPatterns.append(Array(rest.utf8)) }
            case "+", "-":
                try applyCommandRule(adding: first == "+", rest.lowercased(), original: rule)
            default:
                throw RuleError(message: "Syntax error")
            }
        }
    }

    private mutating func applyCommandRule(adding: Bool, _ target: String, original: String) throws(RuleError) {
        let table = CommandTable.shared
        if target.hasPrefix("@") {
            let category = String(target.dropFirst())
            if category == "all" {
                allowed = Array(repeating: adding, count: allowed.count)
                commandRules = [original.lowercased()]
                return
            }
            guard ACLCategories.all.contains(category) else { throw RuleError(message: "Unknown command or category name in ACL") }
            for spec in table.specs where spec.aclCategories.contains("@" + category) { allowed[Int(spec.command.rawValue)] = adding }
        } else {
            guard let spec = table.lookup(target) else { throw RuleError(message: "Unknown command or category name in ACL") }
            allowed[Int(spec.command.rawValue)] = adding
        }
        commandRules.append(original.lowercased())
    }

    func allows(_ command: Command) -> Bool { allowed[Int(command.rawValue)] }

    func allowsKey(_ key: UnsafeRawBufferPointer) -> Bool {
        allKeys || keyPatterns.contains { pattern in pattern.withUnsafeBytes { GlobPattern.matches($0, key) } }
    }

    func allowsChannel(_ channel: UnsafeRawBufferPointer) -> Bool {
        allChannels || channelPatterns.contains { pattern in pattern.withUnsafeBytes { GlobPattern.matches($0, channel) } }
    }

    func accepts(password: String) -> Bool {
        enabled && (noPassword || passwordHashes.contains(Self.hash(password)))
    }

    var flags: [String] {
        [enabled ? "on" : "off"] + (noPassword ? ["nopass"] : [])
    }

    var keysDescription: String { allKeys ? "~*" : keyPatterns.map { "~" + String(decoding: $0, as: UTF8.self) }.joined(separator: " ") }

    var channelsDescription: String {
        allChannels ? "&*" : channelPatterns.map { "&" + String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// The user as ACL LIST and an aclfile show it: `user alice on #… ~cache:* resetchannels &news -@all +@read`.
    var description: String {
        var words = ["user", name] + flags + passwordHashes.map { "#" + $0 }
        if !keysDescription.isEmpty { words.append(keysDescription) }
        if !allChannels { words.append("resetchannels") }
        if !channelsDescription.isEmpty { words.append(channelsDescription) }
        words += commandRules
        return words.joined(separator: " ")
    }
}

/// The ACL categories, as ACL CAT lists them.
enum ACLCategories {
    static let all = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
                      "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting"]
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
