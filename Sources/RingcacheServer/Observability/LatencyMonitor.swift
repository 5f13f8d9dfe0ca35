import Synchronization

/// Redis's latency monitor (https://redis.io/docs/latest/operate/oss_and_stack/management/optimization/latency-monitor/):
/// with `latency-monitor-threshold` above 0 ms, each command at least that slow is logged as a
/// `command` event (or `fast-command` for commands flagged fast). Per event it keeps the last
/// 160 one-second samples (the worst latency of each second) and the all-time maximum.
final class LatencyMonitor: Sendable {
    static let historyLength = 160

    struct Sample: Sendable, Equatable {
        var timestamp: Int64
        var milliseconds: Int
    }

    struct Event: Sendable {
        var samples: [Sample] = []
        var maximum = 0
    }

    private let events = Mutex<[String: Event]>([:])

    func record(_ name: String, milliseconds: Int, timestamp: Int64) {
        events.withLock { events in
            var event = events[name] ?? Event()
            if var last = event.samples.last, last.timestamp == timestamp {
                last.milliseconds = max(last.milliseconds, milliseconds)
                event.samples[event.samples.count - 1] = last
            } else {
                event.samples.append(Sample(timestamp: timestamp, milliseconds: milliseconds))
                if event.samples.count > Self.historyLength { event.samples.removeFirst() }
            }
            event.maximum = max(event.maximum, milliseconds)
            events[name] = event
        }
    }

    /// LATENCY LATEST: (event, latest timestamp, latest ms, all-time max ms).
    func latest() -> [(name: String, sample: Sample, maximum: Int)] {
        events.withLock { events in
            events.compactMap { name, event in event.samples.last.map { (name, $0, event.maximum) } }.sorted { $0.name < $1.name }
        }
    }

    func history(_ name: String) -> [Sample] {
        events.withLock { $0[name]?.samples ?? [] }
    }

    /// LATENCY RESET [event ...]: how many events were reset.
    func reset(_ names: [String]) -> Int {
        events.withLock { events in
            if names.isEmpty {
                defer { events.removeAll() }
                return events.count
            }
            return names.reduce(0) { count, name in count + (events.removeValue(forKey: name) == nil ? 0 : 1) }
        }
    }
}
