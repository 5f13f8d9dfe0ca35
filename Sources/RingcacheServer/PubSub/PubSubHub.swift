import CacheEngine
import NIOCore
import RESP
import Synchronization

/// Pub/sub (https://redis.io/docs/latest/develop/interact/pubsub/): which connections listen
/// to which channels and patterns, and delivery of published messages to them.
///
/// Messages are written straight to subscribers' channels (NIO makes that safe from any
/// thread) in the subscriber's protocol: a three- or four-element array in RESP2, a push
/// (`>`) in RESP3, which is how RESP3 clients receive messages on a normal connection.
final class PubSubHub: Sendable {
    struct Subscriber: Sendable {
        var channel: any Channel
        var resp3: Bool
        /// The subscriber's connection, whose unsent bytes count against the limit.
        var record: ClientRecord
    }

    /// `client-output-buffer-limit pubsub`'s hard limit in bytes; 0 = none.
    let outputLimits = OutputLimits(hard: 32 << 20, soft: 8 << 20, softSeconds: 60)

    private struct State {
        var channels: [[UInt8]: [Int: Subscriber]] = [:]
        var patterns: [[UInt8]: [Int: Subscriber]] = [:]
    }

    private let state = Mutex(State())

    func subscribe(_ name: [UInt8], id: Int, subscriber: Subscriber, pattern: Bool) {
        state.withLock { state in
            if pattern {
                state.patterns[name, default: [:]][id] = subscriber
            } else {
                state.channels[name, default: [:]][id] = subscriber
            }
        }
    }

    func unsubscribe(_ name: [UInt8], id: Int, pattern: Bool) {
        state.withLock { state in
            if pattern {
                state.patterns[name]?.removeValue(forKey: id)
                if state.patterns[name]?.isEmpty == true { state.patterns.removeValue(forKey: name) }
            } else {
                state.channels[name]?.removeValue(forKey: id)
                if state.channels[name]?.isEmpty == true { state.channels.removeValue(forKey: name) }
            }
        }
    }

    /// Delivers `message` to this node's subscribers of `channel` and of matching patterns;
    /// returns how many received it (PUBLISH's reply).
    func publish(channel: [UInt8], message: [UInt8]) -> Int {
        let (direct, matched) = state.withLock { state -> ([Subscriber], [([UInt8], Subscriber)]) in
            let direct = state.channels[channel].map { Array($0.values) } ?? []
            var matched: [([UInt8], Subscriber)] = []
            for (pattern, subscribers) in state.patterns where Self.matches(pattern, channel) {
                for subscriber in subscribers.values { matched.append((pattern, subscriber)) }
            }
            return (direct, matched)
        }
        for subscriber in direct {
            deliver(to: subscriber, kind: "message", pattern: nil, channel: channel, message: message)
        }
        for (pattern, subscriber) in matched {
            deliver(to: subscriber, kind: "pmessage", pattern: pattern, channel: channel, message: message)
        }
        return direct.count + matched.count
    }

    private func deliver(to subscriber: Subscriber, kind: String, pattern: [UInt8]?, channel: [UInt8], message: [UInt8]) {
        var writer = RESPWriter(buffer: subscriber.channel.allocator.buffer(capacity: 32 + channel.count + message.count))
        writer.version = subscriber.resp3 ? .v3 : .v2
        writer.pushHeader(pattern == nil ? 3 : 4)
        writer.bulk(kind)
        if let pattern { writer.bulk(pattern) }
        writer.bulk(channel)
        writer.bulk(message)
        let size = writer.buffer.readableBytes
        let pending = subscriber.record.pendingOutput.wrappingAdd(size, ordering: .relaxed).newValue
        if exceedsOutputLimits(subscriber.record, pending: pending) {
            // A subscriber that stopped reading is disconnected rather than let grow memory
            // (Redis's client-output-buffer-limit pubsub); its subscriptions go with it.
            subscriber.record.pendingOutput.wrappingSubtract(size, ordering: .relaxed)
            subscriber.channel.close(promise: nil)
            return
        }
        let promise = subscriber.channel.eventLoop.makePromise(of: Void.self)
        let record = subscriber.record
        promise.futureResult.whenComplete { _ in record.pendingOutput.wrappingSubtract(size, ordering: .relaxed) }
        subscriber.channel.writeAndFlush(writer.buffer, promise: promise)
    }

    /// Checks `client-output-buffer-limit pubsub` as a message is added (`OutputLimits.judge`).
    private func exceedsOutputLimits(_ record: ClientRecord, pending: Int) -> Bool {
        let verdict = outputLimits.judge(pending: pending, aboveSoftSince: record.aboveSoftLimitSince.load(ordering: .relaxed),
                                         now: WallClock.milliseconds())
        record.aboveSoftLimitSince.store(verdict.aboveSoftSince, ordering: .relaxed)
        return verdict.exceeded
    }

    static func matches(_ pattern: [UInt8], _ channel: [UInt8]) -> Bool {
        pattern.withUnsafeBytes { pattern in
            channel.withUnsafeBytes { channel in GlobPattern.matches(pattern, channel) }
        }
    }

    /// PUBSUB CHANNELS [pattern]: channels with at least one subscriber.
    func activeChannels(matching pattern: [UInt8]?) -> [[UInt8]] {
        state.withLock { state in
            state.channels.keys.filter { pattern == nil || Self.matches(pattern!, $0) }.sorted { $0.lexicographicallyPrecedes($1) }
        }
    }

    /// Whether connection `id` listens to any channel or pattern.
    func isSubscribed(id: Int) -> Bool {
        state.withLock { state in
            state.channels.values.contains { $0[id] != nil } || state.patterns.values.contains { $0[id] != nil }
        }
    }

    func subscriberCount(_ channel: [UInt8]) -> Int {
        state.withLock { $0.channels[channel]?.count ?? 0 }
    }

    /// PUBSUB NUMPAT: patterns subscribed to (by anyone), as Redis 7 counts them.
    var patternCount: Int {
        state.withLock { $0.patterns.count }
    }
}
