extension RESPCommandParser {
    /// A look at the multibulk request that starts `bytes`, ahead of its turn: its second
    /// argument (the key of most commands) when that is all here, and its length when the
    /// whole request is here and has at most `maxArgumentsToMeasure` arguments.
    ///
    /// A hint, for prefetching keys' places in the table while earlier requests run: it reads
    /// as little as it can and validates nothing beyond what it reads, since `parse` judges
    /// every byte of the request when its turn comes. Each header it reads is looked for within
    /// a few bytes and at most `maxArgumentsToMeasure` are read, so a request still arriving
    /// or a hostile one costs a bounded scan.
    public static func peekRequest(_ bytes: UnsafeRawBufferPointer) -> (key: UnsafeRawBufferPointer?, length: Int?) {
        guard bytes.count > 4, bytes[0] == UInt8(ascii: "*"),
              let countEnd = headerEnd(bytes, from: 1),
              let count = parseInteger(bytes, from: 1, to: countEnd), count >= 1 else { return (nil, nil) }
        var key: UnsafeRawBufferPointer?
        var position = countEnd + 2
        for argument in 0..<Swift.min(count, maxArgumentsToMeasure) {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "$"),
                  let lengthEnd = headerEnd(bytes, from: position + 1),
                  let length = parseInteger(bytes, from: position + 1, to: lengthEnd), length >= 0 else { return (key, nil) }
            let start = lengthEnd + 2
            guard start <= bytes.count, length <= bytes.count - start else { return (key, nil) }
            if argument == 1 {
                key = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
            }
            position = start + length + 2
        }
        return (key, count <= maxArgumentsToMeasure && position <= bytes.count ? position : nil)
    }

    public static let maxArgumentsToMeasure = 8

    /// The `\r` ending a count header that starts at `start`: at most 20 bytes on.
    @inline(__always)
    private static func headerEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        let end = Swift.min(bytes.count, start + 21)
        var index = start
        while index < end {
            if bytes[index] == UInt8(ascii: "\r") { return index }
            index += 1
        }
        return nil
    }
}
