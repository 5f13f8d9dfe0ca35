import Testing

@testable import RingcacheServer

@Suite("Which way replies go: the socket directly, or the channel")
struct ReplyRouteTests {
    @Test("A TLS connection, with no descriptor, uses the channel for every reply")
    func channelOnlyWithoutDescriptor() {
        var route = ReplyRoute(descriptor: nil)
        #expect(route.directDescriptor == nil)
        #expect(route.channelNeedsFlush)
        #expect(!route.tracksChannelWrites)
        route.channelWriteStarted()
        #expect(route.channelWritesInFlight == 0, "untracked writes are not counted")
    }

    @Test("After a partial write, replies follow the channel until all it holds is written")
    func channelWritesHoldBackDirectWrites() {
        var route = ReplyRoute(descriptor: 7)
        #expect(route.directDescriptor == 7)
        #expect(!route.channelNeedsFlush)
        // The socket took part of a reply; the rest went to the channel, then two more replies.
        route.channelWriteStarted()
        #expect(route.directDescriptor == nil)
        route.channelWriteStarted()
        route.channelWriteStarted()
        #expect(route.channelNeedsFlush)
        route.channelWriteFinished()
        route.channelWriteFinished()
        #expect(route.directDescriptor == nil, "one channel write is still unwritten")
        route.channelWriteFinished()
        #expect(route.directDescriptor == 7)
        #expect(!route.channelNeedsFlush)
    }

    @Test("Subscribing, MONITOR or a closed socket switch to the channel for good")
    func useChannelOnlyIsFinal() {
        var route = ReplyRoute(descriptor: 7)
        route.channelWriteStarted()
        route.useChannelOnly()
        // The write handed over before the switch still reports back.
        route.channelWriteFinished()
        #expect(route.directDescriptor == nil)
        #expect(route.channelNeedsFlush)
        #expect(!route.tracksChannelWrites)
    }
}
