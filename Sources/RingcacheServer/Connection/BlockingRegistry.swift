import Synchronization

/// Clients waiting in a blocking command (BLPOP and friends), per key, first come first
/// served (https://redis.io/docs/latest/commands/blpop/#what-key-is-served-first-what-client-what-element-priority-ordering-details).
///
/// The registry only orders waiters and wakes them; a woken waiter runs its command again on
/// its own event loop, and takes an element only if one is still there. A waiter that cannot
/// take the wake-up (it is gone or already answered) passes it on with `signal`, so an
/// element never waits while someone waits for it.
///
/// Lock order: the engine's lock, then this one (waiters register while the engine lock is
/// held, so a push that follows their empty attempt always finds them).
final class BlockingRegistry: Sendable {
    struct Waiter: Sendable {
        let id: Int
        let keys: [[UInt8]]
        /// Runs the waiter's command again, on its event loop; the key is the one that fired.
        let wake: @Sendable ([UInt8]) -> Void
    }

    private struct State {
        var queues: [[UInt8]: [Int]] = [:]
        var waiters: [Int: Waiter] = [:]

        mutating func detach(_ id: Int) -> Waiter? {
            guard let waiter = waiters.removeValue(forKey: id) else { return nil }
            for key in waiter.keys {
                queues[key]?.removeAll { $0 == id }
                if queues[key]?.isEmpty == true { queues[key] = nil }
            }
            return waiter
        }
    }

    private let state = Mutex(State())

    /// Adds a waiter at the back of each of its keys' queues, or at the front for a waiter
    /// that was woken, found nothing and waits again (it keeps its place).
    func add(_ waiter: Waiter, atFront: Bool) {
        state.withLock { state in
            state.waiters[waiter.id] = waiter
            for key in waiter.keys {
                if atFront { state.queues[key, default: []].insert(waiter.id, at: 0) } else { state.queues[key, default: []].append(waiter.id) }
            }
        }
    }

    func remove(id: Int) {
        _ = state.withLock { $0.detach(id) }
    }

    /// Wakes the first waiter of each key, if any.
    func signal(_ keys: [[UInt8]]) {
        guard !keys.isEmpty else { return }
        let woken = state.withLock { state -> [([UInt8], Waiter)] in
            var woken: [([UInt8], Waiter)] = []
            for key in keys {
                guard let first = state.queues[key]?.first, let waiter = state.detach(first) else { continue }
                woken.append((key, waiter))
            }
            return woken
        }
        for (key, waiter) in woken { waiter.wake(key) }
    }

    func isWaiting(id: Int) -> Bool {
        state.withLock { $0.waiters[id] != nil }
    }

    /// Clients blocked right now (INFO's `blocked_clients`).
    var count: Int { state.withLock { $0.waiters.count } }
}
