import Cluster
import NIOConcurrencyHelpers

/// The node's membership instance and the lock that serialises every call into it.
///
/// `@unchecked Sendable` because `membership` is only reached through `withLock`, and the
/// closures given to it return values (messages, events, records), never the instance. `Mutex`
/// would express the same, but its `sending` contract rejects lending the instance to a helper.
final class LockedMembership: @unchecked Sendable {
    private let lock = NIOLock()
    private let membership: Membership

    init(_ membership: Membership) {
        self.membership = membership
    }

    func withLock<Result>(_ body: (Membership) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(membership) }
    }
}
