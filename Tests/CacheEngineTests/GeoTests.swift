import Glibc
import Testing

@testable import CacheEngine

@Suite struct GeoHashTests {
    /// redis-server 7.0.15's answers for `GEOADD t 13.361389 38.115556 Palermo 15.087269
    /// 37.502669 Catania 180 85.05112878 corner`: ZSCORE, GEOPOS, GEOHASH and GEODIST.
    @Test func scoresPositionsHashesAndDistancesAreRediss() {
        let palermo = GeoHash.score(longitude: 13.361389, latitude: 38.115556)
        #expect(palermo == 3_479_099_956_230_698)
        let position = GeoHash.position(of: palermo)
        #expect(position.longitude == 13.361389338970184 && position.latitude == 38.1155563954963)
        #expect(String(decoding: GeoHash.standardString(of: palermo), as: UTF8.self) == "sqc8b49rny0")
        let catania = GeoHash.score(longitude: 15.087269, latitude: 37.502669)
        #expect(String(decoding: GeoHash.standardString(of: catania), as: UTF8.self) == "sqdtr74hyu0")
        let other = GeoHash.position(of: catania)
        #expect(Engine.fixed(GeoHash.distance(position.longitude, position.latitude, other.longitude, other.latitude), decimals: 4) == "166274.1516")
        // The north-east limit overflows the cell index into the next bit, as in Redis.
        let corner = GeoHash.score(longitude: 180, latitude: GeoHash.latitudeLimit)
        #expect(corner == 13_510_798_882_111_488)
        #expect(GeoHash.position(of: corner) == (180, GeoHash.latitudeLimit))
        #expect(String(decoding: GeoHash.standardString(of: corner), as: UTF8.self) == "bp05b5048p0")
    }

    @Test func scoresThatNoGeoaddWroteDecodeAsCsCastDoes() {
        #expect(GeoHash.bits(ofScore: 1.5) == 1)
        #expect(GeoHash.bits(ofScore: -1) == .max)
        #expect(GeoHash.bits(ofScore: -.infinity) == 1 << 63)
        #expect(GeoHash.bits(ofScore: 0x1p63) == 1 << 63)
    }

    /// Every position a shape matches lies in one of the score ranges it reads, for circles and
    /// boxes of every size, near the poles and across the antimeridian included.
    @Test func theRangesReadHoldEveryMatch() {
        var random = SplitMix64(seed: 3)
        func uniform(_ low: Double, _ high: Double) -> Double {
            low + Double(random.next() >> 11) / Double(1 << 53) * (high - low)
        }
        var matches = 0
        for round in 0..<300 {
            let longitude = round % 10 == 0 ? 180 : uniform(-180, 180)
            let latitude = round % 7 == 0 ? uniform(80, GeoHash.latitudeLimit) : uniform(-GeoHash.latitudeLimit, GeoHash.latitudeLimit)
            let size = [100.0, 10_000, 300_000, 3_000_000, 12_000_000][round % 5]
            let kind: GeoShape.Kind = round % 2 == 0 ? .radius(size) : .box(width: size * 2, height: size)
            let shape = GeoShape(longitude: longitude, latitude: latitude, kind: kind)
            let ranges = shape.scoreRanges()
            #expect(ranges.count <= 9)
            for _ in 0..<200 {
                // Points near the centre, so a good share of them match.
                let degrees = size / 111_000 * 1.5
                let pointLongitude = min(180, max(-180, longitude + uniform(-degrees, degrees) / max(0.05, cos(GeoHash.radians(latitude)))))
                let pointLatitude = min(GeoHash.latitudeLimit, max(-GeoHash.latitudeLimit, latitude + uniform(-degrees, degrees)))
                let score = GeoHash.score(longitude: pointLongitude, latitude: pointLatitude)
                let decoded = GeoHash.position(of: score)
                guard shape.distanceIfInside(longitude: decoded.longitude, latitude: decoded.latitude) != nil else { continue }
                matches += 1
                #expect(ranges.contains { $0.contains(score) }, "round \(round): \(pointLongitude),\(pointLatitude) matches but is not read")
            }
        }
        #expect(matches > 10_000)
    }

    @Test func geoaddIsZaddAndSearchesStoreSortedSets() {
        let harness = EngineHarness()
        #expect(harness.run("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania") == .integer(2))
        #expect(harness.run("GEOADD", "g", "CH", "13.5", "38.1", "Palermo") == .integer(1))
        #expect(harness.run("TYPE", "g") == .simple("zset"))
        #expect(harness.run("GEOSEARCHSTORE", "near", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "100", "km", "STOREDIST") == .integer(1))
        #expect(harness.run("ZRANGE", "near", "0", "-1") == .array([.bulk("Catania")]))
        #expect(harness.run("GEOADD", "g", "181", "0", "x") == .error("ERR invalid longitude,latitude pair 181.000000,0.000000"))
    }
}
