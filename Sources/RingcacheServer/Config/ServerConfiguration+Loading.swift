import RESP

extension ServerConfiguration {
    /// Reads configuration the way redis-server does: `ringcache-server [config-file]
    /// [--directive value ...]`. File lines are `directive value ...` with `#` comments and
    /// quoting as in redis.conf; flags override the file. A flag takes every following word up
    /// to the next `--flag` as its values, so `--bind 127.0.0.1 ::1` and `--save ""` work.
    public static func load(arguments: [String], readFile: (String) throws -> String) throws(ConfigurationError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        var remaining = arguments[...]
        if let first = remaining.first, !first.hasPrefix("--") {
            remaining = remaining.dropFirst()
            let contents: String
            do {
                contents = try readFile(first)
            } catch {
                throw ConfigurationError(directive: first, reason: "cannot read the config file: \(error)", origin: "the command line")
            }
            try configuration.applyFile(contents, name: first)
            configuration.configFile = first
        }
        var index = remaining.startIndex
        while index < remaining.endIndex {
            let flag = remaining[index]
            guard flag.hasPrefix("--"), flag.count > 2 else {
                throw ConfigurationError(directive: flag, reason: "expected a --directive, got a bare word", origin: "the command line")
            }
            var values: [String] = []
            index += 1
            while index < remaining.endIndex, !(remaining[index].hasPrefix("--") && remaining[index].count > 2) {
                values.append(remaining[index])
                index += 1
            }
            try configuration.apply(String(flag.dropFirst(2)), values, origin: "the command line")
        }
        return configuration
    }

    mutating func applyFile(_ contents: String, name: String) throws(ConfigurationError) {
        var sawSaveLine = false
        for (number, line) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let words: [String]
            do {
                words = try InlineArguments.split(String(trimmed))
            } catch {
                throw ConfigurationError(directive: String(trimmed.prefix(40)), reason: "unbalanced quotes", origin: "line \(number + 1) of \(name)")
            }
            guard let directive = words.first else { continue }
            var values = Array(words.dropFirst())
            // As in redis.conf, each `save` line adds a rule to those of earlier lines.
            if directive.lowercased() == "save" && sawSaveLine && values != [""] {
                values = savePoints.flatMap { [String($0.seconds), String($0.changes)] } + values
            }
            if directive.lowercased() == "save" { sawSaveLine = true }
            try apply(directive, values, origin: "line \(number + 1) of \(name)")
        }
    }
}
