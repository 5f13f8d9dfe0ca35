import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `ringcache-server` process: read the configuration, start the listener and background
/// work as one service group, and on SIGTERM or SIGINT shut down gracefully and exit 0.
public enum RingcacheServerMain {
    static let usage = """
        Usage: ringcache-server [/path/to/ringcache.conf] [--directive value ...]
               ringcache-server --version | -v
               ringcache-server --help | -h

        Every config-file directive is also a flag, as with redis-server:
               ringcache-server --port 7001 --bind 127.0.0.1 --loglevel verbose
        """

    public static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async {
        if arguments == ["--help"] || arguments == ["-h"] {
            print(usage)
            exit(0)
        }
        if arguments == ["--version"] || arguments == ["-v"] {
            print("Ringcache server v=\(ServerInfo.ringcacheVersion) redis-compatible=\(ServerInfo.redisCompatibleVersion)")
            exit(0)
        }
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.load(arguments: arguments, readFile: readFile)
        } catch {
            fail("\(error)")
        }
        let sink: LogSink
        do {
            sink = try LogSink(path: configuration.logFile)
        } catch {
            fail("\(error)")
        }
        LoggingSystem.bootstrap { _ in RedisStyleLogHandler(logLevel: configuration.logLevel, sink: sink) }
        let runID = ServerState.makeRunID()
        var logger = Logger(label: "ringcache")
        // Every line names the node, so logs of many nodes can be merged and still read.
        logger[metadataKey: "node"] = "\(runID.prefix(8))"

        var generator = SystemRandomNumberGenerator()
        guard access(configuration.directory, W_OK) == 0 else {
            fail("can't use dir '\(configuration.directory)': \(String(cString: strerror(errno)))")
        }
        let cluster: ClusterNode
        do {
            cluster = try ClusterNode(configuration: configuration, logger: logger, now: WallClock.milliseconds())
        } catch {
            fail("\(error)")
        }
        // The node id is the name that lasts; the run id changes with every start.
        logger[metadataKey: "node"] = "\(cluster.localID.short)"
        let linkTLS: LinkTLS?
        do {
            linkTLS = try ServerTLS.makeLinkContexts(configuration)
        } catch {
            fail(error.description)
        }
        let state = ServerState(configuration: configuration, cluster: cluster, linkTLS: linkTLS, logger: logger, now: WallClock.milliseconds(),
                                seed: generator.next(), runID: runID)
        logger.notice("Ringcache is starting", metadata: ["version": "\(ServerInfo.ringcacheVersion)", "pid": "\(ProcessInfoSnapshot.processID)"])
        if configuration.tlsPort > 0 {
            do {
                _ = try ServerTLS.makeContext(configuration)
            } catch {
                fail(error.description)
            }
        }
        if !configuration.aclFile.isEmpty {
            do {
                try state.loadACLFile()
            } catch {
                fail("bad aclfile '\(configuration.aclFile)': \(error.message)")
            }
        }
        do {
            switch try state.snapshots.load(state: state) {
            case .noFile:
                break
            case .loaded(let keys, let expired, let milliseconds):
                logger.notice("DB loaded from disk", metadata: ["keys": "\(keys)", "expired_skipped": "\(expired)", "ms": "\(milliseconds)"])
            }
        } catch {
            if configuration.ignoreBadSnapshot {
                logger.warning("Starting empty: ignore-bad-snapshot is set", metadata: ["error": "\(error)"])
            } else {
                fail("\(error) (start with --ignore-bad-snapshot to start empty instead)")
            }
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.ioThreads)

        let services = ServiceGroup(configuration: .init(
            services: [
                .init(service: ClusterService(node: cluster, replication: state.replication)),
                .init(service: ClientListener(state: state, group: group)),
                .init(service: BackgroundMaintenance(state: state, eventLoop: group.next())),
                .init(service: AdminListener(state: state, group: group)),
                .init(service: HandoffService(state: state)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        var exitCode: Int32 = 0
        do {
            try await services.run()
        } catch {
            logger.warning("\(error)")
            exitCode = 1
        }
        try? await group.shutdownGracefully()
        // Clients are gone: a snapshot written now holds every acknowledged write.
        let finalSave = FinalSave(rawValue: state.finalSave.load(ordering: .relaxed)) ?? .ifSavePoints
        let savePoints = state.configuration.withLock { $0.savePoints }
        if finalSave == .always || (finalSave == .ifSavePoints && !savePoints.isEmpty) {
            logger.notice("Saving the final snapshot before exiting")
            // A BGSAVE still running holds the snapshot; let it finish (bounded) first.
            for _ in 0..<6000 where state.snapshots.status.withLock({ $0.inProgress }) {
                try? await Task.sleep(for: .milliseconds(10))
            }
            do {
                try state.snapshots.save(state: state)
            } catch {
                logger.warning("Error trying to save the DB, can't exit", metadata: ["error": "\(error)"])
                exitCode = 1
            }
        }
        if exitCode == 0 { logger.notice("Ringcache is now ready to exit, bye bye...") }
        exit(exitCode)
    }

    private static func fail(_ message: String) -> Never {
        LogSink.writeAll(STDERR_FILENO, "ringcache-server: \(message)\n")
        exit(1)
    }

    private static func readFile(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else {
            throw StartupError(String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let read = fread(&chunk, 1, chunk.count, file)
            if read <= 0 { break }
            bytes.append(contentsOf: chunk.prefix(read))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
