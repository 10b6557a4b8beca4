import Foundation
import MaviAPI

/// Fills a namespace with synthetic parsed videos, varied enough to exercise every filter.
struct LibrarySeeder {
    let library: Library

    static let cameras = ["Canon EOS 5D", "iPhone 15 Pro", "GoPro HERO12", "DJI Mini 4 Pro"]
    static let scenes = ["holiday", "beach", "city", "forest", "kitchen"]
    /// Beijing, Paris, New York, Sydney.
    static let places: [(Double, Double)] = [(39.9042, 116.4074), (48.8566, 2.3522), (40.7128, -74.0060), (-33.8688, 151.2093)]

    func seed(count: Int, namespace name: String, sourceFile: String?, namePrefix: String) async throws -> [String] {
        let namespace = try await library.database.namespace(named: name)
        var size: Int64 = 1_000_000
        var ext = "mp4"
        if let sourceFile {
            let attributes = try FileManager.default.attributesOfItem(atPath: sourceFile)
            size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            let sourceExt = (sourceFile as NSString).pathExtension.lowercased()
            if !sourceExt.isEmpty { ext = sourceExt }
        }
        let now = LibraryDatabase.nowMilliseconds()
        var batch: [VideoRecord] = []
        var numbers: [String] = []
        batch.reserveCapacity(min(count, 1000))
        for i in 0..<count {
            let videoNo = library.ids.next()
            let place = Self.places[i % Self.places.count]
            let record = VideoRecord(
                videoNo: videoNo, namespace: name, videoName: namePrefix + String(format: "-%06d", i), fileExtension: ext,
                size: size, status: VideoStatus.parsed.wireValue, cause: nil,
                createTime: now - Int64(count - i) * 1000, duration: Int64(10 + i % 120), fps: 30, width: 1280, height: 720,
                datetimeTaken: 1_700_000_000_000 + Int64(i) * 3_600_000, cameraModel: Self.cameras[i % Self.cameras.count],
                latitude: place.0 + Double(i % 7) * 0.01, longitude: place.1 + Double(i % 5) * 0.01,
                callbackURL: nil, retainOriginal: true, hasOriginal: sourceFile != nil, hasCover: false, sourceURL: nil,
                tags: [Self.scenes[i % Self.scenes.count], "seeded", "api"])
            if let sourceFile {
                let path = library.originalPath(record, in: namespace)
                try library.layout.ensureDirectory(forFile: path)
                if link(sourceFile, path) != 0 {
                    try FileManager.default.copyItem(atPath: sourceFile, toPath: path)
                }
            }
            batch.append(record)
            numbers.append(videoNo)
            if batch.count == 1000 {
                try await library.database.insert(batch: batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await library.database.insert(batch: batch) }
        return numbers
    }
}
