import RESP

/// GEOSEARCH, GEOSEARCHSTORE and the older GEORADIUS family, parsed and answered as Redis's
/// georadiusGeneric does: the same options in any order, the same errors in the same order,
/// COUNT without ASC or DESC sorting nearest first, and STORE/STOREDIST writing a sorted set.
/// Without a sort, matches come in score order, which is not Redis's order (it reads nine
/// cells in its own sequence); with COUNT ANY, the first COUNT found may differ for the same
/// reason.
extension Engine {
    public enum GeoSearchForm: Sendable, Equatable {
        /// GEORADIUS key longitude latitude radius unit [...], and GEORADIUS_RO.
        case radiusAroundPosition(readOnly: Bool)
        /// GEORADIUSBYMEMBER key member radius unit [...], and GEORADIUSBYMEMBER_RO.
        case radiusAroundMember(readOnly: Bool)
        /// GEOSEARCH key FROMMEMBER | FROMLONLAT, BYRADIUS | BYBOX [...].
        case search
        /// GEOSEARCHSTORE destination source [...].
        case searchStore

        var sourceIndex: Int { self == .searchStore ? 2 : 1 }

        var optionsStart: Int {
            switch self {
            case .radiusAroundPosition: 6
            case .radiusAroundMember: 5
            case .search: 2
            case .searchStore: 3
            }
        }

        /// GEOSEARCH's options (FROM…, BY…) rather than GEORADIUS's (STORE).
        var isSearch: Bool { self == .search || self == .searchStore }

        var acceptsStore: Bool {
            switch self {
            case .radiusAroundPosition(let readOnly), .radiusAroundMember(let readOnly): !readOnly
            case .search, .searchStore: false
            }
        }

        var name: String {
            switch self {
            case .radiusAroundPosition(let readOnly): readOnly ? "georadius_ro" : "georadius"
            case .radiusAroundMember(let readOnly): readOnly ? "georadiusbymember_ro" : "georadiusbymember"
            case .search: "geosearch"
            case .searchStore: "geosearchstore"
            }
        }
    }

    private enum GeoSort { case none, ascending, descending }

    /// A search as its arguments describe it. `center` and `kind` are nil only when the key
    /// is missing (a member's position cannot be looked up then).
    private struct GeoSearchRequest {
        var center: (longitude: Double, latitude: Double)?
        var kind: GeoShape.Kind?
        var metresPerUnit = 1.0
        var withDistance = false, withHash = false, withCoordinates = false
        var any = false
        var sort = GeoSort.none
        var count = 0
        var storeKey: UnsafeRawBufferPointer?
        var storeDistance = false
    }

    private struct GeoMatch {
        let member: [UInt8]
        let score: Double
        let longitude: Double
        let latitude: Double
        let distance: Double
    }

    func geosearch(_ argv: Argv, form: GeoSearchForm, now: Int64, _ writer: inout RESPWriter) throws(CommandError) {
        let set = try readable(argv[form.sourceIndex], SortedSetValue.self, now: now)
        var request = try Self.geoSearchRequest(argv, form: form, set: set)
        guard let set, let center = request.center, let kind = request.kind else {
            if let storeKey = request.storeKey {
                if deleteKey(storeKey, now: now) { notify(.generic, "del", storeKey) }
                writer.integer(0)
            } else {
                writer.arrayHeader(0)
            }
            return
        }
        // COUNT picks the nearest: it sorts, unless ANY asks for the first found.
        if request.count > 0 && request.sort == .none && !request.any { request.sort = .ascending }
        let shape = GeoShape(longitude: center.longitude, latitude: center.latitude, kind: kind)
        var matches = Self.geoMatches(in: set, shape, limit: request.any ? request.count : 0)
        switch request.sort {
        case .none: break
        case .ascending: matches.sort { $0.distance < $1.distance }
        case .descending: matches.sort { $0.distance > $1.distance }
        }
        if request.count > 0 && matches.count > request.count { matches.removeLast(matches.count - request.count) }

        if let storeKey = request.storeKey {
            let result = SortedSetValue()
            for match in matches {
                result.set(match.member, score: request.storeDistance ? match.distance / request.metresPerUnit : match.score,
                           limits: configuration.sortedSetEncoding)
            }
            writer.integer(storeSortedSet(result, at: storeKey, event: form.isSearch ? "geosearchstore" : "georadiusstore", now: now))
            return
        }
        let options = (request.withDistance ? 1 : 0) + (request.withHash ? 1 : 0) + (request.withCoordinates ? 1 : 0)
        writer.arrayHeader(matches.count)
        for match in matches {
            if options > 0 { writer.arrayHeader(options + 1) }
            writer.bulk(match.member)
            if request.withDistance { Self.writeDistance(match.distance / request.metresPerUnit, &writer) }
            // The ranges read lie below 2^54 (the limits' overflow cells): the score converts.
            if request.withHash { writer.integer(Int(match.score)) }
            if request.withCoordinates { Self.writeCoordinates(match.longitude, match.latitude, &writer) }
        }
    }

    /// The members of `set` inside `shape`, in score order; the first `limit` found when
    /// `limit` > 0 (COUNT ANY).
    private static func geoMatches(in set: SortedSetValue, _ shape: GeoShape, limit: Int) -> [GeoMatch] {
        var matches: [GeoMatch] = []
        for range in shape.scoreRanges() {
            let lower = Double(range.lowerBound)
            let upper = Double(range.upperBound)
            let first = set.countWhile { $0.score < lower }
            var full = false
            set.forEach(ranks: first..<set.count) { entry in
                guard entry.score < upper else { return false }
                let (longitude, latitude) = GeoHash.position(of: GeoHash.bits(ofScore: entry.score))
                if let distance = shape.distanceIfInside(longitude: longitude, latitude: latitude) {
                    matches.append(GeoMatch(member: Array(entry.member), score: entry.score, longitude: longitude, latitude: latitude, distance: distance))
                    full = limit > 0 && matches.count >= limit
                }
                return !full
            }
            if full { return matches }
        }
        return matches
    }

    /// Parses a search's arguments with Redis's errors in Redis's order: the fixed arguments
    /// of GEORADIUS and GEORADIUSBYMEMBER, each option as it comes, then the combinations.
    private static func geoSearchRequest(_ argv: Argv, form: GeoSearchForm, set: SortedSetValue?) throws(CommandError) -> GeoSearchRequest {
        var request = GeoSearchRequest()
        if form == .searchStore { request.storeKey = argv[1] }
        switch form {
        case .radiusAroundPosition:
            request.center = try geoPosition(argv, at: 2)
            (request.kind, request.metresPerUnit) = try radius(argv, at: 4)
        case .radiusAroundMember:
            // A missing key answers empty (or stores nothing) once the options are checked.
            if set != nil { request.center = try memberPosition(argv[2], in: set) }
            (request.kind, request.metresPerUnit) = try radius(argv, at: 3)
        case .search, .searchStore:
            break
        }
        var fromMember = false, fromPosition = false, byRadius = false, byBox = false
        var index = form.optionsStart
        func word(_ text: StaticString) -> Bool { ByteParsing.equalsIgnoringCase(argv[index], text) }
        while index < argv.count {
            let remaining = argv.count - index
            if word("WITHDIST") {
                request.withDistance = true
            } else if word("WITHHASH") {
                request.withHash = true
            } else if word("WITHCOORD") {
                request.withCoordinates = true
            } else if word("ANY") {
                request.any = true
            } else if word("ASC") {
                request.sort = .ascending
            } else if word("DESC") {
                request.sort = .descending
            } else if word("COUNT") && remaining > 1 {
                guard let value = ByteParsing.int64(argv[index + 1]) else { throw .notInteger }
                guard value > 0 else { throw CommandError("ERR COUNT must be > 0") }
                request.count = Int(value)
                index += 1
            } else if (word("STORE") || word("STOREDIST")) && remaining > 1 && form.acceptsStore {
                request.storeDistance = word("STOREDIST")
                request.storeKey = argv[index + 1]
                index += 1
            } else if word("STOREDIST") && form == .searchStore {
                request.storeDistance = true
            } else if word("FROMMEMBER") && remaining > 1 && form.isSearch && !fromPosition {
                if set != nil { request.center = try memberPosition(argv[index + 1], in: set) }
                fromMember = true
                index += 1
            } else if word("FROMLONLAT") && remaining > 2 && form.isSearch && !fromMember {
                request.center = try geoPosition(argv, at: index + 1)
                fromPosition = true
                index += 2
            } else if word("BYRADIUS") && remaining > 2 && form.isSearch && !byBox {
                (request.kind, request.metresPerUnit) = try radius(argv, at: index + 1)
                byRadius = true
                index += 2
            } else if word("BYBOX") && remaining > 3 && form.isSearch && !byRadius {
                guard let width = ByteParsing.double(argv[index + 1], rangeChecked: true),
                      let height = ByteParsing.double(argv[index + 2], rangeChecked: true) else { throw .notFloat }
                guard width >= 0 && height >= 0 else { throw CommandError("ERR height or width cannot be negative") }
                request.metresPerUnit = try metresPerGeoUnit(argv[index + 3])
                request.kind = .box(width: width * request.metresPerUnit, height: height * request.metresPerUnit)
                byBox = true
                index += 3
            } else {
                throw .syntax
            }
            index += 1
        }
        if request.storeKey != nil && (request.withDistance || request.withHash || request.withCoordinates) {
            let what = form.isSearch ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"
            throw CommandError("ERR \(what) is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        }
        if form.isSearch && !(fromMember || fromPosition) {
            throw CommandError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for \(form.name)")
        }
        if form.isSearch && !(byRadius || byBox) {
            throw CommandError("ERR exactly one of BYRADIUS and BYBOX can be specified for \(form.name)")
        }
        if request.any && request.count == 0 { throw CommandError("ERR the ANY argument requires COUNT argument") }
        return request
    }

    private static func memberPosition(_ member: UnsafeRawBufferPointer, in set: SortedSetValue?) throws(CommandError) -> (longitude: Double, latitude: Double) {
        guard let position = geoPosition(of: member, in: set) else { throw CommandError("ERR could not decode requested zset member") }
        return position
    }

    /// A radius and its unit at `argv[index]`, `argv[index + 1]`: the circle in metres.
    private static func radius(_ argv: Argv, at index: Int) throws(CommandError) -> (GeoShape.Kind, Double) {
        guard let radius = ByteParsing.double(argv[index], rangeChecked: true) else { throw .notFloat }
        guard radius >= 0 else { throw CommandError("ERR radius cannot be negative") }
        let metresPerUnit = try metresPerGeoUnit(argv[index + 1])
        return (.radius(radius * metresPerUnit), metresPerUnit)
    }
}
