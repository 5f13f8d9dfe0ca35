#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Accepts plain-TCP client connections on every `bind` address, on a thread of its own, and
/// hands each socket to an event loop with `ClientBootstrap.withConnectedSocket`.
///
/// Why not NIO's `ServerBootstrap`: it keeps the descriptors of the sockets it accepts to
/// itself, and a connection handler that writes its replies to the socket directly
/// (ConnectionHandler+DirectWrite) needs its descriptor. NIO still owns each accepted socket
/// from the moment it is handed over: it reads it, and it closes it.
///
/// The thread sleeps in `poll` on the listening sockets and a pipe that `stop` writes to;
/// accepting is all it does, so a connection waits for it no longer than for an event loop.
final class ClientAcceptor: Sendable {
    /// Listening descriptors, one per bind address.
    let listeners: [CInt]
    /// The pipe `stop` writes to (write end) and the thread polls (read end).
    private let stopSignal: CInt
    private let stopWatch: CInt
    private let stopped = Atomic<Bool>(false)

    /// Binds and listens on `port` at every address, or none: if one fails, the sockets already
    /// open are closed and the error names the address, as redis-server words it.
    init(addresses: [String], port: Int, backlog: Int, describing what: String) throws {
        var listeners: [CInt] = []
        for address in addresses {
            do {
                listeners.append(try Self.listen(address: address, port: port, backlog: backlog))
            } catch {
                for listener in listeners { close(listener) }
                throw StartupError("Could not create \(what) listening socket \(address):\(port): \(error)")
            }
        }
        var pipeEnds: [CInt] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            for listener in listeners { close(listener) }
            throw StartupError("Could not create the \(what) listener's stop pipe: \(SocketError(call: "pipe", code: errno))")
        }
        for end in pipeEnds { Self.setFlags(of: end) }
        self.listeners = listeners
        self.stopWatch = pipeEnds[0]
        self.stopSignal = pipeEnds[1]
    }

    struct SocketError: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call): \(String(cString: strerror(code))) (errno: \(code))" }
    }

    private static func listen(address: String, port: Int, backlog: Int) throws -> CInt {
        let socketAddress = try SocketAddress.makeAddressResolvingHost(address, port: port)
        let family = switch socketAddress {
        case .v4: AF_INET
        case .v6: AF_INET6
        case .unixDomainSocket: AF_UNIX
        }
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError(call: "socket", code: errno) }
        setFlags(of: descriptor)
        var one: Int32 = 1
        guard setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let code = errno
            close(descriptor)
            throw SocketError(call: "setsockopt(SO_REUSEADDR)", code: code)
        }
        let bound = socketAddress.withSockAddr { pointer, length in bind(descriptor, pointer, socklen_t(length)) }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw SocketError(call: "bind", code: code)
        }
        guard Glibc.listen(descriptor, Int32(clamping: backlog)) == 0 else {
            let code = errno
            close(descriptor)
            throw SocketError(call: "listen", code: code)
        }
        return descriptor
    }

    /// Non-blocking and close-on-exec (Glibc's module has neither `SOCK_NONBLOCK` for
    /// `socket` nor `accept4`).
    private static func setFlags(of descriptor: CInt) {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        _ = fcntl(descriptor, F_SETFD, fcntl(descriptor, F_GETFD) | FD_CLOEXEC)
    }

    /// Starts accepting: `adopt` is called on the acceptor's thread with each accepted,
    /// non-blocking socket, and must hand it to an event loop (which then owns it).
    func start(logger: Logger, adopt: @escaping @Sendable (CInt) -> Void) {
        let listeners = listeners
        let (stopWatch, stopSignal) = (self.stopWatch, self.stopSignal)
        let thread = Thread {
            Self.acceptUntilStopped(listeners: listeners, stopWatch: stopWatch, logger: logger, adopt: adopt)
            close(stopWatch)
            close(stopSignal)
        }
        thread.name = "ringcache-accept"
        thread.start()
    }

    private static func acceptUntilStopped(listeners: [CInt], stopWatch: CInt, logger: Logger, adopt: (CInt) -> Void) {
        var polled = (listeners + [stopWatch]).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var stopOnly = [pollfd(fd: stopWatch, events: Int16(POLLIN), revents: 0)]
        // After an error that a ready listener would only repeat (EMFILE: out of descriptors;
        // ENOMEM from poll), wait up to 10 ms for `stop` alone instead of spinning on it.
        var backOff = false
        // Redis's "Accepting client connection: ..." warning, once until an accept succeeds.
        var warned = false
        while true {
            if backOff {
                backOff = false
                if poll(&stopOnly, 1, 10) > 0 { break }
                continue
            }
            if poll(&polled, nfds_t(polled.count), -1) < 0 {
                backOff = errno != EINTR
                continue
            }
            if polled[polled.count - 1].revents != 0 { break }
            for index in listeners.indices where polled[index].revents != 0 {
                // Drain the backlog: the listening socket is non-blocking.
                while true {
                    let accepted = accept(listeners[index], nil, nil)
                    if accepted >= 0 {
                        warned = false
                        setFlags(of: accepted)
                        adopt(accepted)
                        continue
                    }
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    // EAGAIN: drained. Anything else leaves the connection in the backlog.
                    let code = errno
                    backOff = code != EAGAIN && code != EWOULDBLOCK
                    if backOff && !warned {
                        warned = true
                        logger.warning("Accepting client connection: \(String(cString: strerror(code)))")
                    }
                    break
                }
            }
        }
        // Only `stop` ends the loop, so the listeners are closed once, after the last accept.
        for listener in listeners { close(listener) }
    }

    /// Stops accepting and closes the listening sockets (on the acceptor's thread, after its
    /// last accept). Connections already handed over are not touched.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        var byte: UInt8 = 1
        _ = write(stopSignal, &byte, 1)
    }
}
