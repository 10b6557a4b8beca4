import Foundation
import MaviAPI
@testable import MaviClient
import TestSupport

/// What one test video is uploaded with; expected listing results are computed from these, never
/// written out by hand.
struct UploadSpec: Sendable {
    var name: String
    var tags: [String] = []
    var camera: String?
    var taken: String?
    var location: GeoPoint?
    /// `false` uploads bytes that are no video, which processing must mark `FAIL`.
    var isVideo = true

    var fields: UploadFields {
        UploadFields(tags: tags, cameraModel: camera, takenAt: taken, location: location, fileName: name + ".mp4")
    }

    /// The capture time in ms since the epoch, reading `taken` as UTC as the server does.
    var takenMilliseconds: Int64? {
        guard let taken else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = APILimits.uploadDateFormat
        return formatter.date(from: taken).map { Int64($0.timeIntervalSince1970) * 1000 }
    }

    /// The tags a parsed video carries: the uploaded ones, then `api`.
    var parsedTags: [String] { tags + ["api"] }

    /// A small spread of places, cameras, times and tags: two videos within 20 km of each other,
    /// one far away, one without metadata, one that is no video.
    static let library: [UploadSpec] = [
        UploadSpec(
            name: "harbour-dawn", tags: ["holiday", "beijing"], camera: "Canon EOS 5D", taken: "2024-10-20 09:30:00",
            location: GeoPoint(latitude: 39.9042, longitude: 116.4074)),
        UploadSpec(
            name: "market-noon", tags: ["street"], camera: "iPhone 15 Pro", taken: "2023-05-01 12:00:00",
            location: GeoPoint(latitude: 39.97, longitude: 116.45)),
        UploadSpec(
            name: "paris-evening", tags: ["holiday"], camera: "Canon EOS 5D", taken: "2022-01-15 18:00:00",
            location: GeoPoint(latitude: 48.8566, longitude: 2.3522)),
        UploadSpec(name: "plain-clip"),
        UploadSpec(name: "broken-file", tags: ["holiday"], camera: "Canon EOS 5D", isVideo: false),
    ]
}

/// Great-circle distance in metres, for the expected results of the ~20 km radius filter.
func distanceMeters(_ a: GeoPoint, _ b: GeoPoint) -> Double {
    let radius = 6_371_008.8
    let φ1 = a.latitude * .pi / 180, φ2 = b.latitude * .pi / 180
    let dφ = (b.latitude - a.latitude) * .pi / 180, dλ = (b.longitude - a.longitude) * .pi / 180
    let h = sin(dφ / 2) * sin(dφ / 2) + cos(φ1) * cos(φ2) * sin(dλ / 2) * sin(dλ / 2)
    return 2 * radius * asin(min(1, sqrt(h)))
}

/// One uploaded video: its spec, the id the server gave it, the source file.
struct UploadedVideo: Sendable {
    var spec: UploadSpec
    var videoNo: String
    var path: String
    /// Whether processing ended in `PARSE` (the metadata filters only see those).
    var parsed: Bool { spec.isVideo }
}

extension LiveLibrary {
    /// Uploads every spec through the client (a real MP4, or garbage for `isVideo: false`) and
    /// waits until all are processed.
    func upload(_ specs: [UploadSpec], in directory: TemporaryDirectory) async throws -> [UploadedVideo] {
        let video = try await VideoFixtures.sharedMP4()
        let garbage = directory.appending("garbage.mp4")
        try VideoFixtures.makeNonVideo(at: garbage, count: 8192)
        var uploaded: [UploadedVideo] = []
        for spec in specs {
            let path = spec.isVideo ? video : garbage
            let reply = try await client.upload(file: path, fields: spec.fields)
            uploaded.append(UploadedVideo(spec: spec, videoNo: reply.videoNo, path: path))
        }
        for video in uploaded { _ = try await waitUntilProcessed(video.videoNo) }
        return uploaded
    }
}
