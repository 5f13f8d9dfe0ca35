import RESP

/// What a blocking command (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX) asks for
/// when none of its keys has anything: to be run again when one of them may have.
public struct BlockRequest: Sendable, Equatable {
    /// The keys to wait on, in the command's order.
    public var keys: [[UInt8]]
    /// How long to wait, in milliseconds; nil = forever (a timeout of 0).
    public var timeout: Int64?
}

/// Blocking, the engine's half (the server keeps the waiting clients, first come first
/// served, and their timers).
///
/// Contract: a blocking command that finds nothing writes no reply, sets `blockRequest` and
/// counts its keys as waited on — all under the same engine lock as the attempt, so a push
/// that follows cannot be missed. While a key is waited on, every command that gives it
/// elements lists it in `readyKeys`; the server then wakes the first waiter, which runs its
/// command again. The server calls `stopWaiting(on:)` once per block request when that
/// waiter stops waiting (served, timed out or gone).
extension Engine {
    /// Whether the command just executed left anything for the server: a block request, keys
    /// to wake waiters on, or keyspace events. One check on the hot path instead of three.
    @inline(__always)
    public var leftAftermath: Bool { keyspace.needsAttention }

    /// The server took what the command left.
    public func aftermathTaken() {
        keyspace.needsAttention = false
    }

    /// The block request of the command just executed, taken by the server.
    public func takeBlockRequest() -> BlockRequest? {
        defer { blockRequest = nil }
        return blockRequest
    }

    /// Keys that received elements while someone waited on them, since the last call.
    public func takeReadyKeys() -> [[UInt8]] {
        guard !readyKeys.isEmpty else { return [] }
        defer { readyKeys.removeAll(keepingCapacity: true) }
        var seen = Set<[UInt8]>()
        return readyKeys.filter { seen.insert($0).inserted }
    }

    /// A waiter stopped waiting on `keys`.
    public func stopWaiting(on keys: [[UInt8]]) {
        for key in keys {
            if let count = waitedKeys[key], count > 1 { waitedKeys[key] = count - 1 } else { waitedKeys[key] = nil }
        }
    }

    /// Whether any client waits on some key (the server skips its checks when none does).
    public var hasWaiters: Bool { !waitedKeys.isEmpty }

    /// Called by every command that gives `key` elements.
    @inline(__always)
    func signalReady(_ key: UnsafeRawBufferPointer) {
        guard !waitedKeys.isEmpty else { return }
        let key = Array(key)
        if waitedKeys[key] != nil {
            readyKeys.append(key)
            keyspace.needsAttention = true
        }
    }

    /// Called by a blocking command that found nothing: no reply is written.
    func block(on keys: [[UInt8]], timeout: Int64?) {
        for key in keys { waitedKeys[key, default: 0] += 1 }
        blockRequest = BlockRequest(keys: keys, timeout: timeout)
        keyspace.needsAttention = true
    }

    /// A blocking command's timeout in seconds, fractional allowed, as milliseconds (nil for
    /// 0 = forever), with Redis's errors (timeout.c getTimeoutFromObjectOrReply).
    static func blockingTimeout(_ bytes: UnsafeRawBufferPointer) throws(CommandError) -> Int64? {
        guard let seconds = ByteParsing.double(bytes), seconds.isFinite, seconds * 1000 < Double(Int64.max / 2) else {
            throw CommandError("ERR timeout is not a float or out of range")
        }
        guard seconds >= 0 else { throw CommandError("ERR timeout is negative") }
        let milliseconds = Int64((seconds * 1000).rounded(.up))
        return milliseconds == 0 ? nil : milliseconds
    }
}
