import NIOCore

/// Flushes the replies of every connection served in one event-loop tick together, after the
/// tick's reads, the way Redis answers in `beforeSleep` (handleClientsWithPendingWrites)
/// rather than from each read handler.
///
/// Why it matters: a flush that finds the peer asleep in `epoll_wait` pays for waking it, and
/// on a virtual machine that wake-up is an inter-processor interrupt. Flushing from each read
/// lets a fast client drain one reply and fall asleep before the next connection's reply
/// comes, so every flush pays the wake-up (about an eighth of the server's CPU at -P 16 in
/// `perf`). Flushed back to back, the first wakes the client and the rest find it awake.
///
/// A task submitted with `execute` from the loop's own thread runs after the I/O events of
/// the current tick and does not wake the selector, so the flushes follow the reads of the
/// same tick and no reply waits longer than the tick that produced it.
final class FlushCoalescer: @unchecked Sendable {
    // @unchecked Sendable: shared with the bootstrap's initializer closure only to be looked
    // up there; every member is touched on `eventLoop`'s thread alone (asserted in debug).
    let eventLoop: EventLoop
    private var pending: [(ConnectionHandler, ChannelHandlerContext)] = []
    private var spare: [(ConnectionHandler, ChannelHandlerContext)] = []
    private var scheduled = false
    /// Polls this loop's sockets after the flushes, when `busy-poll` is on.
    let busyPoller: BusyPoller?

    init(eventLoop: EventLoop, busyPoller: BusyPoller?) {
        self.eventLoop = eventLoop
        self.busyPoller = busyPoller
    }

    /// One coalescer per event loop of `group`, keyed by the loop's identity.
    static func perLoop(of group: EventLoopGroup, busyPollMicroseconds: Int) -> [ObjectIdentifier: FlushCoalescer] {
        var coalescers: [ObjectIdentifier: FlushCoalescer] = [:]
        for loop in group.makeIterator() {
            coalescers[ObjectIdentifier(loop)] = FlushCoalescer(eventLoop: loop, busyPoller: BusyPoller(microseconds: busyPollMicroseconds))
        }
        return coalescers
    }

    /// Queues `handler`'s flush for the end of this tick. The caller has already handed its
    /// replies to the channel with `context.write` and queues itself at most once per tick.
    func enqueue(_ handler: ConnectionHandler, context: ChannelHandlerContext) {
        eventLoop.assertInEventLoop()
        pending.append((handler, context))
        guard !scheduled else { return }
        scheduled = true
        eventLoop.execute { self.flushAll() }
    }

    private func flushAll() {
        eventLoop.assertInEventLoop()
        scheduled = false
        // Swap so flushes that queue new work (a close, a writability change) cannot
        // disturb the list being walked, and neither array is reallocated tick after tick.
        swap(&pending, &spare)
        for (handler, context) in spare {
            handler.flushQueued(context: context)
        }
        spare.removeAll(keepingCapacity: true)
        // Last in the tick: the replies are out, so polling delays none of them.
        busyPoller?.pollUntilReadable()
    }
}
