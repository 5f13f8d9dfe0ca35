/// Where one argument of a parsed command lies: `offset` bytes from the start of its frame
/// (the reader index of the buffer the parser was given), `length` bytes long.
public struct ArgumentSpan: Sendable, Equatable {
    public var offset: Int
    public var length: Int

    @inlinable
    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }
}

/// The arguments of the command being parsed, reused from command to command so that parsing
/// allocates nothing once warmed up.
///
/// Multibulk arguments are spans into the connection's read buffer (no copy). Inline commands
/// (`PING\r\n` typed into telnet) may contain quotes and escapes, so their unescaped bytes are
/// copied into `inlineStorage` and the spans point there instead.
public struct CommandArguments: Sendable {
    @usableFromInline var spans: ContiguousArray<ArgumentSpan> = []
    @usableFromInline var inlineStorage: [UInt8] = []
    @usableFromInline var isInline = false

    public init() {}

    @inlinable
    public var count: Int { spans.count }

    @usableFromInline
    mutating func reset(inline: Bool, reserving capacity: Int) {
        spans.removeAll(keepingCapacity: true)
        if spans.capacity < capacity { spans.reserveCapacity(capacity) }
        isInline = inline
        if inline { inlineStorage.removeAll(keepingCapacity: true) }
    }

    /// Gives `body` a view of the arguments. `frame` must be the buffer the parser saw, with its
    /// reader index still at the start of the command. The view is valid only inside `body`.
    @inlinable
    public func withArgv<Result>(frame: UnsafeRawBufferPointer, _ body: (Argv) throws -> Result) rethrows -> Result {
        try spans.withUnsafeBufferPointer { spans in
            if isInline {
                return try inlineStorage.withUnsafeBytes { storage in
                    try body(Argv(base: storage, spans: spans))
                }
            }
            return try body(Argv(base: frame, spans: spans))
        }
    }
}

/// A borrowed, non-owning view of a command's arguments; `argv[0]` is the command name.
/// Valid only inside the closure that produced it.
public struct Argv {
    public let base: UnsafeRawBufferPointer
    public let spans: UnsafeBufferPointer<ArgumentSpan>

    @inlinable
    public init(base: UnsafeRawBufferPointer, spans: UnsafeBufferPointer<ArgumentSpan>) {
        self.base = base
        self.spans = spans
    }

    @inlinable
    public var count: Int { spans.count }

    @inlinable
    public subscript(index: Int) -> UnsafeRawBufferPointer {
        let span = spans[index]
        guard span.length > 0, let start = base.baseAddress else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: start + span.offset, count: span.length)
    }
}
