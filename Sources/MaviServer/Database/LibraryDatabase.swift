import Foundation
import GRDB
import MaviAPI
import Synchronization

/// The library's metadata in SQLite (WAL, through a GRDB pool: reads run in parallel with writes).
final class LibraryDatabase: Sendable {
    private let pool: DatabasePool
    /// Namespaces are created on first use; caching them keeps listing free of write transactions.
    private let namespaces = Mutex<[String: NamespaceRecord]>([:])

    init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            db.add(function: GeoDistance.sqlFunction)
        }
        pool = try DatabasePool(path: path, configuration: config)
        try LibraryMigrations.migrator.migrate(pool)
    }

    // MARK: Namespaces

    /// The namespace called `name`, created (with its directory and file token) when new.
    func namespace(named name: String) async throws -> NamespaceRecord {
        if let cached = namespaces.withLock({ $0[name] }) { return cached }
        let record = try await pool.write { db -> NamespaceRecord in
            if let existing = try NamespaceRecord.fetchOne(db, key: name) { return existing }
            let token = Self.randomToken()
            let record = NamespaceRecord(
                name: name, directory: NamespaceRecord.directoryName(for: name, token: token),
                fileToken: token, createdAt: Self.nowMilliseconds())
            try record.insert(db)
            return record
        }
        namespaces.withLock { $0[name] = record }
        return record
    }

    func namespace(token: String) async throws -> NamespaceRecord? {
        if let cached = namespaces.withLock({ $0.values.first { $0.fileToken == token } }) { return cached }
        return try await pool.read { db in
            try NamespaceRecord.filter(NamespaceRecord.Columns.fileToken == token).fetchOne(db)
        }
    }

    func allNamespaces() async throws -> [NamespaceRecord] {
        try await pool.read { db in try NamespaceRecord.order(NamespaceRecord.Columns.name).fetchAll(db) }
    }

    // MARK: Videos

    func insert(_ video: VideoRecord, tags: [String]) async throws {
        try await pool.write { db in
            try video.insert(db)
            try Self.insertTags(tags, of: video.videoNo, db: db)
        }
    }

    /// Inserts many videos in one transaction (seeding).
    func insert(batch: [StoredVideo]) async throws {
        try await pool.write { db in
            for video in batch {
                try video.record.insert(db)
                try Self.insertTags(video.tags, of: video.record.videoNo, db: db)
            }
        }
    }

    /// A video by number; `namespace: nil` searches all namespaces (bucket/blob, legacy delete).
    func video(_ videoNo: String, namespace: String?) async throws -> StoredVideo? {
        try await pool.read { db in
            var request = VideoRecord.filter(key: videoNo)
            if let namespace { request = request.filter(VideoRecord.Columns.namespace == namespace) }
            guard let record = try request.fetchOne(db) else { return nil }
            return StoredVideo(record: record, tags: try Self.tags(of: [videoNo], db: db)[videoNo] ?? [])
        }
    }

    func list(_ query: VideoListQuery) async throws -> VideoListResult {
        try await pool.read { db in
            let filtered = Self.filtered(query)
            let total = try filtered.fetchCount(db)
            guard let offset = query.offset, offset < total else {
                return VideoListResult(totalCount: total, videos: [])
            }
            let records = try filtered
                .order(VideoRecord.Columns.createTime.desc, VideoRecord.Columns.videoNo.desc)
                .limit(query.size, offset: offset)
                .fetchAll(db)
            let tags = try Self.tags(of: records.map(\.videoNo), db: db)
            return VideoListResult(
                totalCount: total,
                videos: records.map { StoredVideo(record: $0, tags: tags[$0.videoNo] ?? []) })
        }
    }

    /// Deletes the listed videos that exist (in `namespace`, or anywhere when nil) and returns them,
    /// so their files can be removed.
    func delete(_ videoNos: [String], namespace: String?) async throws -> [VideoRecord] {
        guard !videoNos.isEmpty else { return [] }
        return try await pool.write { db in
            var request = VideoRecord.filter(keys: Set(videoNos))
            if let namespace { request = request.filter(VideoRecord.Columns.namespace == namespace) }
            let doomed = try request.fetchAll(db)
            _ = try VideoRecord.deleteAll(db, keys: doomed.map(\.videoNo))
            return doomed
        }
    }

    /// Applies `change` to a video, if it still exists; returns the updated record.
    @discardableResult
    func update(_ videoNo: String, tagsToAppend: [String] = [], _ change: @escaping @Sendable (inout VideoRecord) -> Void) async throws -> VideoRecord? {
        try await pool.write { db in
            guard var record = try VideoRecord.fetchOne(db, key: videoNo) else { return nil }
            change(&record)
            try record.update(db)
            if !tagsToAppend.isEmpty {
                let existing = try Self.tags(of: [videoNo], db: db)[videoNo] ?? []
                let fresh = tagsToAppend.filter { !existing.contains($0) }
                for (offset, tag) in fresh.enumerated() {
                    try VideoTagRecord(videoNo: videoNo, position: existing.count + offset, tag: tag).insert(db)
                }
            }
            return record
        }
    }

    /// Videos still waiting to be processed, oldest first (resumed at start-up).
    func unparsedVideoNumbers() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, VideoRecord
                .select(VideoRecord.Columns.videoNo)
                .filter(VideoRecord.Columns.status == VideoStatus.unparsed.wireValue)
                .order(VideoRecord.Columns.createTime))
        }
    }

    /// Videos of a namespace whose original is on disk, for the directory listing.
    func filesOnDisk(namespace: String) async throws -> [VideoRecord] {
        try await pool.read { db in
            try VideoRecord
                .filter(VideoRecord.Columns.namespace == namespace && VideoRecord.Columns.hasOriginal == true)
                .order(VideoRecord.Columns.videoNo)
                .fetchAll(db)
        }
    }

    /// The largest number used by a `VI…` id, so new ids stay unique across restarts.
    func largestVideoNumber() throws -> Int64 {
        try pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(CAST(substr(video_no, 3) AS INTEGER)) FROM video") ?? 0
        }
    }

    // MARK: Helpers

    private static func filtered(_ q: VideoListQuery) -> QueryInterfaceRequest<VideoRecord> {
        typealias C = VideoRecord.Columns
        var r = VideoRecord.filter(C.namespace == q.namespace)
        if let v = q.videoName { r = r.filter(C.videoName == v) }
        if let v = q.videoNo { r = r.filter(C.videoNo == v) }
        if let v = q.videoNos { r = r.filter(v.contains(C.videoNo)) }
        if let v = q.status { r = r.filter(C.status == v) }
        if q.usesMetadataFilter { r = r.filter(C.status == VideoStatus.parsed.wireValue) }
        if let v = q.cameraModel { r = r.filter(C.cameraModel == v) }
        if let v = q.datetimeTakenMin { r = r.filter(C.datetimeTaken >= v) }
        if let tag = q.tag {
            r = r.filter(sql: "EXISTS (SELECT 1 FROM video_tag t WHERE t.video_no = video.video_no AND t.tag = ?)", arguments: [tag])
        }
        if let lat = q.latitude, let lon = q.longitude {
            let radius = APILimits.geoRadiusMeters
            let box = GeoDistance.boundingBox(latitude: lat, longitude: lon, radius: radius)
            r = r.filter(C.latitude >= box.lat.lowerBound && C.latitude <= box.lat.upperBound)
            if let lonBox = box.lon {
                r = r.filter(C.longitude >= lonBox.lowerBound && C.longitude <= lonBox.upperBound)
            }
            r = r.filter(sql: "mavi_distance_m(latitude, longitude, ?, ?) <= ?", arguments: [lat, lon, radius])
        }
        return r
    }

    private static func tags(of videoNos: [String], db: Database) throws -> [String: [String]] {
        guard !videoNos.isEmpty else { return [:] }
        let rows = try VideoTagRecord
            .filter(videoNos.contains(Column("video_no")))
            .order(Column("video_no"), Column("position"))
            .fetchAll(db)
        return Dictionary(grouping: rows, by: \.videoNo).mapValues { $0.map(\.tag) }
    }

    private static func insertTags(_ tags: [String], of videoNo: String, db: Database) throws {
        var seen = Set<String>()
        for tag in tags where seen.insert(tag).inserted {
            try VideoTagRecord(videoNo: videoNo, position: seen.count - 1, tag: tag).insert(db)
        }
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
