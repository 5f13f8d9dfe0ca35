/// Finds a command by name, case-insensitively, without making a String: the name is folded to
/// lower case into three machine words and looked up in a small open-addressing table keyed by
/// them, hashed by one multiplication (the names are fixed and few, so no flooding concerns).
public struct CommandTable: Sendable {
    public static let shared = CommandTable()
    public let specs: [CommandSpec]
    /// Slot → index into `names` and `specs` plus one; 0 = empty. Linear probing.
    private let slots: [UInt16]
    private let names: [PackedName]
    private let mask: Int

    /// Command names are at most 24 bytes (Redis's longest: `georadiusbymember_ro`, 20).
    struct PackedName: Equatable, Sendable {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        @inline(__always)
        init?(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count > 0, bytes.count <= 24 else { return nil }
            withUnsafeMutableBytes(of: &words) { raw in
                for index in 0..<bytes.count {
                    var byte = bytes[index]
                    if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
                    raw[index] = byte
                }
            }
        }
        static func == (lhs: PackedName, rhs: PackedName) -> Bool {
            lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
        }
        @inline(__always)
        var hash: Int {
            let mixed = (words.0 &* 0x9E37_79B9_7F4A_7C15) ^ (words.1 &* 0xD6E8_FEB8_6659_FD93) ^ words.2
            return Int(truncatingIfNeeded: mixed >> 32 ^ mixed)
        }
    }

    init() {
        specs = Self.allSpecs
        var capacity = 16
        while capacity < specs.count * 4 { capacity *= 2 }
        mask = capacity - 1
        var slots = [UInt16](repeating: 0, count: capacity)
        var names: [PackedName] = []
        for spec in specs {
            var name = spec.name
            let key = name.withUTF8 { PackedName(UnsafeRawBufferPointer($0))! }
            var slot = key.hash & mask
            while slots[slot] != 0 {
                precondition(names[Int(slots[slot]) - 1] != key, "command \(spec.name) listed twice")
                slot = (slot + 1) & mask
            }
            names.append(key)
            slots[slot] = UInt16(names.count)
        }
        self.slots = slots
        self.names = names
    }

    public func lookup(_ name: UnsafeRawBufferPointer) -> CommandSpec? {
        guard let key = PackedName(name) else { return nil }
        var slot = key.hash & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if names[entry - 1] == key { return specs[entry - 1] }
            slot = (slot + 1) & mask
        }
    }
    public func lookup(_ name: String) -> CommandSpec? {
        var name = name
        return name.withUTF8 { lookup(UnsafeRawBufferPointer($0)) }
    }
    public func spec(_ command: Command) -> CommandSpec {
        specs.first { $0.command == command }!
    }
}

extension CommandTable {
    private static func spec(
        _ command: Command, _ arity: Int, _ flags: [String], keys: (Int, Int, Int) = (0, 0, 0), keyCount: Int = 0,
        storeKey: StoreKeyOption = .none, acl: [String], group: String, since: String, executor: CommandExecutor = .engine, _ summary: String
    ) -> CommandSpec {
        CommandSpec(
            command: command, name: command == .clThrottle ? "cl.throttle" : "\(command)", arity: arity, flags: flags,
            firstKey: keys.0, lastKey: keys.1, keyStep: keys.2, keyCountIndex: keyCount, storeKeyOption: storeKey, aclCategories: acl,
            group: group, since: since, summary: summary, executor: executor)
    }
    static let allSpecs: [CommandSpec] = [
        // connection and server
        spec(.ping, -1, ["fast"], acl: ["@fast", "@connection"], group: "connection", since: "1.0.0", executor: .server, "Returns the server's liveliness response."),
        spec(.auth, -2, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], acl: ["@fast", "@connection"], group: "connection", since: "1.0.0", executor: .server, "Authenticates the connection."),
        spec(.acl, -2, [], acl: ["@slow"], group: "server", since: "6.0.0", executor: .server, "A container for Access List Control commands."),
        spec(.echo, 2, ["fast"], acl: ["@fast", "@connection"], group: "connection", since: "1.0.0", executor: .server, "Returns the given string."),
        spec(.quit, -1, ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"], acl: ["@fast", "@connection"], group: "connection", since: "1.0.0", executor: .server, "Closes the connection."),
        spec(.reset, 1, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], acl: ["@fast", "@connection"], group: "connection", since: "6.2.0", executor: .server, "Resets the connection."),
        spec(.hello, -1, ["noscript", "loading", "stale", "fast", "no_auth"], acl: ["@fast", "@connection"], group: "connection", since: "6.0.0", executor: .server, "Handshakes with the server, choosing RESP2 or RESP3."),
        spec(.select, 2, ["loading", "stale", "fast"], acl: ["@fast", "@connection"], group: "connection", since: "1.0.0", executor: .server, "Changes the selected database (only database 0 exists)."),
        spec(.client, -2, [], acl: ["@slow", "@connection"], group: "connection", since: "2.4.0", executor: .server, "A container for client connection commands."),
        spec(.command, -1, ["loading", "stale"], acl: ["@slow", "@connection"], group: "server", since: "2.8.13", executor: .server, "Returns detailed information about all commands."),
        spec(.info, -1, ["loading", "stale"], acl: ["@slow", "@dangerous"], group: "server", since: "1.0.0", executor: .server, "Returns information and statistics about the server."),
        spec(.config, -2, [], acl: ["@slow", "@admin", "@dangerous"], group: "server", since: "2.0.0", executor: .server, "A container for server configuration commands."),
        spec(.dbsize, 1, ["readonly", "fast"], acl: ["@keyspace", "@read", "@fast"], group: "server", since: "1.0.0", "Returns the number of keys in the database."),
        spec(.flushdb, -1, ["write"], acl: ["@keyspace", "@write", "@slow", "@dangerous"], group: "server", since: "1.0.0", "Removes all keys from the current database."),
        spec(.flushall, -1, ["write"], acl: ["@keyspace", "@write", "@slow", "@dangerous"], group: "server", since: "1.0.0", "Removes all keys from all databases."),
        spec(.memory, -2, [], acl: ["@slow"], group: "server", since: "4.0.0", "A container for memory diagnostics commands."),
        spec(.shutdown, -1, ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"], acl: ["@admin", "@slow", "@dangerous"], group: "server", since: "1.0.0", executor: .server, "Synchronously saves the database(s) to disk and shuts down the Redis server."),
        spec(.latency, -2, [], acl: ["@slow"], group: "server", since: "2.8.13", executor: .server, "A container for latency diagnostics commands."),
        spec(.subscribe, -2, ["pubsub", "noscript", "loading", "stale"], acl: ["@pubsub", "@slow"], group: "pubsub", since: "2.0.0", executor: .server, "Listens for messages published to channels."),
        spec(.unsubscribe, -1, ["pubsub", "noscript", "loading", "stale"], acl: ["@pubsub", "@slow"], group: "pubsub", since: "2.0.0", executor: .server, "Stops listening to messages posted to channels."),
        spec(.psubscribe, -2, ["pubsub", "noscript", "loading", "stale"], acl: ["@pubsub", "@slow"], group: "pubsub", since: "2.0.0", executor: .server, "Listens for messages published to channels that match one or more patterns."),
        spec(.punsubscribe, -1, ["pubsub", "noscript", "loading", "stale"], acl: ["@pubsub", "@slow"], group: "pubsub", since: "2.0.0", executor: .server, "Stops listening to messages published to channels that match one or more patterns."),
        spec(.publish, 3, ["pubsub", "loading", "stale", "fast"], acl: ["@pubsub", "@fast"], group: "pubsub", since: "2.0.0", executor: .server, "Posts a message to a channel."),
        spec(.pubsub, -2, [], acl: ["@slow"], group: "pubsub", since: "2.8.0", executor: .server, "A container for Pub/Sub commands."),
        spec(.monitor, 1, ["admin", "noscript", "loading", "stale"], acl: ["@admin", "@slow", "@dangerous"], group: "server", since: "1.0.0", executor: .server, "Listens for all requests received by the server in real-time."),
        spec(.readonly, 1, ["loading", "stale", "fast"], acl: ["@fast", "@connection"], group: "cluster", since: "3.0.0", executor: .server, "Enables read-only queries for a connection to a Redis Cluster replica node."),
        spec(.readwrite, 1, ["loading", "stale", "fast"], acl: ["@fast", "@connection"], group: "cluster", since: "3.0.0", executor: .server, "Enables read-write queries for a connection to a Redis Cluster replica node."),
        spec(.asking, 1, ["fast"], acl: ["@fast", "@connection"], group: "cluster", since: "3.0.0", executor: .server, "Signals that a cluster client is following an -ASK redirect."),
        spec(.multi, 1, ["noscript", "loading", "stale", "fast", "allow_busy"], acl: ["@fast", "@transaction"], group: "transactions", since: "1.2.0", executor: .server, "Starts a transaction."),
        spec(.exec, 1, ["noscript", "loading", "stale", "skip_slowlog"], acl: ["@slow", "@transaction"], group: "transactions", since: "1.2.0", executor: .server, "Executes all commands in a transaction."),
        spec(.discard, 1, ["noscript", "loading", "stale", "fast", "allow_busy"], acl: ["@fast", "@transaction"], group: "transactions", since: "2.0.0", executor: .server, "Discards a transaction."),
        spec(.watch, -2, ["noscript", "loading", "stale", "fast", "allow_busy"], keys: (1, -1, 1), acl: ["@fast", "@transaction"], group: "transactions", since: "2.2.0", executor: .server, "Monitors changes to keys to determine the execution of a transaction."),
        spec(.unwatch, 1, ["noscript", "loading", "stale", "fast", "allow_busy"], acl: ["@fast", "@transaction"], group: "transactions", since: "2.2.0", executor: .server, "Forgets about watched keys of a transaction."),
        spec(.wait, 3, ["noscript"], acl: ["@slow", "@connection"], group: "generic", since: "3.0.0", executor: .server, "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed."),
        spec(.cluster, -2, [], acl: ["@slow"], group: "cluster", since: "3.0.0", executor: .server, "A container for Redis Cluster commands."),
        spec(.save, 1, ["admin", "noscript", "no_async_loading", "no_multi"], acl: ["@admin", "@slow", "@dangerous"], group: "server", since: "1.0.0", executor: .server, "Synchronously saves the database(s) to disk."),
        spec(.bgsave, -1, ["admin", "noscript", "no_async_loading"], acl: ["@admin", "@slow", "@dangerous"], group: "server", since: "1.0.0", executor: .server, "Asynchronously saves the database(s) to disk."),
        spec(.lastsave, 1, ["loading", "stale", "fast"], acl: ["@admin", "@fast", "@dangerous"], group: "server", since: "1.0.0", executor: .server, "Returns the Unix timestamp of the last successful save to disk."),
        spec(.slowlog, -2, [], acl: ["@slow"], group: "server", since: "2.2.12", executor: .server, "A container for slow log commands."),
        spec(.time, 1, ["loading", "stale", "fast"], acl: ["@fast"], group: "server", since: "2.6.0", executor: .server, "Returns the server time."),
        // strings
        spec(.get, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@string", "@fast"], group: "string", since: "1.0.0", "Returns the string value of a key."),
        spec(.set, -3, ["write", "denyoom"], keys: (1, 1, 1), acl: ["@write", "@string", "@slow"], group: "string", since: "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
        spec(.setnx, 3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "1.0.0", "Set the string value of a key only when the key doesn't exist."),
        spec(.setex, 4, ["write", "denyoom"], keys: (1, 1, 1), acl: ["@write", "@string", "@slow"], group: "string", since: "2.0.0", "Sets the string value and expiration time of a key."),
        spec(.psetex, 4, ["write", "denyoom"], keys: (1, 1, 1), acl: ["@write", "@string", "@slow"], group: "string", since: "2.6.0", "Sets both string value and expiration time in milliseconds of a key."),
        spec(.getset, 3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "1.0.0", "Returns the previous string value of a key after setting it to a new value."),
        spec(.getdel, 2, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "6.2.0", "Returns the string value of a key after deleting the key."),
        spec(.getex, -2, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "6.2.0", "Returns the string value of a key after setting its expiration time."),
        spec(.mget, -2, ["readonly", "fast"], keys: (1, -1, 1), acl: ["@read", "@string", "@fast"], group: "string", since: "1.0.0", "Atomically returns the string values of one or more keys."),
        spec(.mset, -3, ["write", "denyoom"], keys: (1, -1, 2), acl: ["@write", "@string", "@slow"], group: "string", since: "1.0.1", "Atomically creates or modifies the string values of one or more keys."),
        spec(.msetnx, -3, ["write", "denyoom"], keys: (1, -1, 2), acl: ["@write", "@string", "@slow"], group: "string", since: "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist."),
        spec(.incr, 2, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
        spec(.decr, 2, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
        spec(.incrby, 3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
        spec(.decrby, 3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."),
        spec(.incrbyfloat, 3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
        spec(.append, 3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@string", "@fast"], group: "string", since: "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist."),
        spec(.strlen, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@string", "@fast"], group: "string", since: "2.2.0", "Returns the length of a string value."),
        spec(.getrange, 4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@string", "@slow"], group: "string", since: "2.4.0", "Returns a substring of the string stored at a key."),
        spec(.substr, 4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@string", "@slow"], group: "string", since: "1.0.0", "Returns a substring from a string value."),
        spec(.setrange, 4, ["write", "denyoom"], keys: (1, 1, 1), acl: ["@write", "@string", "@slow"], group: "string", since: "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."),
        // keys
        spec(.del, -2, ["write"], keys: (1, -1, 1), acl: ["@keyspace", "@write", "@slow"], group: "generic", since: "1.0.0", "Deletes one or more keys."),
        spec(.unlink, -2, ["write", "fast"], keys: (1, -1, 1), acl: ["@keyspace", "@write", "@fast"], group: "generic", since: "4.0.0", "Asynchronously deletes one or more keys."),
        spec(.exists, -2, ["readonly", "fast"], keys: (1, -1, 1), acl: ["@keyspace", "@read", "@fast"], group: "generic", since: "1.0.0", "Determines whether one or more keys exist."),
        spec(.expire, -3, ["write", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@write", "@fast"], group: "generic", since: "1.0.0", "Sets the expiration time of a key in seconds."),
        spec(.pexpire, -3, ["write", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@write", "@fast"], group: "generic", since: "2.6.0", "Sets the expiration time of a key in milliseconds."),
        spec(.expireat, -3, ["write", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@write", "@fast"], group: "generic", since: "1.2.0", "Sets the expiration time of a key to a Unix timestamp."),
        spec(.pexpireat, -3, ["write", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@write", "@fast"], group: "generic", since: "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
        spec(.ttl, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@read", "@fast"], group: "generic", since: "1.0.0", "Returns the expiration time in seconds of a key."),
        spec(.pttl, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@read", "@fast"], group: "generic", since: "2.6.0", "Returns the expiration time in milliseconds of a key."),
        spec(.expiretime, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@read", "@fast"], group: "generic", since: "7.0.0", "Returns the expiration time of a key as a Unix timestamp."),
        spec(.pexpiretime, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@read", "@fast"], group: "generic", since: "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
        spec(.persist, 2, ["write", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@write", "@fast"], group: "generic", since: "2.2.0", "Removes the expiration time of a key."),
        spec(.type, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@keyspace", "@read", "@fast"], group: "generic", since: "1.0.0", "Determines the type of value stored at a key."),
        spec(.keys, 2, ["readonly"], acl: ["@keyspace", "@read", "@slow", "@dangerous"], group: "generic", since: "1.0.0", "Returns all key names that match a pattern."),
        spec(.scan, -2, ["readonly"], acl: ["@keyspace", "@read", "@slow"], group: "generic", since: "2.8.0", "Iterates over the key names in the database."),
        spec(.randomkey, 1, ["readonly"], acl: ["@keyspace", "@read", "@slow"], group: "generic", since: "1.0.0", "Returns a random key name from the database."),
        spec(.copy, -3, ["write", "denyoom"], keys: (1, 2, 1), acl: ["@keyspace", "@write", "@slow"], group: "generic", since: "6.2.0", "Copies the value of a key to a new key."),
        spec(.rename, 3, ["write"], keys: (1, 2, 1), acl: ["@keyspace", "@write", "@slow"], group: "generic", since: "1.0.0", "Renames a key and overwrites the destination."),
        spec(.renamenx, 3, ["write", "fast"], keys: (1, 2, 1), acl: ["@keyspace", "@write", "@fast"], group: "generic", since: "1.0.0", "Renames a key only when the target key name doesn't exist."),
        spec(.touch, -2, ["readonly", "fast"], keys: (1, -1, 1), acl: ["@keyspace", "@read", "@fast"], group: "generic", since: "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
        spec(.object, -2, ["readonly"], keys: (2, 2, 1), acl: ["@keyspace", "@read", "@slow"], group: "generic", since: "2.2.3", "A container for object introspection commands."),
        // hashes, lists, sets, sorted sets
        spec(.hset, -4, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@hash", "@fast"], group: "hash", since: "2.0.0", "Creates or modifies the value of a field in a hash."),
        spec(.hsetnx, 4, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@hash", "@fast"], group: "hash", since: "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist."),
        spec(.hget, 3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@hash", "@fast"], group: "hash", since: "2.0.0", "Returns the value of a field in a hash."),
        spec(.hmget, -3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@hash", "@fast"], group: "hash", since: "2.0.0", "Returns the values of all fields in a hash."),
        spec(.hmset, -4, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@hash", "@fast"], group: "hash", since: "2.0.0", "Sets the values of multiple fields."),
        spec(.hdel, -3, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@hash", "@fast"], group: "hash", since: "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
        spec(.hexists, 3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@hash", "@fast"], group: "hash", since: "2.0.0", "Determines whether a field exists in a hash."),
        spec(.hlen, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@hash", "@fast"], group: "hash", since: "2.0.0", "Returns the number of fields in a hash."),
        spec(.hstrlen, 3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@hash", "@fast"], group: "hash", since: "3.2.0", "Returns the length of the value of a field."),
        spec(.hkeys, 2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@hash", "@slow"], group: "hash", since: "2.0.0", "Returns all fields in a hash."),
        spec(.hvals, 2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@hash", "@slow"], group: "hash", since: "2.0.0", "Returns all values in a hash."),
        spec(.hgetall, 2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@hash", "@slow"], group: "hash", since: "2.0.0", "Returns all fields and values in a hash."),
        spec(.hincrby, 4, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@hash", "@fast"], group: "hash", since: "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."),
        spec(.hincrbyfloat, 4, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@hash", "@fast"], group: "hash", since: "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."),
        spec(.hrandfield, -2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@hash", "@slow"], group: "hash", since: "6.2.0", "Returns one or more random fields from a hash."),
        spec(.hscan, -3, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@hash", "@slow"], group: "hash", since: "2.8.0", "Iterates over fields and values of a hash."),
        spec(.lpush, -3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@list", "@fast"], group: "list", since: "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
        spec(.rpush, -3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@list", "@fast"], group: "list", since: "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
        spec(.lpushx, -3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@list", "@fast"], group: "list", since: "2.2.0", "Prepends one or more elements to a list only when the list exists."),
        spec(.rpushx, -3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@list", "@fast"], group: "list", since: "2.2.0", "Appends an element to a list only when the list exists."),
        spec(.lpop, -2, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@list", "@fast"], group: "list", since: "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
        spec(.rpop, -2, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@list", "@fast"], group: "list", since: "1.0.0", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
        spec(.llen, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@list", "@fast"], group: "list", since: "1.0.0", "Returns the length of a list."),
        spec(.lrange, 4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@list", "@slow"], group: "list", since: "1.0.0", "Returns a range of elements from a list."),
        spec(.lindex, 3, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@list", "@slow"], group: "list", since: "1.0.0", "Returns an element from a list by its index."),
        spec(.lset, 4, ["write", "denyoom"], keys: (1, 1, 1), acl: ["@write", "@list", "@slow"], group: "list", since: "1.0.0", "Sets the value of an element in a list by its index."),
        spec(.linsert, 5, ["write", "denyoom"], keys: (1, 1, 1), acl: ["@write", "@list", "@slow"], group: "list", since: "2.2.0", "Inserts an element before or after another element in a list."),
        spec(.lrem, 4, ["write"], keys: (1, 1, 1), acl: ["@write", "@list", "@slow"], group: "list", since: "1.0.0", "Removes elements from a list. Deletes the list if the last element was removed."),
        spec(.ltrim, 4, ["write"], keys: (1, 1, 1), acl: ["@write", "@list", "@slow"], group: "list", since: "1.0.0", "Removes elements from both ends a list. Deletes the list if all elements were trimmed."),
        spec(.lpos, -3, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@list", "@slow"], group: "list", since: "6.0.6", "Returns the index of matching elements in a list."),
        spec(.lmove, 5, ["write", "denyoom"], keys: (1, 2, 1), acl: ["@write", "@list", "@slow"], group: "list", since: "6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
        spec(.rpoplpush, 3, ["write", "denyoom"], keys: (1, 2, 1), acl: ["@write", "@list", "@slow"], group: "list", since: "1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
        spec(.blpop, -3, ["write", "blocking"], keys: (1, -2, 1), acl: ["@write", "@list", "@slow", "@blocking"], group: "list", since: "2.0.0", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
        spec(.brpop, -3, ["write", "blocking"], keys: (1, -2, 1), acl: ["@write", "@list", "@slow", "@blocking"], group: "list", since: "2.0.0", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
        spec(.blmove, 6, ["write", "denyoom", "blocking"], keys: (1, 2, 1), acl: ["@write", "@list", "@slow", "@blocking"], group: "list", since: "6.2.0", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."),
        spec(.brpoplpush, 4, ["write", "denyoom", "blocking"], keys: (1, 2, 1), acl: ["@write", "@list", "@slow", "@blocking"], group: "list", since: "2.2.0", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."),
        spec(.sadd, -3, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@set", "@fast"], group: "set", since: "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist."),
        spec(.srem, -3, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@set", "@fast"], group: "set", since: "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed."),
        spec(.sismember, 3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@set", "@fast"], group: "set", since: "1.0.0", "Determines whether a member belongs to a set."),
        spec(.smismember, -3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@set", "@fast"], group: "set", since: "6.2.0", "Determines whether multiple members belong to a set."),
        spec(.smembers, 2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@set", "@slow"], group: "set", since: "1.0.0", "Returns all members of a set."),
        spec(.scard, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@set", "@fast"], group: "set", since: "1.0.0", "Returns the number of members in a set."),
        spec(.spop, -2, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@set", "@fast"], group: "set", since: "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
        spec(.srandmember, -2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@set", "@slow"], group: "set", since: "1.0.0", "Get one or multiple random members from a set"),
        spec(.smove, 4, ["write", "fast"], keys: (1, 2, 1), acl: ["@write", "@set", "@fast"], group: "set", since: "1.0.0", "Moves a member from one set to another."),
        spec(.sinter, -2, ["readonly"], keys: (1, -1, 1), acl: ["@read", "@set", "@slow"], group: "set", since: "1.0.0", "Returns the intersect of multiple sets."),
        spec(.sunion, -2, ["readonly"], keys: (1, -1, 1), acl: ["@read", "@set", "@slow"], group: "set", since: "1.0.0", "Returns the union of multiple sets."),
        spec(.sdiff, -2, ["readonly"], keys: (1, -1, 1), acl: ["@read", "@set", "@slow"], group: "set", since: "1.0.0", "Returns the difference of multiple sets."),
        spec(.sinterstore, -3, ["write", "denyoom"], keys: (1, -1, 1), acl: ["@write", "@set", "@slow"], group: "set", since: "1.0.0", "Stores the intersect of multiple sets in a key."),
        spec(.sunionstore, -3, ["write", "denyoom"], keys: (1, -1, 1), acl: ["@write", "@set", "@slow"], group: "set", since: "1.0.0", "Stores the union of multiple sets in a key."),
        spec(.sdiffstore, -3, ["write", "denyoom"], keys: (1, -1, 1), acl: ["@write", "@set", "@slow"], group: "set", since: "1.0.0", "Stores the difference of multiple sets in a key."),
        spec(.sintercard, -3, ["readonly", "movablekeys"], keys: (2, 2, 1), keyCount: 1, acl: ["@read", "@set", "@slow"], group: "set", since: "7.0.0", "Returns the number of members of the intersect of multiple sets."),
        spec(.sscan, -3, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@set", "@slow"], group: "set", since: "2.8.0", "Iterates over members of a set."),
        spec(.zadd, -4, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@sortedset", "@fast"], group: "sorted_set", since: "1.2.0", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist."),
        spec(.zrem, -3, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@sortedset", "@fast"], group: "sorted_set", since: "1.2.0", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed."),
        spec(.zscore, 3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@fast"], group: "sorted_set", since: "1.2.0", "Returns the score of a member in a sorted set."),
        spec(.zmscore, -3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@fast"], group: "sorted_set", since: "6.2.0", "Returns the score of one or more members in a sorted set."),
        spec(.zincrby, 4, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@sortedset", "@fast"], group: "sorted_set", since: "1.2.0", "Increments the score of a member in a sorted set."),
        spec(.zcard, 2, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@fast"], group: "sorted_set", since: "1.2.0", "Returns the number of members in a sorted set."),
        spec(.zcount, 4, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@fast"], group: "sorted_set", since: "2.0.0", "Returns the count of members in a sorted set that have scores within a range."),
        spec(.zlexcount, 4, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@fast"], group: "sorted_set", since: "2.8.9", "Returns the number of members in a sorted set within a lexicographical range."),
        spec(.zrank, -3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@fast"], group: "sorted_set", since: "2.0.0", "Returns the index of a member in a sorted set ordered by ascending scores."),
        spec(.zrevrank, -3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@fast"], group: "sorted_set", since: "2.0.0", "Returns the index of a member in a sorted set ordered by descending scores."),
        spec(.zrange, -4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "1.2.0", "Returns members in a sorted set within a range of indexes."),
        spec(.zrevrange, -4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "1.2.0", "Returns members in a sorted set within a range of indexes in reverse order."),
        spec(.zrangebyscore, -4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "1.0.5", "Returns members in a sorted set within a range of scores."),
        spec(.zrevrangebyscore, -4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "2.2.0", "Returns members in a sorted set within a range of scores in reverse order."),
        spec(.zrangebylex, -4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "2.8.9", "Returns members in a sorted set within a lexicographical range."),
        spec(.zrevrangebylex, -4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "2.8.9", "Returns members in a sorted set within a lexicographical range in reverse order."),
        spec(.zremrangebyscore, 4, ["write"], keys: (1, 1, 1), acl: ["@write", "@sortedset", "@slow"], group: "sorted_set", since: "1.2.0", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed."),
        spec(.zremrangebyrank, 4, ["write"], keys: (1, 1, 1), acl: ["@write", "@sortedset", "@slow"], group: "sorted_set", since: "2.0.0", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed."),
        spec(.zremrangebylex, 4, ["write"], keys: (1, 1, 1), acl: ["@write", "@sortedset", "@slow"], group: "sorted_set", since: "2.8.9", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed."),
        spec(.zpopmin, -2, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@sortedset", "@fast"], group: "sorted_set", since: "5.0.0", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
        spec(.zpopmax, -2, ["write", "fast"], keys: (1, 1, 1), acl: ["@write", "@sortedset", "@fast"], group: "sorted_set", since: "5.0.0", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
        spec(.bzpopmin, -3, ["write", "fast", "blocking"], keys: (1, -2, 1), acl: ["@write", "@sortedset", "@fast", "@blocking"], group: "sorted_set", since: "5.0.0", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
        spec(.bzpopmax, -3, ["write", "fast", "blocking"], keys: (1, -2, 1), acl: ["@write", "@sortedset", "@fast", "@blocking"], group: "sorted_set", since: "5.0.0", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped."),
        spec(.clThrottle, -5, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@fast"], group: "generic", since: "7.0.0", "Rate limits with the generic cell rate algorithm: CL.THROTTLE key max_burst count period [quantity], as redis-cell."),
        spec(.zunion, -3, ["readonly", "movablekeys"], keys: (2, 2, 1), keyCount: 1, acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "6.2.0", "Returns the union of multiple sorted sets."),
        spec(.zinter, -3, ["readonly", "movablekeys"], keys: (2, 2, 1), keyCount: 1, acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "6.2.0", "Returns the intersect of multiple sorted sets."),
        spec(.zdiff, -3, ["readonly", "movablekeys"], keys: (2, 2, 1), keyCount: 1, acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "6.2.0", "Returns the difference between multiple sorted sets."),
        spec(.zunionstore, -4, ["write", "denyoom", "movablekeys"], keys: (1, 1, 1), keyCount: 2, acl: ["@write", "@sortedset", "@slow"], group: "sorted_set", since: "2.0.0", "Stores the union of multiple sorted sets in a key."),
        spec(.zinterstore, -4, ["write", "denyoom", "movablekeys"], keys: (1, 1, 1), keyCount: 2, acl: ["@write", "@sortedset", "@slow"], group: "sorted_set", since: "2.0.0", "Stores the intersect of multiple sorted sets in a key."),
        spec(.zdiffstore, -4, ["write", "denyoom", "movablekeys"], keys: (1, 1, 1), keyCount: 2, acl: ["@write", "@sortedset", "@slow"], group: "sorted_set", since: "6.2.0", "Stores the difference of multiple sorted sets in a key."),
        spec(.zintercard, -3, ["readonly", "movablekeys"], keys: (2, 2, 1), keyCount: 1, acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "7.0.0", "Returns the number of members of the intersect of multiple sorted sets."),
        spec(.zrangestore, -5, ["write", "denyoom"], keys: (1, 2, 1), acl: ["@write", "@sortedset", "@slow"], group: "sorted_set", since: "6.2.0", "Stores a range of members from sorted set in a key."),
        spec(.zrandmember, -2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "6.2.0", "Returns one or more random members from a sorted set."),
        spec(.lmpop, -4, ["write", "movablekeys"], keys: (2, 2, 1), keyCount: 1, acl: ["@write", "@list", "@slow"], group: "list", since: "7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."),
        spec(.zmpop, -4, ["write", "movablekeys"], keys: (2, 2, 1), keyCount: 1, acl: ["@write", "@sortedset", "@slow"], group: "sorted_set", since: "7.0.0", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped."),
        spec(.blmpop, -5, ["write", "blocking", "movablekeys"], keys: (3, 3, 1), keyCount: 2, acl: ["@write", "@list", "@slow", "@blocking"], group: "list", since: "7.0.0", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
        spec(.bzmpop, -5, ["write", "blocking", "movablekeys"], keys: (3, 3, 1), keyCount: 2, acl: ["@write", "@sortedset", "@slow", "@blocking"], group: "sorted_set", since: "7.0.0", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
        spec(.setbit, 4, ["write", "denyoom"], keys: (1, 1, 1), acl: ["@write", "@bitmap", "@slow"], group: "bitmap", since: "2.2.0", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."),
        spec(.getbit, 3, ["readonly", "fast"], keys: (1, 1, 1), acl: ["@read", "@bitmap", "@fast"], group: "bitmap", since: "2.2.0", "Returns a bit value by offset."),
        spec(.bitcount, -2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@bitmap", "@slow"], group: "bitmap", since: "2.6.0", "Counts the number of set bits (population counting) in a string."),
        spec(.bitpos, -3, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@bitmap", "@slow"], group: "bitmap", since: "2.8.7", "Finds the first set (1) or clear (0) bit in a string."),
        spec(.bitop, -4, ["write", "denyoom"], keys: (2, -1, 1), acl: ["@write", "@bitmap", "@slow"], group: "bitmap", since: "2.6.0", "Performs bitwise operations on multiple strings, and stores the result."),
        spec(.sort, -2, ["write", "denyoom", "movablekeys"], keys: (1, 1, 1), storeKey: .sort, acl: ["@write", "@set", "@sortedset", "@list", "@slow", "@dangerous"], group: "generic", since: "1.0.0", "Sorts the elements in a list, a set, or a sorted set, optionally storing the result."),
        spec(.sort_ro, -2, ["readonly", "movablekeys"], keys: (1, 1, 1), acl: ["@read", "@set", "@sortedset", "@list", "@slow", "@dangerous"], group: "generic", since: "7.0.0", "Returns the sorted elements of a list, a set, or a sorted set."),
        spec(.lcs, -3, ["readonly"], keys: (1, 2, 1), acl: ["@read", "@string", "@slow"], group: "string", since: "7.0.0", "Finds the longest common substring."),
        spec(.pfadd, -2, ["write", "denyoom", "fast"], keys: (1, 1, 1), acl: ["@write", "@hyperloglog", "@fast"], group: "hyperloglog", since: "2.8.9", "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist."),
        spec(.pfcount, -2, ["readonly"], keys: (1, -1, 1), acl: ["@read", "@hyperloglog", "@slow"], group: "hyperloglog", since: "2.8.9", "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s)."),
        spec(.pfmerge, -2, ["write", "denyoom"], keys: (1, -1, 1), acl: ["@write", "@hyperloglog", "@slow"], group: "hyperloglog", since: "2.8.9", "Merges one or more HyperLogLog values into a single key."),
        spec(.geoadd, -5, ["write", "denyoom"], keys: (1, 1, 1), acl: ["@write", "@geo", "@slow"], group: "geo", since: "3.2.0", "Adds one or more members to a geospatial index. The key is created if it doesn't exist."),
        spec(.geopos, -2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@geo", "@slow"], group: "geo", since: "3.2.0", "Returns the longitude and latitude of members from a geospatial index."),
        spec(.geodist, -4, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@geo", "@slow"], group: "geo", since: "3.2.0", "Returns the distance between two members of a geospatial index."),
        spec(.geohash, -2, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@geo", "@slow"], group: "geo", since: "3.2.0", "Returns members from a geospatial index as geohash strings."),
        spec(.georadius, -6, ["write", "denyoom", "movablekeys"], keys: (1, 1, 1), storeKey: .geoRadius, acl: ["@write", "@geo", "@slow"], group: "geo", since: "3.2.0", "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result."),
        spec(.georadius_ro, -6, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@geo", "@slow"], group: "geo", since: "3.2.10", "Returns members from a geospatial index that are within a distance from a coordinate."),
        spec(.georadiusbymember, -5, ["write", "denyoom", "movablekeys"], keys: (1, 1, 1), storeKey: .geoRadius, acl: ["@write", "@geo", "@slow"], group: "geo", since: "3.2.0", "Queries a geospatial index for members within a distance from a member, optionally stores the result."),
        spec(.georadiusbymember_ro, -5, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@geo", "@slow"], group: "geo", since: "3.2.10", "Returns members from a geospatial index that are within a distance from a member."),
        spec(.geosearch, -7, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@geo", "@slow"], group: "geo", since: "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle."),
        spec(.geosearchstore, -8, ["write", "denyoom"], keys: (1, 2, 1), acl: ["@write", "@geo", "@slow"], group: "geo", since: "6.2.0", "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result."),
        spec(.zscan, -3, ["readonly"], keys: (1, 1, 1), acl: ["@read", "@sortedset", "@slow"], group: "sorted_set", since: "2.8.0", "Iterates over members and scores of a sorted set."),
    ]
}
