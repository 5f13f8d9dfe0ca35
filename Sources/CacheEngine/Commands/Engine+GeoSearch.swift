import RESP

/// GEOSEARCH, GEOSEARCHSTORE and the older GEORADIUS family, parsed and answered as Redis's
/// georadiusGeneric does: the same options in any order, the same errors in the same order,
/// COUNT without ASC or DESC sorting nearest first, and STORE/STOREDIST writing a sorted set.
/// Without a sort, matches come in score order, which is not Redis's order (it reads nine
/// cells in its own sequence); with COUNT ANY, the first COUNT found may differ for the same
/// reason.
extension Engine {
    public enum GeoSearchForm: Sendable {
        /// GEORADIUS key longitude latitude radius unit [...], and GEORADIUS_RO.
        case radiusAroundPosition(readOnly: Bool)
        /// GEORADIUSBYMEMBER key member radius unit [...], and GEORADIUSBYMEMBER_RO.
        case radiusAroundMember(readOnly: Bool)
        /// GEOSEARCH key FROMMEMBER | FROMLONLAT, BYRADIUS | BYBOX [...].
        case search
        /// GEOSEARCHSTORE destination source [...].
        case searchStore
    }

    private struct GeoMatch {
        let member: [UInt8]
        let score: Double
        let longitude: Double
        let latitude: Double
        let distance: Double
    }

    private enum GeoSort { case none, ascending, descending }

    func geosearch(_ argv: Argv, form: GeoSearchForm, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let isSearch: Bool
        var storeKey: UnsafeRawBufferPointer?
        let sourceIndex: Int
        switch form {
        case .searchStore:
            sourceIndex = 2
            storeKey = argv[1]
            isSearch = true
        case .search:
            sourceIndex = 1
            isSearch = true
        case .radiusAroundPosition, .radiusAroundMember:
            sourceIndex = 1
            isSearch = false
        }
        let set = try readable(argv[sourceIndex], SortedSetValue.self, now: now)
        var center: (longitude: Double, latitude: Double)?
        var kind: GeoShape.Kind?
        var metresPerUnit = 1.0
        let optionsStart: Int
        let name: String
        switch form {
        case .radiusAroundPosition(let readOnly):
            center = try Self.geoPosition(argv, at: 2)
            (kind, metresPerUnit) = try Self.radius(argv, at: 4)
            optionsStart = 6
            name = readOnly ? "georadius_ro" : "georadius"
        case .radiusAroundMember(let readOnly):
            // A missing key answers empty (or stores nothing) once the options are checked.
            if set != nil {
                guard let position = Self.geoPosition(of: argv[2], in: set) else {
                    throw CommandError("ERR could not decode requested zset member")
                }
                center = position
            }
            (kind, metresPerUnit) = try Self.radius(argv, at: 3)
            optionsStart = 5
            name = readOnly ? "georadiusbymember_ro" : "georadiusbymember"
        case .search:
            optionsStart = 2
            name = "geosearch"
        case .searchStore:
            optionsStart = 3
            name = "geosearchstore"
        }
        let canStore: Bool
        switch form {
        case .radiusAroundPosition(let readOnly), .radiusAroundMember(let readOnly): canStore = !readOnly
        case .search, .searchStore: canStore = false
        }

        var withDistance = false, withHash = false, withCoordinates = false, any = false
        var sort = GeoSort.none
        var count = 0
        var storeDistance = false
        var fromMember = false, fromPosition = false, byRadius = false, byBox = false
        var index = optionsStart
        func word(_ text: StaticString) -> Bool { ByteParsing.equalsIgnoringCase(argv[index], text) }
        while index < argv.count {
            let remaining = argv.count - index
            if word("WITHDIST") {
                withDistance = true
            } else if word("WITHHASH") {
                withHash = true
            } else if word("WITHCOORD") {
                withCoordinates = true
            } else if word("ANY") {
                any = true
            } else if word("ASC") {
                sort = .ascending
            } else if word("DESC") {
                sort = .descending
            } else if word("COUNT") && remaining > 1 {
                guard let value = ByteParsing.int64(argv[index + 1]) else { throw .notInteger }
                guard value > 0 else { throw CommandError("ERR COUNT must be > 0") }
                count = Int(value)
                index += 1
            } else if (word("STORE") || word("STOREDIST")) && remaining > 1 && canStore && !isSearch {
                storeDistance = word("STOREDIST")
                storeKey = argv[index + 1]
                index += 1
            } else if word("STOREDIST") && isSearch && storeKey != nil {
                storeDistance = true
            } else if word("FROMMEMBER") && remaining > 1 && isSearch && !fromPosition {
                if set != nil {
                    guard let position = Self.geoPosition(of: argv[index + 1], in: set) else {
                        throw CommandError("ERR could not decode requested zset member")
                    }
                    center = position
                }
                fromMember = true
                index += 1
            } else if word("FROMLONLAT") && remaining > 2 && isSearch && !fromMember {
                center = try Self.geoPosition(argv, at: index + 1)
                fromPosition = true
                index += 2
            } else if word("BYRADIUS") && remaining > 2 && isSearch && !byBox {
                (kind, metresPerUnit) = try Self.radius(argv, at: index + 1)
                byRadius = true
                index += 2
            } else if word("BYBOX") && remaining > 3 && isSearch && !byRadius {
                guard let width = ByteParsing.double(argv[index + 1], rangeChecked: true),
                      let height = ByteParsing.double(argv[index + 2], rangeChecked: true) else { throw .notFloat }
                guard width >= 0 && height >= 0 else { throw CommandError("ERR height or width cannot be negative") }
                metresPerUnit = try Self.metresPerGeoUnit(argv[index + 3])
                kind = .box(width: width * metresPerUnit, height: height * metresPerUnit)
                byBox = true
                index += 3
            } else {
                throw .syntax
            }
            index += 1
        }
        if storeKey != nil && (withDistance || withHash || withCoordinates) {
            let what = isSearch ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"
            throw CommandError("ERR \(what) is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        }
        if isSearch && !(fromMember || fromPosition) {
            throw CommandError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for \(name)")
        }
        if isSearch && !(byRadius || byBox) {
            throw CommandError("ERR exactly one of BYRADIUS and BYBOX can be specified for \(name)")
        }
        if any && count == 0 { throw CommandError("ERR the ANY argument requires COUNT argument") }

        guard let set, let center, let kind else {
            if let storeKey {
                if deleteKey(storeKey, now: now) { notify(.generic, "del", storeKey) }
                writer.integer(0)
            } else {
                writer.arrayHeader(0)
            }
            return
        }
        if count > 0 && sort == .none && !any { sort = .ascending }

        let shape = GeoShape(longitude: center.longitude, latitude: center.latitude, kind: kind)
        var matches: [GeoMatch] = []
        scan: for range in shape.scoreRanges() {
            let upper = Double(range.upperBound)
            var node = set.firstNode(above: ScoreBound(value: Double(range.lowerBound), exclusive: false))
            while let current = node, current.score < upper {
                let (longitude, latitude) = GeoHash.position(of: GeoHash.bits(ofScore: current.score))
                if let distance = shape.distanceIfInside(longitude: longitude, latitude: latitude) {
                    matches.append(GeoMatch(member: current.member, score: current.score, longitude: longitude, latitude: latitude, distance: distance))
                    if any && matches.count >= count { break scan }
                }
                node = current[level: 0].forward
            }
        }
        switch sort {
        case .none: break
        case .ascending: matches.sort { $0.distance < $1.distance }
        case .descending: matches.sort { $0.distance > $1.distance }
        }
        if count > 0 && matches.count > count { matches.removeLast(matches.count - count) }

        if let storeKey {
            let result = SortedSetValue()
            for match in matches {
                result.set(match.member, score: storeDistance ? match.distance / metresPerUnit : match.score)
            }
            writer.integer(storeSortedSet(result, at: storeKey, event: isSearch ? "geosearchstore" : "georadiusstore", now: now))
            return
        }
        let options = (withDistance ? 1 : 0) + (withHash ? 1 : 0) + (withCoordinates ? 1 : 0)
        writer.arrayHeader(matches.count)
        for match in matches {
            if options > 0 { writer.arrayHeader(options + 1) }
            writer.bulk(match.member)
            if withDistance { Self.writeDistance(match.distance / metresPerUnit, &writer) }
            // The ranges read lie within [0, 2^52): the score converts (fractions truncated).
            if withHash { writer.integer(Int(match.score)) }
            if withCoordinates { Self.writeCoordinates(match.longitude, match.latitude, &writer) }
        }
    }

    /// A radius and its unit at `argv[index]`, `argv[index + 1]`: the circle in metres.
    private static func radius(_ argv: Argv, at index: Int) throws(CommandError) -> (GeoShape.Kind, Double) {
        guard let radius = ByteParsing.double(argv[index], rangeChecked: true) else { throw .notFloat }
        guard radius >= 0 else { throw CommandError("ERR radius cannot be negative") }
        let metresPerUnit = try metresPerGeoUnit(argv[index + 1])
        return (.radius(radius * metresPerUnit), metresPerUnit)
    }
}
