import Cluster
import Foundation
import Testing

/// The membership protocol on `MembershipSimulator`'s virtual time: properties from the SWIM
/// and Lifeguard papers, checked on large simulated clusters.
@Suite struct MembershipSimulationTests {
    static let period = MembershipConfiguration().probeInterval

    @Test func aCrashedNodeIsKnownDeadByAllOfAThousandWithinBoundedPeriods() {
        var configuration = MembershipConfiguration()
        configuration.pushPullInterval = 1_000_000
        let simulator = MembershipSimulator(count: 1000, configuration: configuration, seed: 1, step: 20)
        simulator.recordsEvents = false
        simulator.run(until: 2 * Self.period)
        let crashedAt = simulator.now
        simulator.crash(17)
        let detected = simulator.run(until: { simulator.everyone(sees: 17, as: .dead) }, limit: crashedAt + 60 * Self.period)
        let periods = detected.map { Double($0 - crashedAt) / Double(Self.period) }
        print("simulation: 1000 nodes, crashed node known dead by all after \(periods.map { String(format: "%.1f", $0) } ?? "never") periods")
        // Detection takes a probe period or two, then the suspicion timeout: at most
        // 3 × 4 × log10(1000) = 36 periods, normally near the 12-period minimum once other
        // members confirm; dissemination adds O(log n) periods.
        #expect(periods != nil)
        #expect((periods ?? .infinity) <= 45)
    }

    @Test func anUpdateReachesEveryNodeInLogarithmicRounds() {
        for count in [100, 1000] {
            var configuration = MembershipConfiguration()
            configuration.pushPullInterval = 1_000_000
            let simulator = MembershipSimulator(count: count, configuration: configuration, seed: UInt64(count), step: 10)
            simulator.recordsEvents = false
            simulator.run(until: Self.period)
            // A false suspicion makes node 3 refute with incarnation 1; measure how long it
            // takes until every node has heard the refutation.
            let subject = simulator.nodes[3].local
            var accusation = subject
            accusation.state = .suspect
            let start = simulator.now
            simulator.nodes[3].receive(Envelope(sender: simulator.nodes[4].local.id, message: .gossip(updates: [MemberUpdate(record: accusation, reporter: simulator.nodes[4].local.id)])), from: simulator.nodes[4].local.address.bus, now: start)
            let everyone = simulator.run(until: {
                simulator.nodes.allSatisfy { $0.member(subject.id)?.incarnation == 1 }
            }, limit: start + 100 * Self.period)
            let rounds = everyone.map { Double($0 - start) / Double(Self.period) } ?? .infinity
            let bound = 1.5 * log2(Double(count))
            print("simulation: \(count) nodes, an update reached all in \(String(format: "%.1f", rounds)) rounds (bound \(String(format: "%.1f", bound)))")
            #expect(rounds <= bound)
        }
    }

    @Test func noFalseDeathOverAThousandPeriodsWithFivePercentLoss() {
        var configuration = MembershipConfiguration()
        configuration.pushPullInterval = 30_000
        let simulator = MembershipSimulator(count: 1000, configuration: configuration, network: .init(loss: 0.05, delay: 1...20), seed: 5, step: 25)
        simulator.recordsEvents = false
        simulator.run(until: 1000 * Self.period)
        let deaths = simulator.eventCounts[.dead, default: 0]
        let suspicions = simulator.eventCounts[.suspected, default: 0]
        let refutations = simulator.eventCounts[.refuted, default: 0]
        print("simulation: 1000 nodes, 1000 periods at 5% loss: \(refutations) false suspicions refuted (\(suspicions) suspected events), \(deaths) deaths, \(simulator.delivered) messages")
        #expect(deaths == 0)
        #expect(suspicions > 0, "5% loss should cause some suspicions, which must all be refuted")
        #expect(simulator.nodes.allSatisfy { $0.hasPeers })
    }

    @Test func viewsConvergeAfterAPartitionHeals() {
        var configuration = MembershipConfiguration()
        configuration.pushPullInterval = 5_000
        let count = 200
        let simulator = MembershipSimulator(count: count, configuration: configuration, seed: 9, step: 20)
        simulator.recordsEvents = false
        simulator.run(until: Self.period)
        simulator.partition { $0 % 2 }
        // Each side declares the other dead.
        let split = simulator.run(until: { simulator.everyone(sees: 0, as: .dead) || simulator.count(seeing: 0, as: .dead) >= count / 2 - 1 }, limit: 100 * Self.period)
        #expect(split != nil)
        #expect(simulator.state(of: 0, seenBy: 2) == .alive)
        simulator.heal()
        let healedAt = simulator.now
        let converged = simulator.run(until: {
            (0..<count).allSatisfy { simulator.everyone(sees: $0, as: .alive) }
        }, limit: healedAt + 8 * configuration.pushPullInterval)
        let seconds = converged.map { Double($0 - healedAt) / 1000 }
        print("simulation: \(count) nodes, views converged \(seconds.map { String(format: "%.1f", $0) } ?? "never") s after the partition healed (push-pull every 5 s)")
        #expect(converged != nil)
    }

    @Test func theSimulatorIsDeterministicForASeed() {
        func run() -> [String] {
            let simulator = MembershipSimulator(count: 30, network: .init(loss: 0.1), seed: 42)
            simulator.crash(3)
            simulator.run(until: 40 * Self.period)
            return simulator.events.map { "\($0.time) \($0.node) \($0.event.kind) \($0.event.member.id.short)" }
        }
        let first = run()
        #expect(!first.isEmpty)
        #expect(first == run())
    }
}
