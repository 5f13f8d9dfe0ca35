import Synchronization

/// One class of `client-output-buffer-limit` (normal or pubsub): the hard limit and the soft
/// limit in bytes (0 = none) and how long a client may stay above the soft one.
final class OutputLimits: Sendable {
    let hard = Atomic<Int>(0)
    let soft = Atomic<Int>(0)
    let softMilliseconds = Atomic<Int>(0)

    init(hard: Int = 0, soft: Int = 0, softSeconds: Int = 0) {
        set([hard, soft, softSeconds])
    }

    /// `[hard, soft, soft-seconds]`, as the directive gives them.
    func set(_ limits: [Int]) {
        hard.store(limits[0], ordering: .relaxed)
        soft.store(limits[1], ordering: .relaxed)
        softMilliseconds.store(limits[2] * 1000, ordering: .relaxed)
    }

    /// Redis's rule for a client with `pending` unsent bytes: over the hard limit at once, or
    /// over the soft limit without a break for the soft time, measured from `aboveSoftSince`
    /// (Unix ms, 0 = it was not above). Returns the verdict and the new `aboveSoftSince`.
    func judge(pending: Int, aboveSoftSince: Int64, now: Int64) -> (exceeded: Bool, aboveSoftSince: Int64) {
        let hard = hard.load(ordering: .relaxed)
        let soft = soft.load(ordering: .relaxed)
        let exceedsHard = hard > 0 && pending > hard
        guard soft > 0, pending > soft else { return (exceedsHard, 0) }
        guard aboveSoftSince != 0 else { return (exceedsHard, now) }
        return (exceedsHard || now - aboveSoftSince >= Int64(softMilliseconds.load(ordering: .relaxed)), aboveSoftSince)
    }
}
