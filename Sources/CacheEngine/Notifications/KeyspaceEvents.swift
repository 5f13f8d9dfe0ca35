/// Keyspace notifications (https://redis.io/docs/latest/develop/use/keyspace-notifications/):
/// which classes of events `notify-keyspace-events` selects, and the events a command raised.
///
/// The engine only records events; the server publishes them, on `__keyspace@0__:<key>` with
/// the event name as the message and on `__keyevent@0__:<event>` with the key, after the
/// command that raised them (and after background expiry and eviction).
public struct KeyspaceEventClasses: OptionSet, Sendable, Equatable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let keyspace = KeyspaceEventClasses(rawValue: 1 << 0)  // K
    public static let keyevent = KeyspaceEventClasses(rawValue: 1 << 1)  // E
    public static let generic = KeyspaceEventClasses(rawValue: 1 << 2)  // g
    public static let string = KeyspaceEventClasses(rawValue: 1 << 3)  // $
    public static let list = KeyspaceEventClasses(rawValue: 1 << 4)  // l
    public static let set = KeyspaceEventClasses(rawValue: 1 << 5)  // s
    public static let hash = KeyspaceEventClasses(rawValue: 1 << 6)  // h
    public static let zset = KeyspaceEventClasses(rawValue: 1 << 7)  // z
    public static let expired = KeyspaceEventClasses(rawValue: 1 << 8)  // x
    public static let evicted = KeyspaceEventClasses(rawValue: 1 << 9)  // e
    public static let stream = KeyspaceEventClasses(rawValue: 1 << 10)  // t
    public static let keyMiss = KeyspaceEventClasses(rawValue: 1 << 11)  // m
    public static let module = KeyspaceEventClasses(rawValue: 1 << 12)  // d
    public static let newKey = KeyspaceEventClasses(rawValue: 1 << 13)  // n
    /// `A`: every class but K, E, m and n, as in Redis.
    public static let all: KeyspaceEventClasses = [.generic, .string, .list, .set, .hash, .zset, .expired, .evicted, .stream, .module]

    private static let letters: [(Character, KeyspaceEventClasses)] = [
        ("g", .generic), ("$", .string), ("l", .list), ("s", .set), ("h", .hash), ("z", .zset), ("x", .expired),
        ("e", .evicted), ("t", .stream), ("d", .module), ("K", .keyspace), ("E", .keyevent), ("m", .keyMiss), ("n", .newKey),
    ]

    /// Parses Redis's flag string (notify.c keyspaceEventsStringToFlags); nil for an unknown
    /// letter.
    public init?(flags: String) {
        var classes: KeyspaceEventClasses = []
        for letter in flags {
            if letter == "A" {
                classes.formUnion(.all)
            } else if let match = Self.letters.first(where: { $0.0 == letter }) {
                classes.formUnion(match.1)
            } else {
                return nil
            }
        }
        self = classes
    }

    /// The flag string CONFIG GET shows (notify.c keyspaceEventsFlagsToString).
    public var flags: String {
        var text = ""
        if isSuperset(of: .all) {
            text = "A"
        } else {
            for (letter, flag) in Self.letters.prefix(10) where contains(flag) { text.append(letter) }
        }
        for (letter, flag) in Self.letters.suffix(4) where contains(flag) { text.append(letter) }
        return text
    }

    /// Whether any notification can be sent at all: at least one of K and E, and a class.
    var isActive: Bool { !isDisjoint(with: [.keyspace, .keyevent]) && !subtracting([.keyspace, .keyevent]).isEmpty }
}

/// One event a command raised.
public struct KeyspaceEvent: Sendable, Equatable {
    public var event: String
    public var key: [UInt8]
}

/// The events raised since the server last took them, filtered by the selected classes.
struct KeyspaceEventLog {
    var classes: KeyspaceEventClasses = []
    var pending: [KeyspaceEvent] = []

    /// Records the event if its class is selected; returns whether it did.
    mutating func record(_ eventClass: KeyspaceEventClasses, _ event: StaticString, _ key: UnsafeRawBufferPointer) -> Bool {
        guard classes.contains(eventClass), classes.isActive else { return false }
        pending.append(KeyspaceEvent(event: "\(event)", key: Array(key)))
        return true
    }
}

extension Engine {
    /// Whether events are waiting to be published.
    public var hasKeyspaceEvents: Bool { !keyspace.events.pending.isEmpty }

    /// The events raised since the last call, in order.
    public func takeKeyspaceEvents() -> [KeyspaceEvent] {
        guard !keyspace.events.pending.isEmpty else { return [] }
        defer { keyspace.events.pending.removeAll(keepingCapacity: true) }
        return keyspace.events.pending
    }

    /// Raises `event` for `key`. A collection the command emptied (see `Engine.mutate`) has
    /// its `del` raised right after it, as Redis raises `lpop` then `del` (t_list.c,
    /// listElementsRemoved) and `srem` then `del` before SMOVE's `sadd`.
    @inline(__always)
    func notify(_ eventClass: KeyspaceEventClasses, _ event: StaticString, _ key: UnsafeRawBufferPointer) {
        guard keyspace.eventsEnabled else { return }
        keyspace.raise(eventClass, event, key)
        if !emptiedKeys.isEmpty, let index = emptiedKeys.firstIndex(where: { $0.elementsEqual(key) }) {
            emptiedKeys.remove(at: index).withUnsafeBytes { keyspace.raise(.generic, "del", $0) }
        }
    }

    /// Raises the `del` events no event of the command was followed by.
    func announceEmptiedKeys() {
        for key in emptiedKeys {
            key.withUnsafeBytes { keyspace.raise(.generic, "del", $0) }
        }
        emptiedKeys.removeAll(keepingCapacity: true)
    }
}
