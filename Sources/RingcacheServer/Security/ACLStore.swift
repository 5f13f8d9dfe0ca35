import Synchronization

/// The node's ACL users, shared by all connections. Connections keep a copy of their user and
/// refresh it when `generation` moves, so ACL SETUSER and DELUSER apply to clients already
/// connected, as in Redis, without a lock on the command path.
final class ACLStore: Sendable {
    private let users: Mutex<[String: ACLUser]>
    private let generationCounter = Atomic<Int>(0)

    init() {
        users = Mutex(["default": ACLUser.defaultUser()])
    }

    var generation: Int { generationCounter.load(ordering: .acquiring) }

    func user(named name: String) -> ACLUser? {
        users.withLock { $0[name] }
    }

    var all: [ACLUser] {
        users.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }

    /// Applies rules to a user, creating it if needed; nothing changes if a rule is bad.
    func setUser(_ name: String, rules: [String]) throws(ACLUser.RuleError) {
        var user = users.withLock { $0[name] } ?? ACLUser(name: name)
        for rule in rules { try user.apply(rule) }
        users.withLock { $0[name] = user }
        generationCounter.add(1, ordering: .releasing)
    }

    /// Deletes users (never `default`); returns how many existed.
    func deleteUsers(_ names: [String]) -> Int {
        let removed = users.withLock { users in names.filter { $0 != "default" && users.removeValue(forKey: $0) != nil }.count }
        generationCounter.add(1, ordering: .releasing)
        return removed
    }

    /// `requirepass`: the default user's only password (empty = none, `nopass`).
    func setDefaultPassword(_ password: String) {
        users.withLock { users in
            var user = users["default"] ?? ACLUser.defaultUser()
            try? user.apply("resetpass")
            try? user.apply(password.isEmpty ? "nopass" : ">" + password)
            users["default"] = user
        }
        generationCounter.add(1, ordering: .releasing)
    }

    /// Replaces every user with an aclfile's (`user <name> <rules...>` lines; `#` comments);
    /// the default user is kept unless the file defines it. Throws a one-line error naming
    /// the line, and changes nothing then.
    func load(fileText: String, path: String) throws(ACLUser.RuleError) {
        var loaded: [String: ACLUser] = [:]
        for (number, line) in fileText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            guard first == "user", words.count >= 2 else {
                throw ACLUser.RuleError(message: "\(path):\(number + 1): line should start with user keyword")
            }
            var user = ACLUser(name: words[1])
            for rule in words.dropFirst(2) {
                do {
                    try user.apply(rule)
                } catch {
                    throw ACLUser.RuleError(message: "\(path):\(number + 1): \(error.message). ")
                }
            }
            loaded[user.name] = user
        }
        users.withLock { users in
            if loaded["default"] == nil { loaded["default"] = users["default"] ?? ACLUser.defaultUser() }
            users = loaded
        }
        generationCounter.add(1, ordering: .releasing)
    }

    /// The aclfile text for ACL SAVE.
    var fileText: String {
        all.map(\.description).joined(separator: "\n") + "\n"
    }
}
