/// A malformed request. Redis answers these with `-ERR Protocol error: ...` and closes the
/// connection (networking.c, `setProtocolError`); `message` is the text after `ERR `.
public struct RESPProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    static let invalidMultibulkLength = RESPProtocolError("Protocol error: invalid multibulk length")
    static let invalidBulkLength = RESPProtocolError("Protocol error: invalid bulk length")
    static let tooBigMultibulkCountString = RESPProtocolError("Protocol error: too big mbulk count string")
    static let tooBigBulkCountString = RESPProtocolError("Protocol error: too big bulk count string")
    static let tooBigInlineRequest = RESPProtocolError("Protocol error: too big inline request")
    static let unbalancedQuotes = RESPProtocolError("Protocol error: unbalanced quotes in request")

    static func expectedDollar(got byte: UInt8) -> RESPProtocolError {
        RESPProtocolError("Protocol error: expected '$', got '\(Character(Unicode.Scalar(byte)))'")
    }
}

/// The limits a request parser enforces, with Redis's defaults. Every limit bounds memory a
/// client can make the server hold before a command is complete.
public struct RESPParserLimits: Sendable, Equatable {
    /// `proto-max-bulk-len`: the largest single argument (Redis default 512 MB).
    public var maxBulkLength: Int
    /// The largest argument count of one command (Redis: 1024*1024).
    public var maxMultibulkCount: Int
    /// The longest inline command line, and the longest `*`/`$` header line (Redis: 64 KiB).
    public var maxInlineLength: Int

    public init(maxBulkLength: Int = 512 * 1024 * 1024, maxMultibulkCount: Int = 1024 * 1024, maxInlineLength: Int = 64 * 1024) {
        self.maxBulkLength = maxBulkLength
        self.maxMultibulkCount = maxMultibulkCount
        self.maxInlineLength = maxInlineLength
    }
}
