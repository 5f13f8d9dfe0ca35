/// Runs many `Membership` instances against each other on virtual time over a simulated
/// network with seeded loss, delay and partitions — deterministic for a given seed, so a
/// protocol property can be checked exactly and a failure replayed.
///
/// Time advances in steps of `step` milliseconds; each step delivers the messages due and
/// ticks every running node.
public final class MembershipSimulator {
    public struct Network: Sendable {
        /// Probability that a message is lost.
        public var loss: Double
        /// Delivery delay, uniform in this range (milliseconds).
        public var delay: ClosedRange<Int64>

        public init(loss: Double = 0, delay: ClosedRange<Int64> = 1...10) {
            self.loss = loss
            self.delay = delay
        }
    }

    public private(set) var now: Int64 = 0
    public let nodes: [Membership]
    public var network: Network
    public let step: Int64
    public private(set) var delivered = 0
    public private(set) var dropped = 0
    private var crashed: Set<Int> = []
    /// Group of each node while partitioned; messages between groups are lost.
    private var groups: [Int]?
    private var random: SeededRandom
    private var queue = MessageHeap()
    private var indexOfAddress: [BusAddress: Int] = [:]
    private var order = 0
    /// Events every node reported, with the time and the reporting node.
    public private(set) var events: [(time: Int64, node: Int, event: MembershipEvent)] = []
    public var recordsEvents = true
    /// How many events of each kind the nodes reported, recorded or not.
    public private(set) var eventCounts: [MembershipEvent.Kind: Int] = [:]

    /// `count` nodes that all start knowing each other as alive (as after a converged join).
    public init(count: Int, configuration: MembershipConfiguration = .init(), network: Network = .init(), seed: UInt64, step: Int64 = 10) {
        var random = SeededRandom(seed: seed)
        let records = (0..<count).map { index in
            MemberRecord(
                id: .random(using: &random),
                address: MemberAddress(host: "10.\(index / 65536).\(index / 256 % 256).\(index % 256)", clientPort: 7000, busPort: 17000),
                incarnation: 0, state: .alive, tokens: [RingPosition.point(ofSlot: index % SlotMap.slotCount)])
        }
        nodes = records.map { record in
            let membership = Membership(local: record, seeds: [], configuration: configuration, seed: random.next(), now: 0)
            for other in records where other.id != record.id {
                membership.apply(MemberUpdate(record: other, reporter: other.id), now: 0)
            }
            _ = membership.takeEvents()
            membership.broadcasts = BroadcastQueue()
            return membership
        }
        for (index, record) in records.enumerated() { indexOfAddress[record.address.bus] = index }
        self.network = network
        self.step = step
        self.random = random
    }

    // MARK: Faults

    /// Stops a node: it neither sends nor receives from now on.
    public func crash(_ index: Int) {
        crashed.insert(index)
    }

    public func isCrashed(_ index: Int) -> Bool { crashed.contains(index) }

    /// Splits the network: `group(i)` names node i's side.
    public func partition(_ group: (Int) -> Int) {
        groups = nodes.indices.map(group)
    }

    public func heal() {
        groups = nil
    }

    // MARK: Running

    /// Advances virtual time to `time`.
    public func run(until time: Int64) {
        while now < time {
            now += step
            while let next = queue.peek, next.deliverAt <= now {
                queue.pop()
                deliver(next)
            }
            for index in nodes.indices where !crashed.contains(index) {
                nodes[index].tick(now: now)
                flush(index)
            }
        }
    }

    /// Runs until `condition` holds or `limit` passes; returns the time it first held.
    public func run(until condition: () -> Bool, limit: Int64) -> Int64? {
        while now < limit {
            if condition() { return now }
            run(until: now + step)
        }
        return condition() ? now : nil
    }

    // MARK: Observing

    /// What `observer` believes of `subject`'s state.
    public func state(of subject: Int, seenBy observer: Int) -> MemberState? {
        nodes[observer].member(nodes[subject].local.id)?.state
    }

    /// Whether every running node other than `subject` sees it in `state`.
    public func everyone(sees subject: Int, as state: MemberState) -> Bool {
        nodes.indices.allSatisfy { $0 == subject || crashed.contains($0) || self.state(of: subject, seenBy: $0) == state }
    }

    /// How many running nodes see `subject` in `state`.
    public func count(seeing subject: Int, as state: MemberState) -> Int {
        nodes.indices.filter { $0 != subject && !crashed.contains($0) && self.state(of: subject, seenBy: $0) == state }.count
    }

    // MARK: Plumbing

    private func flush(_ index: Int) {
        let node = nodes[index]
        for message in node.takeOutgoing() {
            guard let target = indexOfAddress[message.destination] else { continue }
            if random.chance(network.loss) || (groups.map { $0[index] != $0[target] } ?? false) {
                dropped += 1
                continue
            }
            let span = UInt64(network.delay.upperBound - network.delay.lowerBound + 1)
            let delay = network.delay.lowerBound + Int64(random.next() % span)
            order += 1
            queue.push(Pending(deliverAt: now + delay, order: order, from: index, to: target, envelope: message.envelope))
        }
        let events = node.takeEvents()
        for event in events { eventCounts[event.kind, default: 0] += 1 }
        if recordsEvents {
            for event in events { self.events.append((now, index, event)) }
        }
    }

    private func deliver(_ message: Pending) {
        guard !crashed.contains(message.to) else { return }
        if let groups, groups[message.from] != groups[message.to] {
            dropped += 1
            return
        }
        delivered += 1
        nodes[message.to].receive(message.envelope, from: nodes[message.from].local.address.bus, now: now)
        flush(message.to)
    }
}

struct Pending {
    var deliverAt: Int64
    var order: Int
    var from: Int
    var to: Int
    var envelope: Envelope

    func precedes(_ other: Pending) -> Bool {
        deliverAt != other.deliverAt ? deliverAt < other.deliverAt : order < other.order
    }
}

/// A binary min-heap of messages by delivery time, then send order.
struct MessageHeap {
    private var items: [Pending] = []

    var peek: Pending? { items.first }

    mutating func push(_ item: Pending) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        let last = items.removeLast()
        guard !items.isEmpty else { return }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count && items[left].precedes(items[smallest]) { smallest = left }
            if right < items.count && items[right].precedes(items[smallest]) { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
