import RESP

/// SORT and SORT_RO (Redis's sort.c) as Redis Cluster serves them: the elements of a list, set
/// or sorted set, numerically (each one read as a double, ties broken by their bytes) or with
/// ALPHA by their bytes, ASC or DESC, LIMIT offset count, and STORE into a list. As in Redis
/// Cluster, BY with a pattern and GET are refused (the keys they name may live on other
/// nodes); BY with a constant skips sorting.
extension Engine {
    func sort(_ argv: Argv, readOnly: Bool, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        var descending = false, alpha = false, dontSort = false
        var limitStart = 0, limitCount = -1
        var storeKey: UnsafeRawBufferPointer?
        var index = 2
        while index < argv.count {
            let remaining = argv.count - index - 1
            let option = argv[index]
            if ByteParsing.equalsIgnoringCase(option, "ASC") {
                descending = false
            } else if ByteParsing.equalsIgnoringCase(option, "DESC") {
                descending = true
            } else if ByteParsing.equalsIgnoringCase(option, "ALPHA") {
                alpha = true
            } else if ByteParsing.equalsIgnoringCase(option, "LIMIT") && remaining >= 2 {
                guard let start = ByteParsing.int64(argv[index + 1]), let count = ByteParsing.int64(argv[index + 2]) else { throw .notInteger }
                limitStart = Int(start)
                limitCount = Int(count)
                index += 2
            } else if !readOnly && ByteParsing.equalsIgnoringCase(option, "STORE") && remaining >= 1 {
                storeKey = argv[index + 1]
                index += 1
            } else if ByteParsing.equalsIgnoringCase(option, "BY") && remaining >= 1 {
                guard !argv[index + 1].contains(UInt8(ascii: "*")) else {
                    throw CommandError("ERR BY option of SORT denied in Cluster mode.")
                }
                dontSort = true
                index += 1
            } else if ByteParsing.equalsIgnoringCase(option, "GET") && remaining >= 1 {
                throw CommandError("ERR GET option of SORT denied in Cluster mode.")
            } else {
                throw .syntax
            }
            index += 1
        }

        // The elements, in the collection's own order.
        var elements: [[UInt8]] = []
        var isSet = false
        if let entry = lookupRead(argv[1], now: now) {
            guard entry.isCollection else { throw .wrongType }
            switch entry.collection {
            case let list as ListValue:
                list.forEach(from: 0, through: list.count - 1) { _, element in
                    elements.append(Array(element))
                    return true
                }
            case let set as SetValue:
                elements = Array(set.members)
                isSet = true
            case let sortedSet as SortedSetValue:
                sortedSet.forEach(ranks: 0..<sortedSet.count) { entry in
                    elements.append(Array(entry.member))
                    return true
                }
            default:
                throw .wrongType
            }
        }
        // A set has no order of its own: stored, it is sorted by its bytes so every owner
        // stores the same list.
        if dontSort && isSet && storeKey != nil {
            dontSort = false
            alpha = true
        }

        if !dontSort {
            if alpha {
                elements.sort { Self.bytesPrecede($0, $1) }
            } else {
                var keyed: [(score: Double, element: [UInt8])] = []
                keyed.reserveCapacity(elements.count)
                for element in elements {
                    guard let score = element.withUnsafeBytes({ ByteParsing.sortDouble($0) }) else {
                        throw CommandError("ERR One or more scores can't be converted into double")
                    }
                    keyed.append((score, element))
                }
                keyed.sort { $0.score != $1.score ? $0.score < $1.score : Self.bytesPrecede($0.element, $1.element) }
                elements = keyed.map(\.element)
            }
            if descending { elements.reverse() }
        } else if descending && !isSet {
            // Unsorted, DESC walks the list or sorted set from its end.
            elements.reverse()
        }

        // LIMIT, clamped as Redis clamps it.
        let total = elements.count
        let start = Swift.max(0, limitStart)
        var end = limitCount < 0 ? total - 1 : start + limitCount - 1
        if start >= total { end = start - 1 }
        end = Swift.min(end, total - 1)
        let selected = start <= end ? Array(elements[start...end]) : []

        guard let storeKey else {
            writer.arrayHeader(selected.count)
            for element in selected { writer.bulk(element) }
            return
        }
        let existed = keyspace.findLive(storeKey, hash: keyspace.hash(storeKey), now: now) != nil
        let list = ListValue()
        for element in selected {
            element.withUnsafeBytes { bytes in
                if let compressed = compressor.compress(bytes) {
                    list.push(compressed, compressed: true, atFront: false)
                } else {
                    list.push(bytes, compressed: false, atFront: false)
                }
            }
        }
        storeCollection(storeKey, list, now: now)
        if !selected.isEmpty {
            notify(.list, "sortstore", storeKey)
            signalReady(storeKey)
        } else if existed {
            notify(.generic, "del", storeKey)
        }
        writer.integer(selected.count)
    }

    /// Byte order, a shorter prefix first (Redis's compareStringObjects).
    static func bytesPrecede(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        left.lexicographicallyPrecedes(right)
    }
}
