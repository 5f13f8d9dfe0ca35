import NIOCore
import ServiceLifecycle

/// Runs `hz` times a second: active expiry, incremental table rebuilds, eviction down to a
/// lowered `maxmemory`, and the ops/s sample.
///
/// Active expiry follows Redis's expire.c: sample keys with a TTL, delete the expired ones, and
/// keep going while more than a tenth of a sample had expired, within a CPU budget of a quarter
/// of each period. While memory is over `maxmemory` the budget stretches to 60%, since Redis too
/// evicts whenever it is over the limit. The lock is held for one slice (200 samples or evictions, tens to hundreds
/// of microseconds), so clients never wait behind a long sweep.
///
/// Each slice runs on `eventLoop`, the first of the loops serving clients, as Redis runs its
/// cron in its one thread between events. Run from a thread of its own, a burst of slices
/// (a table rebuild asks for them back to back) competed with the event loop for the core
/// and the engine lock, and the scheduler let it hold the core for milliseconds at a time:
/// perf on the server's core showed the event loop not running for 2.5-4 ms stretches while
/// the maintenance thread stepped a rebuild, and SET's latency reached 10-14 ms. On the loop,
/// a slice waits behind the tick's I/O and delays it by one slice at most.
struct BackgroundMaintenance: Service {
    let state: ServerState
    let eventLoop: any EventLoop
    static let samplesPerSlice = 200
    static let budgetShare = 0.25
    static let evictionBudgetShare = 0.6

    func run() async throws {
        let clock = ContinuousClock()
        var lastCommands = state.stats.totalCommandsProcessed.load(ordering: .relaxed)
        var lastSample = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let hz = state.configuration.withLock { $0.hz }
            let period = Duration.milliseconds(1000 / hz)
            try? await Task.sleep(for: period, tolerance: .milliseconds(5))
            await runBackgroundCycle(period: period, clock: clock)

            let now = clock.now
            let elapsed = now - lastSample
            if elapsed >= .seconds(1) {
                startScheduledSave()
                closeIdleClients()
                let commands = state.stats.totalCommandsProcessed.load(ordering: .relaxed)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                state.stats.instantaneousOpsPerSecond.store(Int(Double(commands - lastCommands) / seconds), ordering: .relaxed)
                lastCommands = commands
                lastSample = now
            }
        }
    }

    /// `timeout`: closes clients idle for longer, except subscribers and blocked clients.
    func closeIdleClients() {
        let timeout = state.configuration.withLock { $0.idleTimeout }
        guard timeout > 0 else { return }
        let now = WallClock.milliseconds()
        for record in state.clients.all() {
            let idle = now - record.details.withLock { $0.lastInteraction }
            guard idle > Int64(timeout) * 1000, !state.blocking.isWaiting(id: record.id), !state.pubsub.isSubscribed(id: record.id) else { continue }
            state.logger.info("Closing idle client", metadata: ["addr": "\(record.address)", "idle_seconds": "\(idle / 1000)"])
            record.channel.close(promise: nil)
        }
    }

    /// Runs slices until nothing is left to do or the budget is spent. Between slices it pauses
    /// briefly: a mutex released and re-taken at once is rarely won by the thread waiting for
    /// it, and that thread is the event loop with clients' commands.
    func runBackgroundCycle(period: Duration, clock: ContinuousClock) async {
        let start = clock.now
        while true {
            let state = self.state
            guard let (moreToDo, evicting, events) = try? await eventLoop.submit({
                let now = WallClock.milliseconds()
                return state.engine.withEngine { engine in
                    let step = engine.backgroundStep(now: now, samples: Self.samplesPerSlice)
                    // Expired and evicted keys raise keyspace notifications.
                    return (step.moreToDo, step.evicting, engine.hasKeyspaceEvents ? engine.takeKeyspaceEvents() : [])
                }
            }).get() else { return }
            state.publishKeyspaceEvents(events)
            let elapsed = clock.now - start
            if !moreToDo || elapsed >= period * (evicting ? Self.evictionBudgetShare : Self.budgetShare) {
                state.replication.replicateExpirations(now: WallClock.milliseconds())
                return
            }
            try? await Task.sleep(for: Self.pauseBetweenSlices)
        }
    }

    static let pauseBetweenSlices = Duration.microseconds(50)

    /// `save <seconds> <changes>`: BGSAVE when any rule is met (Redis's serverCron), or when
    /// BGSAVE SCHEDULE asked for one while another was running.
    func startScheduledSave() {
        let points = state.configuration.withLock { $0.savePoints }
        let status = state.snapshots.status.withLock { $0 }
        guard !status.inProgress else { return }
        let changes = state.engine.withEngine { $0.stats.changesSinceSave }
        let secondsSinceSave = Int(WallClock.milliseconds() / 1000 - status.lastSaveTime)
        let due = points.contains { secondsSinceSave >= $0.seconds && changes >= $0.changes && changes > 0 }
        if due || state.saveScheduled.exchange(false, ordering: .relaxed) {
            try? state.snapshots.backgroundSave(state: state)
        }
    }
}
