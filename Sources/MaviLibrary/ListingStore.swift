import Foundation
import GRDB
import Logging
import MaviAPI

/// The last full listing of a namespace on a server, kept in the cache folder between mounts, so
/// that a new mount shows the library at once (marked stale until its first refresh lands)
/// instead of after relisting it page by page at 5 calls a second.
///
/// One SQLite file per server and namespace (`DIR/listings/<server>.<namespace>.sqlite`): the
/// videos in listing order, one row each with a column per field (read back without a JSON
/// decoder: a remount of 100,000 videos reads them in a fraction of a second), and when they were
/// saved. A file of another schema version, or one that fails SQLite's check, is deleted and
/// made again: never served wrong.
public final class ListingStore: Sendable {
    /// Bumped whenever what is stored changes meaning.
    static let schemaVersion = 3

    public struct Stored: Sendable {
        public var videos: VideoTable
        public var savedAt: Date
    }

    public let path: String
    /// A pool: a view's answer is read while a large listing is being saved, not after it.
    private let database: DatabasePool
    private let logger: Logger

    public static func path(cacheDirectory: String, endpoint: String, namespace: String) -> String {
        let folder = (cacheDirectory as NSString).appendingPathComponent("listings")
        return (folder as NSString).appendingPathComponent(CacheLayout.stateFileName(endpoint: endpoint, namespace: namespace) + ".sqlite")
    }

    /// Opens the store at `path`, making it (again) when it is missing, damaged or of another
    /// version.
    public init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            let usable = try Self.open(path)
            if try Self.check(usable) {
                database = usable
                return
            }
        } catch let error as DatabaseError where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
            // Damaged: made again below. Any other failure (a busy or unreadable file) is thrown,
            // and the file left as it is.
        }
        if FileManager.default.fileExists(atPath: path) {
            logger.notice("the stored listing is damaged or from another version; it is made again", metadata: ["path": "\(path)"])
        }
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        database = try Self.open(path)
        guard try Self.check(database) else { throw ListingStoreError.unusable(path) }
    }

    private static func open(_ path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.label = "mavifs.listings"
        configuration.busyMode = .timeout(10)
        return try DatabasePool(path: path, configuration: configuration)
    }

    /// Makes the schema in an empty file; `false` when the file holds anything else, or is damaged.
    private static func check(_ database: DatabasePool) throws -> Bool {
        try database.write { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if tables.isEmpty {
                try db.execute(sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE videos (\(StoredVideo.columnDefinitions));
                    CREATE TABLE answers (view TEXT NOT NULL, position INTEGER NOT NULL, video_no TEXT NOT NULL, PRIMARY KEY (view, position));
                    """)
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('schema', ?)", arguments: [String(schemaVersion)])
                return true
            }
            guard tables == ["answers", "meta", "videos"], try String.fetchOne(db, sql: "PRAGMA quick_check") == "ok" else { return false }
            return try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema'") == String(schemaVersion)
        }
    }

    /// The listing saved last, if any. A record that no longer decodes makes the whole listing
    /// unusable (nothing is served half).
    public func load() -> Stored? {
        do {
            return try database.read { db -> Stored? in
                guard let saved = try Double.fetchOne(db, sql: "SELECT CAST(value AS REAL) FROM meta WHERE key = 'saved_at'") else { return nil }
                var videos = VideoTable.Builder(capacity: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM videos") ?? 0)
                let rows = try Row.fetchCursor(db, sql: "SELECT \(StoredVideo.columnNames) FROM videos ORDER BY position")
                while let row = try rows.next() {
                    try StoredVideo.append(row, to: &videos)
                }
                return Stored(videos: videos.build(), savedAt: Date(timeIntervalSince1970: saved))
            }
        } catch {
            logger.notice("the stored listing cannot be read; the first listing comes from the server", metadata: [
                "path": "\(path)", "error": "\(error)",
            ])
            return nil
        }
    }

    /// Replaces what is stored with `videos` (a full listing, in its order), in one transaction.
    public func save(_ videos: VideoTable, at date: Date = Date()) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM videos")
            let insert = try db.makeStatement(sql: StoredVideo.insertSQL)
            for (position, video) in videos.enumerated() {
                try insert.execute(arguments: StoredVideo.arguments(video, position: position))
            }
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('saved_at', ?)", arguments: [String(date.timeIntervalSince1970)])
        }
    }
}

extension ListingStore {
    /// The numbers of the videos a view showed last, in its order (see ``StoredView``).
    public func answer(of view: StoredView) -> [String]? {
        do {
            return try database.read { db -> [String]? in
                let answered = try Int.fetchOne(db, sql: "SELECT 1 FROM meta WHERE key = ?", arguments: ["answer:" + view.key]) != nil
                guard answered else { return nil }
                return try String.fetchAll(db, sql: "SELECT video_no FROM answers WHERE view = ? ORDER BY position", arguments: [view.key])
            }
        } catch {
            logger.notice("a view's stored answer cannot be read", metadata: ["view": "\(view.key)", "error": "\(error)"])
            return nil
        }
    }

    /// Replaces the answer stored for `view` with `videoNos`, in one transaction.
    public func saveAnswer(of view: StoredView, _ videoNos: [String]) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM answers WHERE view = ?", arguments: [view.key])
            let insert = try db.makeStatement(sql: "INSERT INTO answers (view, position, video_no) VALUES (?, ?, ?)")
            for (position, videoNo) in videoNos.enumerated() {
                try insert.execute(arguments: [view.key, position, videoNo])
            }
            // An empty answer is an answer too (a tag with no video left).
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", arguments: ["answer:" + view.key])
        }
    }
}

public enum ListingStoreError: Error, CustomStringConvertible {
    case unusable(String)
    case unreadableRow(position: Int64, reason: String)

    public var description: String {
        switch self {
        case .unusable(let path): "the listing store \(path) cannot be made"
        case .unreadableRow(let position, let reason): "stored video \(position) cannot be read: \(reason)"
        }
    }
}
