import Glibc
import RESP

/// Geospatial commands (Redis's geo.c): positions are members of a sorted set scored by their
/// 52-bit geohash (`GeoHash`), so every sorted-set command works on them too.
extension Engine {
    /// A longitude and latitude pair at `argv[index]`, `argv[index + 1]`, with Redis's errors.
    static func geoPosition(_ argv: Argv, at index: Int) throws(CommandError) -> (longitude: Double, latitude: Double) {
        let longitude = try float(argv[index])
        let latitude = try float(argv[index + 1])
        guard GeoHash.isValid(longitude: longitude, latitude: latitude) else {
            throw CommandError("ERR invalid longitude,latitude pair " + Self.sixDecimals(longitude) + "," + Self.sixDecimals(latitude))
        }
        return (longitude, latitude)
    }

    /// `%f`, as Redis prints coordinates in its error.
    private static func sixDecimals(_ value: Double) -> String {
        fixed(value, decimals: 6)
    }

    /// `%.<decimals>f`.
    static func fixed(_ value: Double, decimals: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        let length = withVaList([decimals, value]) { arguments in
            Int(vsnprintf(&buffer, buffer.count, "%.*f", arguments))
        }
        return String(decoding: buffer[0..<min(length, buffer.count - 1)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Metres per unit: M, KM, FT or MI, in any case.
    static func metresPerGeoUnit(_ word: UnsafeRawBufferPointer) throws(CommandError) -> Double {
        if ByteParsing.equalsIgnoringCase(word, "M") { return 1 }
        if ByteParsing.equalsIgnoringCase(word, "KM") { return 1000 }
        if ByteParsing.equalsIgnoringCase(word, "FT") { return 0.3048 }
        if ByteParsing.equalsIgnoringCase(word, "MI") { return 1609.34 }
        throw CommandError("ERR unsupported unit provided. please use M, KM, FT, MI")
    }

    /// The decoded position of `member`, if the set has it.
    static func geoPosition(of member: UnsafeRawBufferPointer, in set: SortedSetValue?) -> (longitude: Double, latitude: Double)? {
        guard let score = set?.score(of: Array(member)) else { return nil }
        return GeoHash.position(of: GeoHash.bits(ofScore: score))
    }

    /// A distance as Redis replies with one: `%.4f`, a bulk string in both protocols.
    static func writeDistance(_ metres: Double, _ writer: inout RESPWriter) {
        writer.bulk(fixed(metres, decimals: 4))
    }

    static func writeCoordinates(_ longitude: Double, _ latitude: Double, _ writer: inout RESPWriter) {
        writer.arrayHeader(2)
        writer.double(text: NumberFormatting.humanLongDouble(LongDouble(longitude)))
        writer.double(text: NumberFormatting.humanLongDouble(LongDouble(latitude)))
    }

    // MARK: GEOADD, GEOPOS, GEODIST, GEOHASH

    /// GEOADD key [NX | XX] [CH] longitude latitude member [...]: ZADD with each position's
    /// geohash as the score, and ZADD's replies.
    func geoadd(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        var nx = false, xx = false, ch = false
        var index = 2
        while index < argv.count {
            if ByteParsing.equalsIgnoringCase(argv[index], "NX") { nx = true }
            else if ByteParsing.equalsIgnoringCase(argv[index], "XX") { xx = true }
            else if ByteParsing.equalsIgnoringCase(argv[index], "CH") { ch = true }
            else { break }
            index += 1
        }
        guard (argv.count - index) % 3 == 0, !(nx && xx) else { throw .syntax }
        guard argv.count > index else { throw .syntax }
        var scores: [Double] = []
        for position in stride(from: index, to: argv.count, by: 3) {
            let (longitude, latitude) = try Self.geoPosition(argv, at: position)
            scores.append(Double(GeoHash.score(longitude: longitude, latitude: latitude)))
        }
        if xx, try readable(argv[1], SortedSetValue.self, now: now) == nil {
            writer.integer(0)
            return
        }
        let (added, updated) = try mutate(argv[1], SortedSetValue.init, create: true, now: now) { set -> (Int, Int) in
            var added = 0
            var updated = 0
            for (offset, position) in stride(from: index, to: argv.count, by: 3).enumerated() {
                let member = Array(argv[position + 2])
                if let current = set.score(of: member) {
                    if nx || current == scores[offset] { continue }
                    set.set(member, score: scores[offset], limits: configuration.sortedSetEncoding)
                    updated += 1
                } else if !xx {
                    set.set(member, score: scores[offset], limits: configuration.sortedSetEncoding)
                    added += 1
                }
            }
            return (added, updated)
        } ?? (0, 0)
        if added + updated > 0 {
            notify(.zset, "zadd", argv[1])
            signalReady(argv[1])
        }
        writer.integer(ch ? added + updated : added)
    }

    /// GEOPOS key [member ...]: each member's position, or a null for one not there.
    func geopos(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let set = try readable(argv[1], SortedSetValue.self, now: now)
        writer.arrayHeader(argv.count - 2)
        for index in 2..<argv.count {
            if let (longitude, latitude) = Self.geoPosition(of: argv[index], in: set) {
                Self.writeCoordinates(longitude, latitude, &writer)
            } else {
                writer.nullArray()
            }
        }
    }

    /// GEODIST key member1 member2 [M | KM | FT | MI]
    func geodist(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        var metresPerUnit = 1.0
        if argv.count == 5 {
            metresPerUnit = try Self.metresPerGeoUnit(argv[4])
        } else if argv.count > 5 {
            throw .syntax
        }
        let set = try readable(argv[1], SortedSetValue.self, now: now)
        guard let first = Self.geoPosition(of: argv[2], in: set), let second = Self.geoPosition(of: argv[3], in: set) else {
            writer.null()
            return
        }
        Self.writeDistance(GeoHash.distance(first.longitude, first.latitude, second.longitude, second.latitude) / metresPerUnit, &writer)
    }

    /// GEOHASH key [member ...]: each member's standard 11-character geohash.
    func geohash(_ argv: Argv, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let set = try readable(argv[1], SortedSetValue.self, now: now)
        writer.arrayHeader(argv.count - 2)
        for index in 2..<argv.count {
            if let score = set?.score(of: Array(argv[index])) {
                writer.bulk(GeoHash.standardString(of: GeoHash.bits(ofScore: score)))
            } else {
                writer.null()
            }
        }
    }
}
