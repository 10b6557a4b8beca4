import Foundation
import GRDB

/// Great-circle distance for the `latitude`/`longitude` filter of `list_videos`.
enum GeoDistance {
    static let earthRadiusMeters = 6_371_008.8

    static func meters(lat1: Double, lon1: Double, lat2: Double, lon2: Double) -> Double {
        let φ1 = lat1 * .pi / 180, φ2 = lat2 * .pi / 180
        let dφ = (lat2 - lat1) * .pi / 180, dλ = (lon2 - lon1) * .pi / 180
        let a = sin(dφ / 2) * sin(dφ / 2) + cos(φ1) * cos(φ2) * sin(dλ / 2) * sin(dλ / 2)
        return 2 * earthRadiusMeters * asin(min(1, sqrt(a)))
    }

    /// `mavi_distance_m(lat1, lon1, lat2, lon2)` in SQL; NULL when a coordinate is missing.
    static let sqlFunction = DatabaseFunction("mavi_distance_m", argumentCount: 4, pure: true) { values in
        let d = values.compactMap { Double.fromDatabaseValue($0) }
        guard d.count == 4 else { return nil }
        return meters(lat1: d[0], lon1: d[1], lat2: d[2], lon2: d[3])
    }

    /// A latitude/longitude box that contains the circle, so an index narrows the rows before the
    /// exact distance is computed. Longitude bounds are `nil` near the poles or across ±180°.
    static func boundingBox(latitude: Double, longitude: Double, radius: Double)
        -> (lat: ClosedRange<Double>, lon: ClosedRange<Double>?)
    {
        let degreesLat = radius / 111_195.0
        let lat = (latitude - degreesLat)...(latitude + degreesLat)
        let cosLat = cos(latitude * .pi / 180)
        guard cosLat > 0.01 else { return (lat, nil) }
        let degreesLon = radius / (111_195.0 * cosLat)
        let lon = (longitude - degreesLon)...(longitude + degreesLon)
        guard lon.lowerBound >= -180, lon.upperBound <= 180 else { return (lat, nil) }
        return (lat, lon)
    }
}
