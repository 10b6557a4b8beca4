import Foundation
import GRDB
import MaviAPI
import Synchronization

/// The library's metadata in SQLite (WAL, through a GRDB pool: reads run in parallel with writes).
final class LibraryDatabase: Sendable {
    let pool: DatabasePool
    /// Namespaces are created on first use; caching them keeps listing free of write transactions.
    private let namespaces = Mutex<[String: NamespaceRecord]>([:])
    /// Bumped after every write to the videos. Counting a namespace of a million videos walks its
    /// index (a tenth of a second, for each page asked for): the count of a listing with no
    /// filter but the namespace is kept until the next write.
    private let videoWrites = Atomic<UInt64>(0)
    private let namespaceCounts = Mutex<[String: (writes: UInt64, count: Int)]>([:])

    init(path: String) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            db.add(function: GeoDistance.sqlFunction)
            // A library's metadata is a few MB per 10,000 videos: keep all of it in each
            // connection's cache, and map the file, so listing never re-reads pages.
            try db.execute(sql: "PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456")
        }
        pool = try DatabasePool(path: path, configuration: config)
        try LibraryMigrations.migrator.migrate(pool)
        let known = try pool.read { db in try NamespaceRecord.fetchAll(db) }
        namespaces.withLock { cache in
            for namespace in known { cache[namespace.name] = namespace }
        }
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

    func insert(_ video: VideoRecord) async throws {
        try await insert(batch: [video])
    }

    /// Inserts videos in one transaction (seeding inserts thousands at a time).
    func insert(batch: [VideoRecord]) async throws {
        defer { videoWrites.add(1, ordering: .sequentiallyConsistent) }
        try await pool.write { db in
            for var video in batch {
                video.tags = Self.distinct(video.tags)
                try video.insert(db)
                for (position, tag) in video.tags.enumerated() {
                    try VideoTagRecord(videoNo: video.videoNo, position: position, tag: tag).insert(db)
                }
            }
        }
    }

    /// A video by number; `namespace: nil` searches all namespaces (bucket/blob, legacy delete).
    func video(_ videoNo: String, namespace: String?) async throws -> VideoRecord? {
        try await pool.read { db in
            var request = VideoRecord.filter(key: videoNo)
            if let namespace { request = request.filter(VideoRecord.Columns.namespace == namespace) }
            return try request.fetchOne(db)
        }
    }

    func list(_ query: VideoListQuery) async throws -> VideoListResult {
        // Read before counting: a write that lands meanwhile is counted after it, and leaves
        // the kept count marked with the writes before it, never to be used again.
        let writes = videoWrites.load(ordering: .sequentiallyConsistent)
        let onlyNamespace = query == VideoListQuery(namespace: query.namespace, page: query.page, size: query.size)
        let kept = onlyNamespace ? namespaceCounts.withLock { $0[query.namespace] }.flatMap { $0.writes == writes ? $0.count : nil } : nil
        return try await pool.read { db in
            let filtered = Self.filtered(query)
            let total = try kept ?? filtered.fetchCount(db)
            if onlyNamespace, kept == nil { self.namespaceCounts.withLock { $0[query.namespace] = (writes, total) } }
            guard let offset = query.offset, offset < total else {
                return VideoListResult(totalCount: total, videos: [])
            }
            // Page through row ids first (an index-only walk when only the namespace filters),
            // then read the full rows of that page alone: skipping to a deep page must not read
            // every skipped row.
            let newestFirst = [VideoRecord.Columns.createTime.desc, VideoRecord.Columns.videoNo.desc]
            let pageIDs = filtered.select(Column.rowID).order(newestFirst).limit(query.size, offset: offset)
            let records = try VideoRecord
                .filter(pageIDs.contains(Column.rowID))
                .order(newestFirst)
                .fetchAll(db)
            return VideoListResult(totalCount: total, videos: records)
        }
    }

    /// Deletes the listed videos that exist (in `namespace`, or anywhere when nil) and returns them,
    /// so their files can be removed.
    func delete(_ videoNos: [String], namespace: String?) async throws -> [VideoRecord] {
        guard !videoNos.isEmpty else { return [] }
        defer { videoWrites.add(1, ordering: .sequentiallyConsistent) }
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
        defer { videoWrites.add(1, ordering: .sequentiallyConsistent) }
        return try await pool.write { db in
            guard var record = try VideoRecord.fetchOne(db, key: videoNo) else { return nil }
            change(&record)
            for tag in tagsToAppend where !record.tags.contains(tag) {
                try VideoTagRecord(videoNo: videoNo, position: record.tags.count, tag: tag).insert(db)
                record.tags.append(tag)
            }
            try record.update(db)
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

    static func filtered(_ q: VideoListQuery) -> QueryInterfaceRequest<VideoRecord> {
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
            // An IN over the tag index lets SQLite build the matching set once instead of probing per row.
            r = r.filter(sql: "video_no IN (SELECT video_no FROM video_tag WHERE tag = ?)", arguments: [tag])
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

    private static func distinct(_ tags: [String]) -> [String] {
        var seen = Set<String>()
        return tags.filter { seen.insert($0).inserted }
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
