import ServiceLifecycle

/// Runs `hz` times a second: active expiry, incremental table rebuilds, eviction down to a
/// lowered `maxmemory`, and the ops/s sample.
///
/// Active expiry follows Redis's expire.c: sample keys with a TTL, delete the expired ones, and
/// keep going while more than a tenth of a sample had expired, within a CPU budget of a quarter
/// of each period. The lock is held for one slice (200 samples or evictions, tens to hundreds
/// of microseconds), so clients never wait behind a long sweep.
struct BackgroundMaintenance: Service {
    let state: ServerState
    static let samplesPerSlice = 200
    static let budgetShare = 0.25

    func run() async throws {
        let clock = ContinuousClock()
        var lastCommands = state.stats.totalCommandsProcessed.load(ordering: .relaxed)
        var lastSample = clock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let hz = state.configuration.withLock { $0.hz }
            let period = Duration.milliseconds(1000 / hz)
            try? await Task.sleep(for: period, tolerance: .milliseconds(5))
            runExpiryCycle(budget: period * Self.budgetShare, clock: clock)

            let now = clock.now
            let elapsed = now - lastSample
            if elapsed >= .seconds(1) {
                let commands = state.stats.totalCommandsProcessed.load(ordering: .relaxed)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                state.stats.instantaneousOpsPerSecond.store(Int(Double(commands - lastCommands) / seconds), ordering: .relaxed)
                lastCommands = commands
                lastSample = now
            }
        }
    }

    func runExpiryCycle(budget: Duration, clock: ContinuousClock) {
        let deadline = clock.now + budget
        while clock.now < deadline {
            let now = WallClock.milliseconds()
            let moreToDo = state.engine.withEngine { engine in
                engine.backgroundStep(now: now, samples: Self.samplesPerSlice).moreToDo
            }
            if !moreToDo { return }
        }
    }
}
