import Glibc

/// The area a GEOSEARCH or GEORADIUS looks in: a circle, or a box aligned with the meridians,
/// around a centre. Sizes are in metres.
///
/// Which members match is decided exactly as Redis decides it, on each member's decoded
/// position: within the radius by great-circle distance; or, for a box, within half its height
/// along the meridian and within half its width along the member's own parallel. Which score
/// ranges are read to find them is this type's own: at most four geohash cells, each at least
/// as large as the area's bounding box (Redis reads up to nine smaller ones), so a search reads
/// more of the set than Redis's for large areas and the same matches come out.
public struct GeoShape: Sendable {
    public enum Kind: Sendable {
        case radius(Double)
        case box(width: Double, height: Double)
    }

    public let longitude: Double
    public let latitude: Double
    public let kind: Kind

    public init(longitude: Double, latitude: Double, kind: Kind) {
        self.longitude = longitude
        self.latitude = latitude
        self.kind = kind
    }

    /// The distance from the centre to a member at (`longitude`, `latitude`) if it lies in the
    /// shape.
    public func distanceIfInside(longitude: Double, latitude: Double) -> Double? {
        switch kind {
        case .radius(let radius):
            let distance = GeoHash.distance(self.longitude, self.latitude, longitude, latitude)
            return distance > radius ? nil : distance
        case .box(let width, let height):
            guard GeoHash.latitudeDistance(latitude, self.latitude) <= height / 2 else { return nil }
            guard GeoHash.distance(longitude, latitude, self.longitude, latitude) <= width / 2 else { return nil }
            return GeoHash.distance(self.longitude, self.latitude, longitude, latitude)
        }
    }

    /// Half-open score ranges that hold every member inside the shape (and others, which
    /// `distanceIfInside` sorts out).
    public func scoreRanges() -> [Range<UInt64>] {
        let (latitudeReach, longitudeReach) = reach()
        let south = Swift.max(-GeoHash.latitudeLimit, latitude - latitudeReach)
        let north = Swift.min(GeoHash.latitudeLimit, latitude + latitudeReach)
        // The longitude intervals, split where they cross the antimeridian.
        var intervals: [(Double, Double)] = []
        if longitudeReach >= 180 {
            intervals = [(-180, 180)]
        } else {
            let west = longitude - longitudeReach
            let east = longitude + longitudeReach
            if west < -180 { intervals.append((west + 360, 180)) }
            if east > 180 { intervals.append((-180, east - 360)) }
            intervals.append((Swift.max(-180, west), Swift.min(180, east)))
        }
        var ranges: [Range<UInt64>] = []
        for (west, east) in intervals {
            ranges.append(contentsOf: Self.cells(south: south, north: north, west: west, east: east))
        }
        return Self.merged(ranges)
    }

    /// How far, in degrees of latitude and of longitude, a matching position can lie from the
    /// centre, with a margin for rounding.
    func reach() -> (latitude: Double, longitude: Double) {
        let margin = 1.000_001
        switch kind {
        case .radius(let radius):
            // On the sphere, a circle of angular radius δ around latitude φ spans
            // ±asin(sin δ / cos φ) of longitude, unless it reaches a pole.
            let angle = radius / GeoHash.earthRadius
            let latitudeReach = GeoHash.degrees(angle) * margin + 1e-9
            let poleDistance = GeoHash.radians(90 - abs(latitude))
            guard angle < poleDistance else { return (latitudeReach, 180) }
            let ratio = sin(angle) / cos(GeoHash.radians(latitude))
            guard ratio < 1 else { return (latitudeReach, 180) }
            return (latitudeReach, GeoHash.degrees(asin(ratio)) * margin + 1e-9)
        case .box(let width, let height):
            let latitudeReach = GeoHash.degrees(height / 2 / GeoHash.earthRadius) * margin + 1e-9
            // Within half the width along a parallel φ: 2R·asin(cos φ · sin(Δλ/2)) ≤ w/2, widest
            // at the parallel nearest a pole.
            let farthest = Swift.min(90, abs(latitude) + latitudeReach)
            let halfAngle = width / 4 / GeoHash.earthRadius
            let ratio = sin(halfAngle) / cos(GeoHash.radians(farthest))
            guard halfAngle < Double.pi / 2, ratio < 1, farthest < 90 else { return (latitudeReach, 180) }
            return (latitudeReach, GeoHash.degrees(2 * asin(ratio)) * margin + 1e-9)
        }
    }

    /// The score ranges of the cells, at the finest level where a cell is at least as large
    /// as the box, that the box touches: two by two at most, and the overflow cells of the
    /// limits.
    static func cells(south: Double, north: Double, west: Double, east: Double) -> [Range<UInt64>] {
        let latitudeSpan = 2 * GeoHash.latitudeLimit
        var steps = GeoHash.steps
        while steps > 0 && (latitudeSpan / Double(1 << steps) < north - south || 360 / Double(1 << steps) < east - west) {
            steps -= 1
        }
        let cellsPerSide = UInt32(1) << UInt32(steps)
        func latitudeCell(_ value: Double) -> UInt32 {
            UInt32(Swift.min(Double(cellsPerSide - 1), Swift.max(0, ((value + GeoHash.latitudeLimit) / latitudeSpan * Double(cellsPerSide)).rounded(.down))))
        }
        func longitudeCell(_ value: Double) -> UInt32 {
            UInt32(Swift.min(Double(cellsPerSide - 1), Swift.max(0, ((value + 180) / 360 * Double(cellsPerSide)).rounded(.down))))
        }
        let shift = UInt64(2 * (GeoHash.steps - steps))
        // A position exactly on the east or north limit encodes one cell past the last (the
        // cell index overflows into the next bit, in Redis too): those are read as well.
        var latitudeIndexes: Set = [latitudeCell(south), latitudeCell(north)]
        if north >= GeoHash.latitudeLimit { latitudeIndexes.insert(cellsPerSide) }
        var longitudeIndexes: Set = [longitudeCell(west), longitudeCell(east)]
        if east >= 180 { longitudeIndexes.insert(cellsPerSide) }
        var ranges: [Range<UInt64>] = []
        for latitudeIndex in latitudeIndexes {
            for longitudeIndex in longitudeIndexes {
                let cell = GeoHash.interleave(latitudeIndex, longitudeIndex)
                ranges.append(cell << shift ..< (cell + 1) << shift)
            }
        }
        return ranges
    }

    /// Sorted, with overlapping or touching ranges joined.
    static func merged(_ ranges: [Range<UInt64>]) -> [Range<UInt64>] {
        var result: [Range<UInt64>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, range.lowerBound <= last.upperBound {
                result[result.count - 1] = last.lowerBound ..< Swift.max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }
}
