import CacheEngine
import Cluster
import NIOCore
import RESP

/// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and PUBSUB, with Redis's replies.
/// A RESP2 connection with subscriptions is in subscribed mode (only these, PING, QUIT and
/// RESET are allowed); a RESP3 connection keeps working normally and receives messages as
/// pushes. PUBLISH reaches subscribers on every node of the cluster.
extension ConnectionHandler {
    static func allowedWhileSubscribed(_ command: Command) -> Bool {
        switch command {
        case .subscribe, .unsubscribe, .psubscribe, .punsubscribe, .ping, .quit, .reset: true
        default: false
        }
    }

    var subscriptionCount: Int { subscribedChannels.count + subscribedPatterns.count }

    /// Drops every channel and pattern subscription without a reply (the connection closed,
    /// or RESET).
    func leaveAllSubscriptions() {
        if let record {
            for channel in subscribedChannels { state.pubsub.unsubscribe(channel, id: record.id, pattern: false) }
            for pattern in subscribedPatterns { state.pubsub.unsubscribe(pattern, id: record.id, pattern: true) }
        }
        subscribedChannels = []
        subscribedPatterns = []
    }

    func subscribe(_ argv: Argv, pattern: Bool, context: ChannelHandlerContext) {
        guard let record else { return }
        // Messages come through the channel from other connections (ConnectionHandler+DirectWrite).
        replyRoute.useChannelOnly()
        let subscriber = PubSubHub.Subscriber(channel: context.channel, resp3: writer.version == .v3, record: record)
        for index in 1..<argv.count {
            let name = Array(argv[index])
            if pattern {
                if !subscribedPatterns.contains(name) { subscribedPatterns.append(name) }
            } else if !subscribedChannels.contains(name) {
                subscribedChannels.append(name)
            }
            state.pubsub.subscribe(name, id: record.id, subscriber: subscriber, pattern: pattern)
            writeSubscription(pattern ? "psubscribe" : "subscribe", name)
        }
        // The confirmations must reach the client before any message, which other
        // connections write straight to the socket.
        flush(context: context)
    }

    func unsubscribe(_ argv: Argv, pattern: Bool) {
        let kind = pattern ? "punsubscribe" : "unsubscribe"
        var names = (1..<argv.count).map { Array(argv[$0]) }
        if names.isEmpty { names = pattern ? subscribedPatterns : subscribedChannels }
        if names.isEmpty {
            writer.pushHeader(3)
            writer.bulk(kind)
            writer.null()
            writer.integer(subscriptionCount)
            return
        }
        for name in names {
            if pattern {
                subscribedPatterns.removeAll { $0 == name }
            } else {
                subscribedChannels.removeAll { $0 == name }
            }
            if let record { state.pubsub.unsubscribe(name, id: record.id, pattern: pattern) }
            writeSubscription(kind, name)
        }
    }

    private func writeSubscription(_ kind: String, _ name: [UInt8]) {
        writer.pushHeader(3)
        writer.bulk(kind)
        writer.bulk(name)
        writer.integer(subscriptionCount)
    }

    func publish(_ argv: Argv, context: ChannelHandlerContext) {
        let channel = Array(argv[1])
        let message = Array(argv[2])
        // Replies already made go out first, so a connection subscribed to its own channel
        // sees the message after them, as Redis orders its output buffer.
        write(context: context)
        writer.integer(state.pubsub.publish(channel: channel, message: message))
        // Like Redis Cluster, PUBLISH reaches subscribers on every node; the reply counts this
        // node's. A message that arrived over another node's proxy link is not sent on again.
        guard !isProxyLink, let view = clusterView, !view.ownsEverySlot else { return }
        let request = Self.encode(argv, indices: [0, 1, 2])
        for member in view.members where !member.isLocal && member.record.state.holdsSlots {
            let key = ProxyConnections.Key(host: member.record.address.host, port: Int(member.record.address.clientPort), resp3: false)
            state.proxies.send(request, to: key).whenComplete { _ in }
        }
    }

    /// PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT | HELP
    func pubsub(_ argv: Argv) {
        let subcommand = String(decoding: argv[1], as: UTF8.self).uppercased()
        switch (subcommand, argv.count) {
        case ("CHANNELS", 2), ("CHANNELS", 3):
            let channels = state.pubsub.activeChannels(matching: argv.count == 3 ? Array(argv[2]) : nil)
            writer.arrayHeader(channels.count)
            for channel in channels { writer.bulk(channel) }
        case ("NUMSUB", _):
            // A flat array in both protocols, as Redis 7 sends it.
            writer.arrayHeader((argv.count - 2) * 2)
            for index in 2..<argv.count {
                writer.bulk(argv[index])
                writer.integer(state.pubsub.subscriberCount(Array(argv[index])))
            }
        case ("NUMPAT", 2):
            writer.integer(state.pubsub.patternCount)
        case ("HELP", 2):
            writer.simpleStrings([
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]", "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT", "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]", "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "HELP", "    Print this help.",
            ])
        case ("CHANNELS", _), ("NUMPAT", _):
            writer.error(ErrorReply.wrongArity("pubsub|\(subcommand.lowercased())"))
        default:
            writer.error(ErrorReply.unknownSubcommand(String(decoding: argv[1], as: UTF8.self), of: "pubsub"))
        }
    }
}
