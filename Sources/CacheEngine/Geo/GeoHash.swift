import Glibc

/// Positions as Redis's geo commands keep them (geohash.c, geohash_helper.c): a member of a
/// sorted set whose score is a 52-bit geohash of its longitude and latitude.
///
/// - 26 steps: the latitude's and the longitude's 26 bits interleaved, the longitude's bit the
///   higher of each pair. Latitudes span ±85.05112878° (the Web Mercator limit), not ±90°, so
///   a stored position comes back as the centre of its cell, about 0.6 m across.
/// - Distances are great-circle distances on a sphere of radius 6,372,797.560856 m, by the
///   haversine formula, as Redis computes them.
/// - GEOHASH's 11-character strings are the standard geohash (latitudes ±90°) of the decoded
///   position.
///
/// Contract: pure.
public enum GeoHash {
    static let steps = 26
    public static let latitudeLimit = 85.05112878
    static let earthRadius = 6_372_797.560856

    public static func isValid(longitude: Double, latitude: Double) -> Bool {
        longitude >= -180 && longitude <= 180 && latitude >= -latitudeLimit && latitude <= latitudeLimit
    }

    // MARK: Encoding

    /// The 52-bit score of a valid position.
    public static func score(longitude: Double, latitude: Double) -> UInt64 {
        encode(longitude: longitude, latitude: latitude, latitudeLimit: latitudeLimit, steps: steps)
    }

    static func encode(longitude: Double, latitude: Double, latitudeLimit: Double, steps: Int) -> UInt64 {
        let scale = Double(UInt64(1) << UInt64(steps))
        let latitudeCell = UInt32((latitude + latitudeLimit) / (2 * latitudeLimit) * scale)
        let longitudeCell = UInt32((longitude + 180) / 360 * scale)
        return interleave(latitudeCell, longitudeCell)
    }

    /// `even`'s bits at the even positions, `odd`'s at the odd ones.
    static func interleave(_ even: UInt32, _ odd: UInt32) -> UInt64 {
        spread(even) | spread(odd) << 1
    }

    static func spread(_ value: UInt32) -> UInt64 {
        var bits = UInt64(value)
        bits = (bits | bits << 16) & 0x0000_FFFF_0000_FFFF
        bits = (bits | bits << 8) & 0x00FF_00FF_00FF_00FF
        bits = (bits | bits << 4) & 0x0F0F_0F0F_0F0F_0F0F
        bits = (bits | bits << 2) & 0x3333_3333_3333_3333
        bits = (bits | bits << 1) & 0x5555_5555_5555_5555
        return bits
    }

    static func compact(_ value: UInt64) -> UInt32 {
        var bits = value & 0x5555_5555_5555_5555
        bits = (bits | bits >> 1) & 0x3333_3333_3333_3333
        bits = (bits | bits >> 2) & 0x0F0F_0F0F_0F0F_0F0F
        bits = (bits | bits >> 4) & 0x00FF_00FF_00FF_00FF
        bits = (bits | bits >> 8) & 0x0000_FFFF_0000_FFFF
        bits = (bits | bits >> 16) & 0x0000_0000_FFFF_FFFF
        return UInt32(bits)
    }

    // MARK: Decoding

    /// The score of a sorted-set member as the geohash it stands for: C's `(uint64_t)` cast as
    /// x86-64 compilers emit it, so scores no GEOADD wrote (negative, fractional, huge) decode
    /// to the position Redis shows for them.
    public static func bits(ofScore score: Double) -> UInt64 {
        if score >= 0x1p63 { return score < 0x1p64 ? UInt64(score) : 0 }
        if score >= -0x1p63 { return UInt64(bitPattern: Int64(score)) }
        return 0x8000_0000_0000_0000
    }

    /// The centre of the cell `bits` names, clamped to the valid range.
    public static func position(of bits: UInt64) -> (longitude: Double, latitude: Double) {
        let scale = Double(UInt64(1) << UInt64(steps))
        let latitudeCell = Double(compact(bits))
        let longitudeCell = Double(compact(bits >> 1))
        let latitudeSpan = 2 * latitudeLimit
        let latitudeLow = -latitudeLimit + (latitudeCell / scale) * latitudeSpan
        let latitudeHigh = -latitudeLimit + ((latitudeCell + 1) / scale) * latitudeSpan
        let longitudeLow = -180 + (longitudeCell / scale) * 360
        let longitudeHigh = -180 + ((longitudeCell + 1) / scale) * 360
        let longitude = Swift.min(180, Swift.max(-180, (longitudeLow + longitudeHigh) / 2))
        let latitude = Swift.min(latitudeLimit, Swift.max(-latitudeLimit, (latitudeLow + latitudeHigh) / 2))
        return (longitude, latitude)
    }

    /// GEOHASH's string: the standard 11-character geohash of the decoded position (its last
    /// character always `0`: 52 bits fill ten and a half characters).
    public static func standardString(of bits: UInt64) -> [UInt8] {
        let alphabet = Array("0123456789bcdefghjkmnpqrstuvwxyz".utf8)
        let (longitude, latitude) = position(of: bits)
        let standard = encode(longitude: longitude, latitude: latitude, latitudeLimit: 90, steps: steps)
        var text: [UInt8] = []
        for index in 0..<10 {
            let shift = UInt64(52 - (index + 1) * 5)
            text.append(alphabet[Int((standard >> shift) & 0x1F)])
        }
        text.append(alphabet[0])
        return text
    }

    // MARK: Distance

    static func radians(_ degrees: Double) -> Double { degrees * (Double.pi / 180) }
    static func degrees(_ radians: Double) -> Double { radians / (Double.pi / 180) }

    /// Metres along a meridian between two latitudes.
    static func latitudeDistance(_ latitude1: Double, _ latitude2: Double) -> Double {
        earthRadius * abs(radians(latitude2) - radians(latitude1))
    }

    /// Great-circle metres between two positions (the haversine formula).
    public static func distance(_ longitude1: Double, _ latitude1: Double, _ longitude2: Double, _ latitude2: Double) -> Double {
        let v = sin((radians(longitude2) - radians(longitude1)) / 2)
        // The same longitude: the distance along the meridian, exactly.
        if v == 0 { return latitudeDistance(latitude1, latitude2) }
        let u = sin((radians(latitude2) - radians(latitude1)) / 2)
        let a = u * u + cos(radians(latitude1)) * cos(radians(latitude2)) * v * v
        return 2 * earthRadius * asin(a.squareRoot())
    }
}
