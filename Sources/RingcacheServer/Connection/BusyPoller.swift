#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import NIOCore

/// `busy-poll`: after a tick that answered requests, an event loop keeps looking for the next
/// request for a while before it lets the thread sleep, the way Linux's `net.core.busy_poll`
/// does for a socket and the guest's `haltpoll` does for an idle CPU.
///
/// Why: a thread asleep in `epoll_wait` is woken by the sender of the next request, and on a
/// virtual machine whose idle vCPUs halt (this one's `guest_halt_poll_ns` is 0) that wake-up
/// is an inter-processor interrupt the sender pays for. In `perf` of `redis-benchmark -c 50
/// -P 1` that was 8% of the load generator's CPU, and at one request per round trip the load
/// generator is what sets the pace (bench/RESULTS.md, "Busy polling"). While this loop polls,
/// its thread is not asleep, so the sender wakes nothing.
///
/// The window is short by default (3 µs): long enough to catch the next request of a load
/// generator that is sending a burst, short enough that the loop still sleeps through the
/// gaps between bursts. Measured at `-P 1` (bench/RESULTS.md): 3 µs gained 3–7% throughput
/// with the p99 still below Redis's (0.97x–0.98x over 80 rounds); 5 µs gained a little more
/// with the p99 level with Redis's; 8 µs and more made it longer (50 µs: 1.04x–1.09x). The
/// price is CPU: at most one window of polling after each tick that answered requests.
///
/// Contract:
/// - Only plain TCP connections adopted from `ClientAcceptor` are watched; their handlers
///   call `watch` when they become active and `forget` when they become inactive. The kernel
///   drops a descriptor from every epoll set when it is closed (NIO never duplicates it), so
///   `forget` only counts and never touches the set, and a reused descriptor number is
///   simply watched again.
/// - Polling ends as soon as a watched socket is readable or hung up; the event loop then
///   finds it in its own `epoll_wait` without sleeping.
/// - Anything else for this loop (a TLS connection's bytes, a new connection, a task from
///   another thread, a timer) waits until the window ends: at most `window` longer.
/// - Every member is used on the owning event loop's thread only.
final class BusyPoller {
    private let window: TimeAmount
    /// An epoll set of the watched sockets, level-triggered on input, polled with timeout 0.
    private let pollDescriptor: CInt
    private var watchedCount = 0

    /// nil when `microseconds` is 0 (off) or no epoll set can be made.
    init?(microseconds: Int) {
        guard microseconds > 0 else { return nil }
        let descriptor = epoll_create1(CInt(EPOLL_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        window = .microseconds(Int64(microseconds))
        pollDescriptor = descriptor
    }

    deinit {
        close(pollDescriptor)
    }

    /// Returns whether the socket is watched; only then must its connection call `forget`.
    func watch(_ descriptor: CInt) -> Bool {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        event.data.fd = descriptor
        guard epoll_ctl(pollDescriptor, CInt(EPOLL_CTL_ADD), descriptor, &event) == 0 else { return false }
        watchedCount += 1
        return true
    }

    /// The descriptor `watch`ed by a connection that is now inactive (and closed).
    func forget() {
        watchedCount -= 1
    }

    /// Returns when a watched socket is readable or hung up, or when the window has passed.
    func pollUntilReadable() {
        guard watchedCount > 0 else { return }
        let giveUp = NIODeadline.now() + window
        var event = epoll_event()
        repeat {
            // 0: nothing yet. 1: something to read. -1 (EINTR): let the event loop look.
            if epoll_wait(pollDescriptor, &event, 1, 0) != 0 { return }
        } while NIODeadline.now() < giveUp
    }
}
