import NIOCore

/// Runs Swift tasks on a SwiftNIO event loop (SE-0417 task executor preference).
///
/// A task that calls the client from Swift's global executor crosses threads twice per
/// request: its write hops onto the connection's event loop, and the reply's continuation
/// hops back to a pool thread. On a busy core those hops, and the context switches they
/// cause, cost more than the request itself. A task started with this executor as its
/// preference runs on the loop: its write goes straight into the pipeline and its reply
/// resumes it on the same thread, as a single-threaded event-loop client (redis-benchmark,
/// memtier) works.
///
///     let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
///     let client = try await RingcacheClient(configuration: configuration, group: group)
///     let executor = EventLoopTaskExecutor(group.next())
///     await withTaskGroup(of: Void.self) { tasks in
///         for _ in 0..<50 { tasks.addTask(executorPreference: executor) { /* calls */ } }
///     }
///
/// Contract: work on such a task must not block the thread — it is the loop every one of
/// its connections is served from.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // From the loop's own thread this queues behind the current tick's work without
        // waking the selector; from elsewhere it wakes the loop once.
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
