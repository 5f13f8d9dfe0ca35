/// Which way a connection's replies go, the socket or the channel, as a state machine with no
/// I/O; ConnectionHandler+DirectWrite carries out what it decides and states the contract.
///
/// A reply goes to the socket only while nothing handed to the channel is still unwritten,
/// so replies keep their order however the two ways take turns.
struct ReplyRoute {
    /// The socket's descriptor while replies may be written to it; nil: the channel only.
    private(set) var descriptor: CInt?
    /// Writes handed to the channel that it has not reported written (or failed) yet.
    private(set) var channelWritesInFlight = 0

    init(descriptor: CInt?) {
        self.descriptor = descriptor
    }

    /// Where the next reply is written: the descriptor, or nil for the channel.
    var directDescriptor: CInt? {
        channelWritesInFlight == 0 ? descriptor : nil
    }

    /// Whether the channel has writes to flush: it is the only way, or it holds some.
    var channelNeedsFlush: Bool {
        descriptor == nil || channelWritesInFlight > 0
    }

    /// Whether a write handed to the channel must report back (`channelWriteFinished`):
    /// only while the socket is a way too.
    var tracksChannelWrites: Bool {
        descriptor != nil
    }

    mutating func channelWriteStarted() {
        if descriptor != nil { channelWritesInFlight += 1 }
    }

    /// A tracked channel write is on the socket, or failed because the channel closed.
    mutating func channelWriteFinished() {
        precondition(channelWritesInFlight > 0, "a channel write finished that was never started")
        channelWritesInFlight -= 1
    }

    /// The channel only, for good: other connections write to this one now, through the
    /// channel (pub/sub messages, MONITOR lines), or the socket is closed.
    mutating func useChannelOnly() {
        descriptor = nil
    }
}
