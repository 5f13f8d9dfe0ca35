import CacheEngine
import Cluster
import NIOCore
import RESP

/// Commands that need the connection, the configuration or the process rather than the keyspace.
extension ConnectionHandler {
    func executeServerCommand(_ spec: CommandSpec, _ argv: Argv, now: Int64, context: ChannelHandlerContext) {
        // CLIENT LIST's cmd= names a container's subcommand too, as Redis's does (client|list).
        if Self.subcommandContainers.contains(spec.command) { lastCommandName = Self.fullName(spec, argv) }
        switch spec.command {
        case .ping:
            if argv.count > 2 {
                writer.error(ErrorReply.wrongArity("ping"))
            } else if writer.version == .v2 && subscriptionCount > 0 {
                // In subscribed mode Redis answers PING with a two-element array.
                writer.arrayHeader(2)
                writer.bulk("pong")
                if argv.count == 2 { writer.bulk(argv[1]) } else { writer.bulk("") }
            } else if argv.count == 2 {
                writer.bulk(argv[1])
            } else {
                writer.simpleString("PONG")
            }
        case .echo:
            writer.bulk(argv[1])
        case .auth:
            auth(argv)
        case .acl:
            acl(argv)
        case .quit:
            writer.ok()
            closeAfterFlush = true
        case .hello:
            hello(argv)
        case .reset:
            resetConnection()
        case .select:
            guard let index = Int(String(decoding: argv[1], as: UTF8.self)) else {
                writer.error(ErrorReply.notInteger)
                return
            }
            if index == 0 { writer.ok() } else { writer.error("ERR DB index is out of range") }
        case .client:
            client(argv, now: now, context: context)
        case .command:
            command(argv)
        case .info:
            let sections = (1..<argv.count).map { String(decoding: argv[$0], as: UTF8.self) }
            writer.verbatim(InfoReport(state: state).render(sections: sections, now: now))
        case .config:
            config(argv)
        case .shutdown:
            shutdown(argv)
        case .cluster:
            cluster(argv, now: now)
        case .latency:
            latency(argv)
        case .wait:
            wait(argv, context: context)
        case .subscribe:
            subscribe(argv, pattern: false, context: context)
        case .psubscribe:
            subscribe(argv, pattern: true, context: context)
        case .unsubscribe:
            unsubscribe(argv, pattern: false)
        case .punsubscribe:
            unsubscribe(argv, pattern: true)
        case .publish:
            publish(argv, context: context)
        case .pubsub:
            pubsub(argv)
        case .monitor:
            // +OK goes out before the first fed line, which other connections write directly.
            writer.ok()
            flush(context: context)
            // Fed lines come through the channel from other connections (ConnectionHandler+DirectWrite).
            replyRoute.useChannelOnly()
            if let record { state.monitors.add(id: record.id, channel: record.channel) }
        case .readonly:
            readOnlyMode = true
            writer.ok()
        case .readwrite:
            readOnlyMode = false
            writer.ok()
        case .asking:
            // Slots never migrate half-way here (the ring moves whole slots), so ASKING has
            // nothing to unlock; it is accepted so clients that send it keep working.
            writer.ok()
        case .save:
            do {
                try state.snapshots.save(state: state)
                writer.ok()
            } catch {
                writer.error("ERR \(error)")
            }
        case .bgsave:
            bgsave(argv)
        case .slowlog:
            slowlog(argv)
        case .lastsave:
            writer.integer(Int(state.snapshots.status.withLock { $0.lastSaveTime }))
        case .multi:
            multi()
        case .exec:
            exec(now: now, context: context)
        case .discard:
            discard()
        case .watch:
            watch(argv, now: now)
        case .unwatch:
            unwatchAll()
            writer.ok()
        case .time:
            let micros = WallClock.microseconds()
            writer.arrayHeader(2)
            writer.bulk(String(micros / 1_000_000))
            writer.bulk(String(micros % 1_000_000))
        default:
            preconditionFailure("\(spec.name) is executed by the engine")
        }
    }

    // MARK: RESET

    /// RESET (Redis 6.2, networking.c clearClientConnectionState): the connection as if new.
    /// It leaves MULTI (discarding the queue), WATCH, MONITOR and every subscription, and
    /// goes back to RESP2, READWRITE and no name. It is authenticated as the default user
    /// again only if that user needs no password. Run even inside MULTI, not queued.
    func resetConnection() {
        transaction = nil
        unwatchAll()
        if let record { state.monitors.remove(id: record.id) }
        leaveAllSubscriptions()
        readOnlyMode = false
        writer.version = .v2
        authenticateAsDefaultUserIfOpen()
        let userName = user?.name ?? "default"
        record?.details.withLock { details in
            details.protocolVersion = 2
            details.name = ""
            details.user = userName
        }
        writer.simpleString("RESET")
    }

    // MARK: LATENCY

    /// LATENCY LATEST | HISTORY event | RESET [event ...] | HELP
    private func latency(_ argv: Argv) {
        let subcommand = String(decoding: argv[1], as: UTF8.self).uppercased()
        switch (subcommand, argv.count) {
        case ("LATEST", 2):
            let events = state.latencyMonitor.latest()
            writer.arrayHeader(events.count)
            for event in events {
                writer.arrayHeader(4)
                writer.bulk(event.name)
                writer.integer(Int(event.sample.timestamp))
                writer.integer(event.sample.milliseconds)
                writer.integer(event.maximum)
            }
        case ("HISTORY", 3):
            let samples = state.latencyMonitor.history(String(decoding: argv[2], as: UTF8.self))
            writer.arrayHeader(samples.count)
            for sample in samples {
                writer.arrayHeader(2)
                writer.integer(Int(sample.timestamp))
                writer.integer(sample.milliseconds)
            }
        case ("RESET", _):
            writer.integer(state.latencyMonitor.reset((2..<argv.count).map { String(decoding: argv[$0], as: UTF8.self) }))
        case ("HELP", 2):
            writer.simpleStrings([
                "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "HISTORY <event>", "    Return time-latency samples for the <event> class.",
                "LATEST", "    Return the latest latency samples for all events.",
                "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)",
                "HELP", "    Print this help.",
            ])
        case ("LATEST", _), ("HISTORY", _):
            writer.error(ErrorReply.wrongArity("latency|\(subcommand.lowercased())"))
        default:
            writer.error(ErrorReply.unknownSubcommand(String(decoding: argv[1], as: UTF8.self), of: "latency"))
        }
    }

    // MARK: SHUTDOWN

    /// SLOWLOG GET [count] | LEN | RESET | HELP
    private func slowlog(_ argv: Argv) {
        let subcommand = String(decoding: argv[1], as: UTF8.self).uppercased()
        switch (subcommand, argv.count) {
        case ("GET", 2), ("GET", 3):
            var count: Int? = 10
            if argv.count == 3 {
                guard let requested = Int(String(decoding: argv[2], as: UTF8.self)) else {
                    writer.error(ErrorReply.notInteger)
                    return
                }
                guard requested >= -1 else {
                    writer.error("ERR count should be greater than or equal to -1")
                    return
                }
                count = requested == -1 ? nil : requested
            }
            let entries = state.slowLog.entries(count)
            writer.arrayHeader(entries.count)
            for entry in entries {
                writer.arrayHeader(6)
                writer.integer(entry.id)
                writer.integer(Int(entry.timestamp))
                writer.integer(entry.microseconds)
                writer.arrayHeader(entry.arguments.count)
                for argument in entry.arguments { writer.bulk(argument) }
                writer.bulk(entry.clientAddress)
                writer.bulk(entry.clientName)
            }
        case ("LEN", 2):
            writer.integer(state.slowLog.count)
        case ("RESET", 2):
            state.slowLog.reset()
            writer.ok()
        case ("HELP", 2):
            writer.simpleStrings([
                "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name",
                "LEN", "    Return the length of the slowlog.",
                "RESET", "    Reset the slowlog.",
                "HELP", "    Print this help.",
            ])
        default:
            writer.error(ErrorReply.unknownSubcommand(String(decoding: argv[1], as: UTF8.self), of: "slowlog"))
        }
    }

    /// BGSAVE [SCHEDULE]
    private func bgsave(_ argv: Argv) {
        let schedule = argv.count == 2 && String(decoding: argv[1], as: UTF8.self).uppercased() == "SCHEDULE"
        guard argv.count == 1 || schedule else {
            writer.error(ErrorReply.syntax)
            return
        }
        do {
            try state.snapshots.backgroundSave(state: state)
            writer.simpleString("Background saving started")
        } catch SnapshotManager.SaveError.alreadyInProgress where schedule {
            state.saveScheduled.store(true, ordering: .relaxed)
            writer.simpleString("Background saving scheduled")
        } catch {
            writer.error("ERR \(error)")
        }
    }

    /// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]: the same graceful stop as SIGTERM (the
    /// signal is raised so one path does it). As in Redis, a snapshot is written on the way out
    /// when save points are configured or SAVE is given, after clients are disconnected; NOSAVE
    /// skips it. Success sends no reply; the connection closes with the others.
    private func shutdown(_ argv: Argv) {
        var save = false, noSave = false, abort = false
        for index in 1..<argv.count {
            switch String(decoding: argv[index], as: UTF8.self).uppercased() {
            case "SAVE" where !noSave: save = true
            case "NOSAVE" where !save: noSave = true
            case "NOW", "FORCE": break
            case "ABORT": abort = true
            default:
                writer.error(ErrorReply.syntax)
                return
            }
        }
        if abort {
            guard argv.count == 2 else {
                writer.error(ErrorReply.syntax)
                return
            }
            writer.error("ERR No shutdown in progress.")
            return
        }
        let mode: FinalSave = save ? .always : noSave ? .never : .ifSavePoints
        state.finalSave.store(mode.rawValue, ordering: .relaxed)
        state.logger.notice("User requested shutdown...", metadata: ["client": "\(record?.address ?? "?")"])
        closeAfterFlush = true
        ProcessSignals.requestGracefulShutdown()
    }

    // MARK: HELLO

    /// HELLO [protover [AUTH username password] [SETNAME clientname]]
    private func hello(_ argv: Argv) {
        var version = writer.version
        var index = 1
        if argv.count > 1 {
            guard let requested = Int(String(decoding: argv[1], as: UTF8.self)) else {
                writer.error("ERR Protocol version is not an integer or out of range")
                return
            }
            guard let parsed = RESPVersion(rawValue: requested) else {
                writer.error("NOPROTO unsupported protocol version")
                return
            }
            version = parsed
            index = 2
        }
        var newName: String?
        while index < argv.count {
            let option = String(decoding: argv[index], as: UTF8.self).uppercased()
            if option == "AUTH" && index + 2 < argv.count {
                guard authenticate(String(decoding: argv[index + 1], as: UTF8.self), String(decoding: argv[index + 2], as: UTF8.self)) else {
                    writer.error("WRONGPASS invalid username-password pair or user is disabled.")
                    return
                }
                index += 3
            } else if option == "SETNAME" && index + 1 < argv.count {
                let name = String(decoding: argv[index + 1], as: UTF8.self)
                guard Self.isValidClientName(name) else {
                    writer.error("ERR Client names cannot contain spaces, newlines or special characters.")
                    return
                }
                newName = name
                index += 2
            } else {
                writer.error("ERR Syntax error in HELLO option '\(option.lowercased())'")
                return
            }
        }
        guard user != nil else {
            writer.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
            return
        }
        writer.version = version
        record?.details.withLock { details in
            details.protocolVersion = version.rawValue
            if let newName { details.name = newName }
        }
        writer.mapHeader(7)
        writer.bulk("server")
        writer.bulk("ringcache")
        writer.bulk("version")
        writer.bulk(ServerInfo.redisCompatibleVersion)
        writer.bulk("proto")
        writer.integer(version.rawValue)
        writer.bulk("id")
        writer.integer(record?.id ?? 0)
        writer.bulk("mode")
        writer.bulk("standalone")
        writer.bulk("role")
        writer.bulk("master")
        writer.bulk("modules")
        writer.arrayHeader(0)
    }

    static func isValidClientName(_ name: String) -> Bool {
        name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    // MARK: CLIENT

    private func client(_ argv: Argv, now: Int64, context: ChannelHandlerContext) {
        let subcommand = String(decoding: argv[1], as: UTF8.self).uppercased()
        switch (subcommand, argv.count) {
        case ("ID", 2):
            writer.integer(record?.id ?? 0)
        case ("GETNAME", 2):
            let name = record?.details.withLock { $0.name } ?? ""
            if name.isEmpty { writer.null() } else { writer.bulk(name) }
        case ("SETNAME", 3):
            let name = String(decoding: argv[2], as: UTF8.self)
            guard Self.isValidClientName(name) || name.isEmpty else {
                writer.error("ERR Client names cannot contain spaces, newlines or special characters.")
                return
            }
            record?.details.withLock { $0.name = name }
            isProxyLink = name == ProxyConnections.linkName
            writer.ok()
        case ("SETINFO", 4):
            let attribute = String(decoding: argv[2], as: UTF8.self).uppercased()
            let value = String(decoding: argv[3], as: UTF8.self)
            guard attribute == "LIB-NAME" || attribute == "LIB-VER" else {
                writer.error("ERR Unrecognized option '\(String(decoding: argv[2], as: UTF8.self))'")
                return
            }
            guard Self.isValidClientName(value) || value.isEmpty else {
                writer.error("ERR \(attribute.lowercased()) cannot contain spaces, newlines or special characters.")
                return
            }
            record?.details.withLock { details in
                if attribute == "LIB-NAME" { details.libraryName = value } else { details.libraryVersion = value }
            }
            writer.ok()
        case ("INFO", 2):
            noteCurrentCommand()
            writer.verbatim((record?.describe(now: now) ?? "") + "\n")
        case ("KILL", _) where argv.count >= 3:
            clientKill(argv)
        case ("LIST", _):
            var ids: Set<Int>?
            var index = 2
            while index < argv.count {
                let option = String(decoding: argv[index], as: UTF8.self).uppercased()
                if option == "ID" && index + 1 < argv.count {
                    var wanted = Set<Int>()
                    index += 1
                    while index < argv.count, let id = Int(String(decoding: argv[index], as: UTF8.self)) {
                        wanted.insert(id)
                        index += 1
                    }
                    ids = wanted
                } else if option == "TYPE" && index + 1 < argv.count {
                    let type = String(decoding: argv[index + 1], as: UTF8.self).lowercased()
                    guard ["normal", "master", "replica", "pubsub"].contains(type) else {
                        writer.error("ERR Unknown client type '\(type)'")
                        return
                    }
                    if type != "normal" { ids = [] }
                    index += 2
                } else {
                    writer.error(ErrorReply.syntax)
                    return
                }
            }
            noteCurrentCommand()
            let lines = state.clients.all()
                .filter { ids?.contains($0.id) ?? true }
                .map { $0.describe(now: now) + "\n" }
            writer.verbatim(lines.joined())
        case ("HELP", 2):
            let lines = [
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GETNAME", "    Return the name of the current connection.",
                "ID", "    Return the ID of the current connection.",
                "INFO", "    Return information about the current client connection.",
                "KILL <ip:port>", "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are: ID, ADDR, LADDR, USER, SKIPME (yes|no).",
                "LIST [TYPE <normal|master|replica|pubsub>] [ID <id> [<id> ...]]", "    Return information about client connections.",
                "SETINFO <option> <value>", "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
                "SETNAME <name>", "    Assign the name <name> to the current connection.",
                "HELP", "    Print this help.",
            ]
            writer.simpleStrings(lines)
        default:
            writer.error(ErrorReply.unknownSubcommand(String(decoding: argv[1], as: UTF8.self), of: "client"))
        }
    }

    /// CLIENT KILL ip:port (one client, OK) or CLIENT KILL [ID id] [ADDR ip:port]
    /// [LADDR ip:port] [USER name] [SKIPME yes|no] (every match, their count).
    /// The caller's own CLIENT LIST / CLIENT INFO line names the command running now, as
    /// Redis's does; the others name their last one (recorded when their read completes).
    private func noteCurrentCommand() {
        let current = lastCommandName
        record?.details.withLock { $0.lastCommand = current }
    }

    private func clientKill(_ argv: Argv) {
        let words = (2..<argv.count).map { String(decoding: argv[$0], as: UTF8.self) }
        let clients = state.clients.all()
        if words.count == 1 {
            guard let target = clients.first(where: { $0.address == words[0] }) else {
                writer.error("ERR No such client")
                return
            }
            writer.ok()
            close(target)
            return
        }
        guard words.count % 2 == 0 else {
            writer.error(ErrorReply.syntax)
            return
        }
        var skipMe = true
        var filters: [(ClientRecord) -> Bool] = []
        for index in stride(from: 0, to: words.count, by: 2) {
            let value = words[index + 1]
            switch words[index].uppercased() {
            case "ID":
                guard let id = Int(value), id > 0 else {
                    writer.error("ERR client-id should be greater than 0")
                    return
                }
                filters.append { $0.id == id }
            case "ADDR": filters.append { $0.address == value }
            case "LADDR": filters.append { $0.localAddress == value }
            case "USER": filters.append { _ in value == "default" }
            case "SKIPME":
                switch value.lowercased() {
                case "yes": skipMe = true
                case "no": skipMe = false
                default:
                    writer.error(ErrorReply.syntax)
                    return
                }
            default:
                writer.error(ErrorReply.syntax)
                return
            }
        }
        let targets = clients.filter { client in
            filters.allSatisfy { $0(client) } && !(skipMe && client.id == record?.id)
        }
        writer.integer(targets.count)
        for target in targets { close(target) }
    }

    /// Closes a client after what it has been sent is flushed; this connection's own close waits
    /// for its reply.
    private func close(_ target: ClientRecord) {
        if target.id == record?.id {
            closeAfterFlush = true
        } else {
            target.channel.close(promise: nil)
        }
    }

    // MARK: COMMAND

    private func command(_ argv: Argv) {
        let table = commandTable
        guard argv.count > 1 else {
            writer.arrayHeader(table.specs.count)
            for spec in table.specs { writeCommandInfo(spec) }
            return
        }
        let subcommand = String(decoding: argv[1], as: UTF8.self).uppercased()
        let names = (2..<argv.count).map { String(decoding: argv[$0], as: UTF8.self) }
        switch subcommand {
        case "COUNT" where argv.count == 2:
            writer.integer(table.specs.count)
        case "LIST" where argv.count == 2:
            writer.arrayHeader(table.specs.count)
            for spec in table.specs { writer.bulk(spec.name) }
        case "INFO":
            let specs = names.isEmpty ? table.specs.map { Optional($0) } : names.map { table.lookup($0) }
            writer.arrayHeader(specs.count)
            for spec in specs {
                if let spec { writeCommandInfo(spec) } else { writer.nullArray() }
            }
        case "DOCS":
            let specs = names.isEmpty ? table.specs : names.compactMap { table.lookup($0) }
            writer.mapHeader(specs.count)
            for spec in specs {
                writer.bulk(spec.name)
                writer.mapHeader(3)
                writer.bulk("summary")
                writer.bulk(spec.summary)
                writer.bulk("since")
                writer.bulk(spec.since)
                writer.bulk("group")
                writer.bulk(spec.group)
            }
        case "GETKEYS" where argv.count >= 4:
            commandGetKeys(argv)
        case "GETKEYS":
            writer.error(ErrorReply.wrongArity("command|getkeys"))
        case "HELP" where argv.count == 2:
            let lines = [
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)", "    Return details about all commands.",
                "COUNT", "    Return the total number of commands in this server.",
                "LIST", "    Return a list of all commands in this server.",
                "INFO [<command-name> ...]", "    Return details about multiple commands.",
                "DOCS [<command-name> ...]", "    Return documentation details about multiple commands.",
                "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
                "HELP", "    Print this help.",
            ]
            writer.simpleStrings(lines)
        default:
            writer.error(ErrorReply.unknownSubcommand(String(decoding: argv[1], as: UTF8.self), of: "command"))
        }
    }

    /// COMMAND GETKEYS command arg [arg ...]: the keys the command would touch, found the way
    /// routing, ACL and transactions find them, with Redis's errors (server.c
    /// getKeysSubcommandImpl). Cluster clients ask this for commands flagged `movablekeys`,
    /// whose keys the first/last/step of COMMAND INFO cannot describe.
    private func commandGetKeys(_ argv: Argv) {
        let inner = Argv(base: argv.base, spans: UnsafeBufferPointer(rebasing: argv.spans[2...]))
        guard let spec = commandTable.lookup(inner[0]) else {
            writer.error("ERR Invalid command specified")
            return
        }
        guard spec.firstKey > 0 else {
            writer.error("ERR The command has no key arguments")
            return
        }
        guard spec.accepts(argumentCount: inner.count) else {
            writer.error("ERR Invalid number of arguments specified for command")
            return
        }
        if spec.keyCountIndex > 0 {
            // A key count that is no positive number, or counts more keys than follow it.
            guard let count = Int(String(decoding: inner[spec.keyCountIndex], as: UTF8.self)), count > 0, count < inner.count - spec.keyCountIndex else {
                writer.error("ERR Invalid arguments specified for command")
                return
            }
        }
        var positions: [Int] = []
        spec.forEachKeyPosition(in: inner) { positions.append($0) }
        writer.arrayHeader(positions.count)
        for position in positions { writer.bulk(inner[position]) }
    }

    /// One COMMAND INFO entry in Redis 7's ten-element form: name, arity, flags, first key,
    /// last key, step, ACL categories, tips, key specs, subcommands.
    private func writeCommandInfo(_ spec: CommandSpec) {
        writer.arrayHeader(10)
        writer.bulk(spec.name)
        writer.integer(spec.arity)
        writer.setHeader(spec.flags.count)
        for flag in spec.flags { writer.simpleString(flag) }
        writer.integer(spec.firstKey)
        writer.integer(spec.lastKey)
        writer.integer(spec.keyStep)
        writer.setHeader(spec.aclCategories.count)
        for category in spec.aclCategories { writer.simpleString(category) }
        writer.arrayHeader(0)
        writer.arrayHeader(0)
        writer.arrayHeader(0)
    }

    // MARK: CONFIG

    private func config(_ argv: Argv) {
        let subcommand = String(decoding: argv[1], as: UTF8.self).uppercased()
        let words = (2..<argv.count).map { String(decoding: argv[$0], as: UTF8.self) }
        switch subcommand {
        case "GET" where !words.isEmpty:
            let configuration = state.configuration.withLock { $0 }
            var matched: [(String, String)] = []
            for name in ServerConfiguration.directiveNames {
                let matches = words.contains { pattern in
                    var pattern = pattern
                    var name = name
                    return pattern.withUTF8 { p in name.withUTF8 { n in GlobPattern.matches(UnsafeRawBufferPointer(p), UnsafeRawBufferPointer(n), ignoreCase: true) } }
                }
                if matches, let value = configuration.value(of: name) { matched.append((name, value)) }
            }
            writer.mapHeader(matched.count)
            for (name, value) in matched {
                writer.bulk(name)
                writer.bulk(value)
            }
        case "SET" where !words.isEmpty && words.count % 2 == 0:
            for pairIndex in stride(from: 0, to: words.count, by: 2) {
                let name = words[pairIndex]
                guard let directive = ServerConfiguration.directive(named: name) else {
                    writer.error("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
                    return
                }
                guard directive.mutable else {
                    writer.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set immutable config")
                    return
                }
            }
            do {
                try state.update { configuration throws(ConfigurationError) in
                    for pairIndex in stride(from: 0, to: words.count, by: 2) {
                        try configuration.apply(words[pairIndex], [words[pairIndex + 1]])
                    }
                }
                writer.ok()
            } catch {
                writer.error("ERR CONFIG SET failed (possibly related to argument '\(error.directive)') - \(error.reason)")
            }
        case "SET":
            writer.error(ErrorReply.wrongArity("config|set"))
        case "GET":
            writer.error(ErrorReply.wrongArity("config|get"))
        case "RESETSTAT" where words.isEmpty:
            state.stats.reset()
            state.commandStats.reset()
            state.engine.withEngine { $0.resetStats() }
            writer.ok()
        case "HELP" where words.isEmpty:
            let lines = [
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                "RESETSTAT", "    Reset statistics reported by the INFO command.",
                "HELP", "    Print this help.",
            ]
            writer.simpleStrings(lines)
        default:
            writer.error(ErrorReply.unknownSubcommand(String(decoding: argv[1], as: UTF8.self), of: "config"))
        }
    }
}
