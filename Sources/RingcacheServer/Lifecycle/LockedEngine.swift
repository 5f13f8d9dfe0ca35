import CacheEngine
import NIOConcurrencyHelpers

/// The node's engine and the lock that guards it.
///
/// `@unchecked Sendable` because every access to `engine` happens inside `withEngine`, which
/// holds `lock`, and the engine keeps no reference to the argument views or reply writers it is
/// lent during a call. `Mutex` would express the lock, but its `sending` contract makes the
/// compiler assume the lent argument views could be captured by the engine, which they cannot.
final class LockedEngine: @unchecked Sendable {
    private let lock = NIOLock()
    private let engine: Engine

    init(_ engine: Engine) {
        self.engine = engine
    }

    @inline(__always)
    func withEngine<Result>(_ body: (Engine) throws -> Result) rethrows -> Result {
        try lock.withLock { try body(engine) }
    }
}
