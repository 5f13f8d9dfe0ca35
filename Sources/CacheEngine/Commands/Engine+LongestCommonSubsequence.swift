import RESP

/// LCS (Redis 7's stringLcsCommand): the longest common subsequence of two strings, by the
/// classic dynamic-programming table, with the same tie-breaking as Redis so the subsequence
/// and its match ranges come out identical.
extension Engine {
    /// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
    func lcs(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let first = try stringValue(argv[1], now: now)
        let second = try stringValue(argv[2], now: now)
        var wantsLength = false, wantsIndexes = false, withMatchLength = false
        var minimumMatchLength = 0
        var index = 3
        while index < argv.count {
            let option = argv[index]
            if ByteParsing.equalsIgnoringCase(option, "IDX") {
                wantsIndexes = true
            } else if ByteParsing.equalsIgnoringCase(option, "LEN") {
                wantsLength = true
            } else if ByteParsing.equalsIgnoringCase(option, "WITHMATCHLEN") {
                withMatchLength = true
            } else if ByteParsing.equalsIgnoringCase(option, "MINMATCHLEN") && index + 1 < argv.count {
                guard let value = ByteParsing.int64(argv[index + 1]) else { throw .notInteger }
                minimumMatchLength = value < 0 ? 0 : Int(value)
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
        guard !(wantsLength && wantsIndexes) else {
            throw CommandError("ERR If you want both the length and indexes, please just use IDX.")
        }
        // The table holds (|a| + 1) × (|b| + 1) four-byte cells, as Redis's does.
        let cells = (first.count + 1).multipliedReportingOverflow(by: second.count + 1)
        let bytes = cells.partialValue.multipliedReportingOverflow(by: 4)
        guard !cells.overflow, !bytes.overflow, bytes.partialValue <= configuration.protoMaxBulkLength else {
            throw CommandError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        }
        let width = second.count + 1
        var table = [UInt32](repeating: 0, count: cells.partialValue)
        if !first.isEmpty && !second.isEmpty {
            for i in 1...first.count {
                for j in 1...second.count {
                    table[i * width + j] = first[i - 1] == second[j - 1]
                        ? table[(i - 1) * width + j - 1] + 1
                        : Swift.max(table[(i - 1) * width + j], table[i * width + j - 1])
                }
            }
        }
        let length = Int(table[first.count * width + second.count])
        if wantsLength {
            writer.integer(length)
            return
        }
        // Walk back from the end: a match goes diagonally, otherwise towards the larger
        // neighbour (up when they tie), collecting the subsequence and, for IDX, the runs of
        // consecutive matches.
        var subsequence = [UInt8](repeating: 0, count: length)
        var written = length
        var ranges: [(first: ClosedRange<Int>, second: ClosedRange<Int>)] = []
        var run: (first: ClosedRange<Int>, second: ClosedRange<Int>)?
        var (i, j) = (first.count, second.count)
        func closeRun() {
            if let current = run, current.first.count >= minimumMatchLength { ranges.append(current) }
            run = nil
        }
        while i > 0 && j > 0 {
            if first[i - 1] == second[j - 1] {
                written -= 1
                subsequence[written] = first[i - 1]
                if let current = run, current.first.lowerBound == i, current.second.lowerBound == j {
                    run = (i - 1...current.first.upperBound, j - 1...current.second.upperBound)
                } else {
                    closeRun()
                    run = (i - 1...i - 1, j - 1...j - 1)
                }
                i -= 1
                j -= 1
            } else {
                closeRun()
                if table[(i - 1) * width + j] > table[i * width + j - 1] { i -= 1 } else { j -= 1 }
            }
        }
        closeRun()
        guard wantsIndexes else {
            writer.bulk(subsequence)
            return
        }
        writer.mapHeader(2)
        writer.bulk("matches")
        writer.arrayHeader(ranges.count)
        for range in ranges {
            writer.arrayHeader(withMatchLength ? 3 : 2)
            writer.arrayHeader(2)
            writer.integer(range.first.lowerBound)
            writer.integer(range.first.upperBound)
            writer.arrayHeader(2)
            writer.integer(range.second.lowerBound)
            writer.integer(range.second.upperBound)
            if withMatchLength { writer.integer(range.first.count) }
        }
        writer.bulk("len")
        writer.integer(length)
    }

    /// A string key's bytes: missing is empty; another type is LCS's own error.
    private func stringValue(_ key: UnsafeRawBufferPointer, now: Int64) throws(CommandError) -> [UInt8] {
        guard let entry = lookupRead(key, now: now) else { return [] }
        guard entry.kind == .string else { throw CommandError("ERR The specified keys must contain string values") }
        return withPlainValue(entry) { Array($0) }
    }
}
