import Testing

@testable import RingcacheServer

@Suite("configuration from files and flags")
struct ServerConfigurationTests {
    func load(_ arguments: [String], files: [String: String] = [:]) throws(ConfigurationError) -> ServerConfiguration {
        try ServerConfiguration.load(arguments: arguments) { path in
            guard let contents = files[path] else { throw StartupError("No such file or directory") }
            return contents
        }
    }

    @Test("defaults")
    func defaults() throws {
        let configuration = try load([])
        #expect(configuration.port == 7000)
        #expect(configuration.bind == ["127.0.0.1"])
        #expect(configuration.protoMaxBulkLength == 512 * 1024 * 1024)
    }

    @Test("a config file, then flags that override it")
    func fileAndFlags() throws {
        let file = """
            # a comment
            port 7001
              bind 127.0.0.1 ::1
            proto-max-bulk-len 64mb
            save ""
            loglevel "warning"
            """
        let configuration = try load(["node.conf", "--port", "7002", "--hz", "20"], files: ["node.conf": file])
        #expect(configuration.port == 7002)
        #expect(configuration.bind == ["127.0.0.1", "::1"])
        #expect(configuration.protoMaxBulkLength == 64 * 1024 * 1024)
        #expect(configuration.hz == 20)
        #expect(configuration.logLevel == .warning)
        #expect(configuration.configFile == "node.conf")
    }

    @Test("memory units as Redis reads them", arguments: [
        ("100", 100), ("1k", 1000), ("1kb", 1024), ("100mb", 104_857_600), ("2GB", 2_147_483_648), ("3m", 3_000_000),
    ])
    func memoryUnits(text: String, bytes: Int) {
        #expect(MemoryUnits.parse(text) == bytes)
    }

    @Test("memory values that are not", arguments: ["", "mb", "-1mb", "1.5gb", "12xb", "99999999999999999999gb"])
    func badMemoryUnits(text: String) {
        #expect(MemoryUnits.parse(text) == nil)
    }

    @Test("bad directives stop the start with one line naming them")
    func errors() {
        #expect(throws: ConfigurationError(directive: "nosuch", reason: "unknown directive", origin: "the command line")) {
            try load(["--nosuch", "1"])
        }
        #expect(throws: ConfigurationError(directive: "port", reason: "argument couldn't be parsed into an integer", origin: "line 2 of a.conf")) {
            try load(["a.conf"], files: ["a.conf": "hz 10\nport seven\n"])
        }
        #expect(throws: ConfigurationError(directive: "port", reason: "argument must be between 1 and 65535 inclusive", origin: "the command line")) {
            try load(["--port", "70000"])
        }
        #expect(throws: ConfigurationError(directive: "appendonly", reason: "Ringcache is a cache and keeps no append-only file; only appendonly no is accepted", origin: "the command line")) {
            try load(["--appendonly", "yes"])
        }
        #expect(throws: ConfigurationError(directive: "port", reason: "wrong number of arguments", origin: "the command line")) {
            try load(["--port"])
        }
        let error = ConfigurationError(directive: "maxclients", reason: "argument must be between 1 and 1000000 inclusive", origin: "line 3 of n.conf")
        #expect(error.description == "bad directive 'maxclients' (line 3 of n.conf): argument must be between 1 and 1000000 inclusive")
        #expect(throws: ConfigurationError.self) { try load(["missing.conf"]) }
    }

    @Test("every directive prints a value CONFIG GET can return and reads it back")
    func roundTrip() throws {
        var configuration = try load(["--port", "7005", "--maxclients", "42", "--loglevel", "verbose"])
        for name in ServerConfiguration.directiveNames {
            let value = try #require(configuration.value(of: name))
            let words = value.split(separator: " ").map(String.init)
            try configuration.apply(name, words.isEmpty ? [""] : words)
            #expect(configuration.value(of: name) == value, "\(name)")
        }
        #expect(configuration.value(of: "maxclients") == "42")
        #expect(configuration.value(of: "loglevel") == "verbose")
    }
}

@Suite struct ClusterConfigurationTests {
    @Test func seedsParseHostPortWithOptionalBusPort() throws {
        var configuration = ServerConfiguration()
        try configuration.apply("cluster-seeds", ["127.0.0.1:7001,node-b:7002@17100", "[::1]:7003"])
        #expect(configuration.clusterSeeds == ["127.0.0.1:7001", "node-b:7002@17100", "[::1]:7003"])
        #expect(throws: ConfigurationError(directive: "cluster-seeds", reason: "'nohost' is not host:port", origin: nil)) {
            try configuration.apply("cluster-seeds", ["nohost"])
        }
        #expect(configuration.value(of: "cluster-port") == "0")
        try configuration.apply("cluster-routing", ["proxy"])
        #expect(configuration.value(of: "cluster-routing") == "proxy")
        #expect(throws: ConfigurationError.self) { try configuration.apply("cluster-enabled", ["no"]) }
        try configuration.apply("cluster-secret", ["hunter2"])
        #expect(configuration.value(of: "cluster-secret") == "(set)", "CONFIG GET must not reveal the secret")
    }
}
