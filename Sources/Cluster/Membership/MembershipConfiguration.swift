/// The membership protocol's timing and fan-out. All times are milliseconds.
///
/// The defaults aim at a crashed node being known dead by every member within 3 s on a
/// local network: a probe every 200 ms, an indirect probe after 100 ms, and a suspicion
/// timeout of 0.8–2.4 s for up to 10 nodes that shrinks as other members confirm it
/// (Lifeguard §4.2). HashiCorp memberlist's LAN profile (1 s probes, suspicion × 4) takes
/// about 6 s; Redis Cluster's default node timeout is 15 s.
public struct MembershipConfiguration: Sendable, Equatable {
    public var probeInterval: Int64 = 200
    public var probeTimeout: Int64 = 100
    /// k, the members asked to probe indirectly when a direct probe times out (SWIM §3.1).
    public var indirectChecks = 3
    /// Lifeguard's local health multiplier saturates here; probe interval and timeout are
    /// scaled by (health + 1), so a node that is itself slow waits longer before suspecting.
    public var maxLocalHealth = 8
    /// Suspicion lasts at least `suspicionMultiplier × max(1, log10 n) × probeInterval` …
    public var suspicionMultiplier: Double = 4
    /// … and at most this many times that minimum, shrinking with each confirmation.
    public var suspicionMaxMultiplier: Double = 3
    /// An update is piggybacked `retransmitMultiplier × ceil(log10(n + 1))` times.
    public var retransmitMultiplier = 4
    /// Members sent pending updates each gossip interval, besides those piggybacked on probes.
    public var gossipFanout = 3
    public var gossipInterval: Int64 = 200
    /// Full member-list exchange with one random member, so views converge after partitions
    /// heal and after lost updates; one dead member is also tried each time, so the two sides
    /// of a healed partition find each other again.
    public var pushPullInterval: Int64 = 10_000
    public var joinRetryInterval: Int64 = 1_000
    /// Dead and departed members are forgotten after this long.
    public var reapAfter: Int64 = 3_600_000
    /// Budget for updates piggybacked on one message, so a probe fits one UDP datagram.
    public var maxPiggybackBytes = 1_200
    /// Members per sync chunk: 4 records with 32 tokens each fit one 1500-byte frame.
    public var syncChunkSize = 4
    /// How long CLUSTER FORGET keeps a member from being re-learnt from gossip (Redis: 60 s).
    public var forgetBanTime: Int64 = 60_000

    public init() {}
}
