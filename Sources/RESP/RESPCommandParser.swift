import NIOCore

/// An incremental parser of client requests: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`)
/// and inline commands (`GET k\r\n`), as Redis reads them (networking.c, processMultibulkBuffer
/// and processInlineBuffer).
///
/// Contract: call `parse` with the connection's accumulated bytes, reader index at the start of
/// the current command. It returns the command's length in bytes once the whole command is there
/// (the arguments are then in `arguments`), or `nil` when more bytes are needed; the caller keeps
/// the reader index where it was until a command completes, then moves it past the command.
/// Progress on a partial command is kept, so a command arriving byte by byte costs linear time.
/// A command with no arguments (`*0\r\n`, a blank line) completes with `arguments.count == 0`;
/// Redis skips those silently.
public struct RESPCommandParser: Sendable {
    public var limits: RESPParserLimits

    /// Progress through a multibulk command whose bytes are not all here yet.
    private var remainingArguments = 0
    private var position = 0

    public init(limits: RESPParserLimits = RESPParserLimits()) {
        self.limits = limits
    }

    public mutating func parse(_ buffer: ByteBuffer, into arguments: inout CommandArguments) throws(RESPProtocolError) -> Int? {
        let result: Result<Int?, RESPProtocolError> = buffer.withUnsafeReadableBytes { bytes in
            do throws(RESPProtocolError) {
                return .success(try parse(bytes, into: &arguments))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public mutating func parse(_ bytes: UnsafeRawBufferPointer, into arguments: inout CommandArguments) throws(RESPProtocolError) -> Int? {
        if remainingArguments == 0 {
            guard let first = bytes.first else { return nil }
            guard first == UInt8(ascii: "*") else {
                return try parseInline(bytes, into: &arguments)
            }
            guard let lineEnd = Self.findCarriageReturn(bytes, from: 1) else {
                if bytes.count > limits.maxInlineLength { throw .tooBigMultibulkCountString }
                return nil
            }
            guard lineEnd + 1 < bytes.count else { return nil }
            guard let count = Self.parseInteger(bytes, from: 1, to: lineEnd), count <= limits.maxMultibulkCount else {
                throw .invalidMultibulkLength
            }
            let afterHeader = lineEnd + 2
            if count <= 0 {
                arguments.reset(inline: false, reserving: 0)
                return afterHeader
            }
            // Reserve for what a typical command needs, not for what the header claims: a
            // hostile count must not allocate before its bytes arrive.
            arguments.reset(inline: false, reserving: Swift.min(count, 64))
            remainingArguments = count
            position = afterHeader
        }
        while remainingArguments > 0 {
            guard position < bytes.count else { return nil }
            let marker = bytes[position]
            guard marker == UInt8(ascii: "$") else { throw reset(.expectedDollar(got: marker)) }
            guard let lineEnd = Self.findCarriageReturn(bytes, from: position + 1) else {
                if bytes.count - position > limits.maxInlineLength { throw reset(.tooBigBulkCountString) }
                return nil
            }
            guard lineEnd + 1 < bytes.count else { return nil }
            guard let length = Self.parseInteger(bytes, from: position + 1, to: lineEnd), length >= 0, length <= limits.maxBulkLength else {
                throw reset(.invalidBulkLength)
            }
            let dataStart = lineEnd + 2
            // The two bytes after the data are the CRLF; like Redis we skip them unchecked.
            guard bytes.count - dataStart >= length + 2 else { return nil }
            arguments.spans.append(ArgumentSpan(offset: dataStart, length: length))
            position = dataStart + length + 2
            remainingArguments -= 1
        }
        let frameLength = position
        position = 0
        return frameLength
    }

    private mutating func reset(_ error: RESPProtocolError) -> RESPProtocolError {
        remainingArguments = 0
        position = 0
        return error
    }

    // MARK: Inline commands

    private func parseInline(_ bytes: UnsafeRawBufferPointer, into arguments: inout CommandArguments) throws(RESPProtocolError) -> Int? {
        let searchLimit = Swift.min(bytes.count, limits.maxInlineLength + 2)
        var newline = -1
        for index in 0..<searchLimit where bytes[index] == UInt8(ascii: "\n") {
            newline = index
            break
        }
        guard newline >= 0 else {
            if bytes.count > limits.maxInlineLength { throw .tooBigInlineRequest }
            return nil
        }
        var lineEnd = newline
        if lineEnd > 0 && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        arguments.reset(inline: true, reserving: 4)
        try Self.splitInline(UnsafeRawBufferPointer(rebasing: bytes[0..<lineEnd]), into: &arguments)
        return newline + 1
    }

    /// Splits an inline line into arguments the way redis-cli users expect (sds.c's
    /// sdssplitargs): blanks separate; "double quotes" understand \n \r \t \b \a \\ \" and \xHH;
    /// 'single quotes' understand \'; a closing quote must be followed by a blank or the end.
    static func splitInline(_ line: UnsafeRawBufferPointer, into arguments: inout CommandArguments) throws(RESPProtocolError) {
        var index = 0
        let count = line.count
        func isBlank(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 || byte == 0x0B || byte == 0x0C || byte == 0
        }
        while true {
            while index < count && isBlank(line[index]) { index += 1 }
            guard index < count else { return }
            let start = arguments.inlineStorage.count
            var inDoubleQuotes = false
            var inSingleQuotes = false
            var done = false
            while !done {
                if inDoubleQuotes {
                    guard index < count else { throw .unbalancedQuotes }
                    let byte = line[index]
                    if byte == UInt8(ascii: "\\") && index + 3 < count && line[index + 1] == UInt8(ascii: "x"),
                       let high = hexValue(line[index + 2]), let low = hexValue(line[index + 3]) {
                        arguments.inlineStorage.append(high << 4 | low)
                        index += 3
                    } else if byte == UInt8(ascii: "\\") && index + 1 < count {
                        index += 1
                        switch line[index] {
                        case UInt8(ascii: "n"): arguments.inlineStorage.append(0x0A)
                        case UInt8(ascii: "r"): arguments.inlineStorage.append(0x0D)
                        case UInt8(ascii: "t"): arguments.inlineStorage.append(0x09)
                        case UInt8(ascii: "b"): arguments.inlineStorage.append(0x08)
                        case UInt8(ascii: "a"): arguments.inlineStorage.append(0x07)
                        default: arguments.inlineStorage.append(line[index])
                        }
                    } else if byte == UInt8(ascii: "\"") {
                        if index + 1 < count && !isBlank(line[index + 1]) { throw .unbalancedQuotes }
                        done = true
                    } else {
                        arguments.inlineStorage.append(byte)
                    }
                } else if inSingleQuotes {
                    guard index < count else { throw .unbalancedQuotes }
                    let byte = line[index]
                    if byte == UInt8(ascii: "\\") && index + 1 < count && line[index + 1] == UInt8(ascii: "'") {
                        index += 1
                        arguments.inlineStorage.append(UInt8(ascii: "'"))
                    } else if byte == UInt8(ascii: "'") {
                        if index + 1 < count && !isBlank(line[index + 1]) { throw .unbalancedQuotes }
                        done = true
                    } else {
                        arguments.inlineStorage.append(byte)
                    }
                } else {
                    if index >= count { break }
                    let byte = line[index]
                    if isBlank(byte) {
                        done = true
                    } else if byte == UInt8(ascii: "\"") {
                        inDoubleQuotes = true
                    } else if byte == UInt8(ascii: "'") {
                        inSingleQuotes = true
                    } else {
                        arguments.inlineStorage.append(byte)
                    }
                }
                if index < count { index += 1 }
            }
            arguments.spans.append(ArgumentSpan(offset: start, length: arguments.inlineStorage.count - start))
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: Helpers

    @inline(__always)
    static func findCarriageReturn(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\r") { return index }
            index += 1
        }
        return nil
    }

    /// A decimal integer in `bytes[from..<to]`, or nil when it is not one (empty, stray bytes,
    /// or too many digits).
    @inline(__always)
    static func parseInteger(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard from < to, to - from <= 19 else { return nil }
        var index = from
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
            guard index < to else { return nil }
        }
        var value = 0
        while index < to {
            let digit = Int(bytes[index]) &- 48
            guard digit >= 0 && digit <= 9 else { return nil }
            value = value &* 10 &+ digit
            index += 1
        }
        return negative ? -value : value
    }
}

/// Splits a line into words with the inline-command quoting rules, for config files and tools.
public enum InlineArguments {
    public static func split(_ line: String) throws(RESPProtocolError) -> [String] {
        var arguments = CommandArguments()
        arguments.reset(inline: true, reserving: 4)
        let bytes = Array(line.utf8)
        let outcome: Result<Void, RESPProtocolError> = bytes.withUnsafeBytes { raw in
            do throws(RESPProtocolError) {
                try RESPCommandParser.splitInline(raw, into: &arguments)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
        return arguments.spans.map { span in
            String(decoding: arguments.inlineStorage[span.offset..<(span.offset + span.length)], as: UTF8.self)
        }
    }
}
