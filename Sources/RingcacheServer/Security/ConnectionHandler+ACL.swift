import CacheEngine
import Foundation
import NIOCore
import RESP

/// AUTH, ACL, and the checks every command passes: authentication (NOAUTH), the user's
/// command, key and channel permissions (NOPERM, with Redis 7.0's texts), and the
/// per-connection rate limit.
extension ConnectionHandler {
    /// Refreshes this connection's copy of its user when the ACL changed (a deleted user's
    /// connection is no longer authenticated).
    func refreshUser() {
        let generation = state.acl.generation
        guard generation != aclGeneration else { return }
        aclGeneration = generation
        guard let name = user?.name else { return }
        user = state.acl.user(named: name).flatMap { $0.enabled ? $0 : nil }
        userUnrestricted = user?.isUnrestricted ?? false
    }

    /// Logs in as `name` if `password` is right; the reply is the caller's.
    func authenticate(_ name: String, _ password: String) -> Bool {
        guard let candidate = state.acl.user(named: name), candidate.accepts(password: password) else { return false }
        user = candidate
        userUnrestricted = candidate.isUnrestricted
        aclGeneration = state.acl.generation
        record?.details.withLock { $0.user = name }
        return true
    }

    /// RESET, and a new connection: the default user if it is enabled and needs no password
    /// (then every connection starts authenticated as it, as in Redis), otherwise nobody.
    func authenticateAsDefaultUserIfOpen() {
        let defaultUser = state.acl.user(named: "default")
        if let defaultUser, defaultUser.enabled, defaultUser.noPassword {
            user = defaultUser
            userUnrestricted = defaultUser.isUnrestricted
        } else {
            user = nil
            userUnrestricted = false
        }
        aclGeneration = state.acl.generation
    }

    /// The error a command gets before it runs, if any.
    func accessError(_ spec: CommandSpec, _ argv: Argv) -> String? {
        guard let user else {
            return spec.flags.contains("no_auth") ? nil : "NOAUTH Authentication required."
        }
        // AUTH, HELLO and QUIT stay open to every user, as in Redis.
        if userUnrestricted || spec.flags.contains("no_auth") { return nil }
        guard user.allows(spec.command) else { return "NOPERM this user has no permissions to run the '\(Self.fullName(spec, argv))' command" }
        var everyKeyAllowed = true
        spec.forEachKeyPosition(in: argv) { index in
            if everyKeyAllowed && !user.allowsKey(argv[index]) { everyKeyAllowed = false }
        }
        if !everyKeyAllowed { return "NOPERM this user has no permissions to access one of the keys used as arguments" }
        let channels: Range<Int>
        switch spec.command {
        case .publish: channels = 1..<2
        case .subscribe, .psubscribe: channels = 1..<argv.count
        default: channels = 0..<0
        }
        for index in channels where !user.allowsChannel(argv[index]) {
            return "NOPERM this user has no permissions to access one of the channels used as arguments"
        }
        return nil
    }

    /// The per-connection token bucket (`client-rate-limit`): whether this command may run.
    func withinRateLimit(now: Int64) -> Bool {
        let rate = state.clientRateLimit.load(ordering: .relaxed)
        guard rate > 0 else { return true }
        return rateBucket.take(now: now, rate: rate, burst: state.clientRateBurst.load(ordering: .relaxed))
    }

    /// AUTH [username] password
    func auth(_ argv: Argv) {
        guard argv.count <= 3 else {
            writer.error(ErrorReply.syntax)
            return
        }
        let name = argv.count == 3 ? String(decoding: argv[1], as: UTF8.self) : "default"
        let password = String(decoding: argv[argv.count - 1], as: UTF8.self)
        if argv.count == 2, state.acl.user(named: "default")?.noPassword == true {
            writer.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
            return
        }
        if authenticate(name, password) {
            writer.ok()
        } else {
            writer.error("WRONGPASS invalid username-password pair or user is disabled.")
        }
    }

    /// ACL SETUSER/GETUSER/DELUSER/LIST/USERS/WHOAMI/CAT/LOAD/SAVE/HELP
    func acl(_ argv: Argv) {
        let subcommand = String(decoding: argv[1], as: UTF8.self).uppercased()
        let words = (2..<argv.count).map { String(decoding: argv[$0], as: UTF8.self) }
        switch (subcommand, words.count) {
        case ("SETUSER", 1...):
            do {
                try state.acl.setUser(words[0], rules: Array(words.dropFirst()))
                writer.ok()
            } catch {
                let failing = words.dropFirst().first { rule in
                    var probe = ACLUser(name: words[0])
                    do { try probe.apply(rule) } catch { return true }
                    return false
                } ?? ""
                writer.error("ERR Error in ACL SETUSER modifier '\(failing)': \(error.message)")
            }
        case ("GETUSER", 1):
            guard let found = state.acl.user(named: words[0]) else {
                writer.null()
                return
            }
            writer.mapHeader(6)
            writer.bulk("flags")
            writer.arrayHeader(found.flags.count)
            for flag in found.flags { writer.bulk(flag) }
            writer.bulk("passwords")
            writer.arrayHeader(found.passwordHashes.count)
            for hash in found.passwordHashes { writer.bulk(hash) }
            writer.bulk("commands")
            writer.bulk(found.commandRules.joined(separator: " "))
            writer.bulk("keys")
            writer.bulk(found.keysDescription)
            writer.bulk("channels")
            writer.bulk(found.channelsDescription)
            writer.bulk("selectors")
            writer.arrayHeader(0)
        case ("DELUSER", 1...):
            if words.contains("default") {
                writer.error("ERR The 'default' user cannot be removed")
                return
            }
            writer.integer(state.acl.deleteUsers(words))
        case ("LIST", 0):
            let lines = state.acl.all.map(\.description)
            writer.arrayHeader(lines.count)
            for line in lines { writer.bulk(line) }
        case ("USERS", 0):
            let names = state.acl.all.map(\.name)
            writer.arrayHeader(names.count)
            for name in names { writer.bulk(name) }
        case ("WHOAMI", 0):
            writer.bulk(user?.name ?? "default")
        case ("CAT", 0):
            writer.arrayHeader(ACLCategories.all.count)
            for category in ACLCategories.all { writer.bulk(category) }
        case ("CAT", 1):
            let category = words[0].lowercased()
            guard ACLCategories.all.contains(category) else {
                writer.error("ERR Unknown category '\(words[0])'")
                return
            }
            let names = commandTable.specs.filter { $0.aclCategories.contains("@" + category) }.map(\.name)
            writer.arrayHeader(names.count)
            for name in names { writer.bulk(name) }
        case ("LOAD", 0):
            do {
                try state.loadACLFile()
                writer.ok()
            } catch {
                writer.error("ERR \(error.message)")
            }
        case ("SAVE", 0):
            let path = state.configuration.withLock { $0.aclFile }
            guard !path.isEmpty else {
                writer.error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
                return
            }
            do {
                try state.acl.fileText.write(toFile: path, atomically: true, encoding: .utf8)
                writer.ok()
            } catch {
                writer.error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
            }
        case ("HELP", 0):
            writer.simpleStrings([
                "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CAT [<category>]", "    List all commands that belong to <category>, or all command categories",
                "    when no category is specified.",
                "DELUSER <username> [<username> ...]", "    Delete a list of users.",
                "GETUSER <username>", "    Get the user's details.",
                "LIST", "    Show users details in config file format.",
                "LOAD", "    Reload users from the ACL file.",
                "SAVE", "    Save the current config to the ACL file.",
                "SETUSER <username> <attribute> [<attribute> ...]", "    Create or modify a user with the specified attributes.",
                "USERS", "    List all the registered usernames.",
                "WHOAMI", "    Return the current connection username.",
                "HELP", "    Print this help.",
            ])
        default:
            writer.error(ErrorReply.unknownSubcommand(String(decoding: argv[1], as: UTF8.self), of: "acl"))
        }
    }
}

extension ServerState {
    /// Loads `aclfile` (start-up and ACL LOAD).
    func loadACLFile() throws(ACLUser.RuleError) {
        let path = configuration.withLock { $0.aclFile }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ACLUser.RuleError(message: "Error loading ACLs, opening file '\(path)': No such file or directory")
        }
        try acl.load(fileText: text, path: path)
    }
}

/// A token bucket: `rate` tokens a second up to `burst`, one per command. Pure: time comes in.
struct TokenBucket {
    var tokens = -1.0
    var updatedAt: Int64 = 0

    mutating func take(now: Int64, rate: Int, burst: Int) -> Bool {
        if tokens < 0 {
            tokens = Double(burst)
        } else {
            tokens = min(Double(burst), tokens + Double(max(0, now - updatedAt)) * Double(rate) / 1000)
        }
        updatedAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// Protected mode (as Redis's): with no password on an enabled default user, only clients
/// from a loopback address are served.
enum ProtectedMode {
    static let denial = "DENIED Ringcache is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Ringcache you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Ringcache from the same host the server is running, however MAKE SURE Ringcache is not publicly accessible from internet if you do so. 2) Alternatively you can just disable the protected mode by editing the configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

    static func denies(peer: SocketAddress?, enabled: Bool, defaultUser: ACLUser?) -> Bool {
        guard enabled, let defaultUser, defaultUser.enabled, defaultUser.noPassword else { return false }
        switch peer {
        case .v4(let address)?:
            return address.address.sin_addr.s_addr.bigEndian >> 24 != 127
        case .v6?:
            let address = peer?.ipAddress ?? ""
            return address != "::1" && !address.hasPrefix("::ffff:127.")
        case .unixDomainSocket?, nil:
            return false
        }
    }
}
