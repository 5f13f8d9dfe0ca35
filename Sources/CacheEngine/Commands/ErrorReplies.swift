/// Error replies clients match on, with Redis's exact texts.
public enum ErrorReply {
    public static let syntax: StaticString = "ERR syntax error"
    public static let notInteger: StaticString = "ERR value is not an integer or out of range"
    public static let notFloat: StaticString = "ERR value is not a valid float"
    public static let overflow: StaticString = "ERR increment or decrement would overflow"
    public static let nanOrInfinity: StaticString = "ERR increment would produce NaN or Infinity"
    public static let noSuchKey: StaticString = "ERR no such key"
    public static let offsetOutOfRange: StaticString = "ERR offset is out of range"
    public static let stringTooLong: StaticString = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    public static let invalidCursor: StaticString = "ERR invalid cursor"
    public static let wrongType: StaticString = "WRONGTYPE Operation against a key holding the wrong kind of value"
    public static let expireNXWithOthers: StaticString = "ERR NX and XX, GT or LT options at the same time are not compatible"
    public static let expireGTAndLT: StaticString = "ERR GT and LT options at the same time are not compatible"
    public static func wrongArity(_ name: String) -> String {
        "ERR wrong number of arguments for '\(name)' command"
    }
    public static func invalidExpireTime(_ name: String) -> String {
        "ERR invalid expire time in '\(name)' command"
    }
    public static func unknownSubcommand(_ subcommand: String, of command: String) -> String {
        "ERR unknown subcommand '\(subcommand.prefix(128))'. Try \(command.uppercased()) HELP."
    }

    /// `ERR unknown command 'foo', with args beginning with: 'a' 'b' ` — Redis quotes at most
    /// 128 bytes of each argument.
    public static func unknownCommand(_ name: String, arguments: [String]) -> String {
        var text = "ERR unknown command '\(name.prefix(128))', with args beginning with: "
        for argument in arguments {
            text += "'\(argument.prefix(128))' "
        }
        return text
    }
}
