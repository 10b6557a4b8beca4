import GRDB

/// A namespace (`unique_id`): created on first use, with the directory its files live in and the
/// secret token that makes its file URLs unguessable.
struct NamespaceRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    static let databaseTableName = "namespace"

    var name: String
    var directory: String
    var fileToken: String
    var createdAt: Int64

    enum CodingKeys: String, CodingKey {
        case name, directory, fileToken = "file_token", createdAt = "created_at"
    }

    enum Columns {
        static let name = Column(CodingKeys.name)
        static let fileToken = Column(CodingKeys.fileToken)
    }

    /// A directory name for `namespace`: itself when it is a plain file name, otherwise a name made
    /// from the token. `~` cannot start a plain name, so the two kinds never collide.
    static func directoryName(for namespace: String, token: String) -> String {
        let plain = namespace.utf8.count <= 64 && !namespace.hasPrefix(".") && !namespace.isEmpty
            && namespace.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "._-".unicodeScalars.contains($0) }
        return plain ? namespace : "~" + token.prefix(16)
    }
}

/// One stored video. Capture metadata is kept as uploaded; the API shows it (and the tags) only
/// once the video is parsed, as the live service does.
struct VideoRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    static let databaseTableName = "video"

    var videoNo: String
    var namespace: String
    var videoName: String
    /// Extension of the stored file, lower case, without the dot.
    var fileExtension: String
    var size: Int64
    /// `PARSE`, `UNPARSE` or `FAIL`.
    var status: String
    var cause: String?
    /// Upload time, ms since the epoch.
    var createTime: Int64
    /// Seconds.
    var duration: Int64?
    var fps: Double?
    var width: Int?
    var height: Int?
    /// Capture time, ms since the epoch.
    var datetimeTaken: Int64?
    var cameraModel: String?
    var latitude: Double?
    var longitude: Double?
    var callbackURL: String?
    /// `retain_original_video` from the upload: when false the original is dropped once parsed.
    var retainOriginal: Bool
    /// Whether the original file is on disk (downloadable, has a `video_url`).
    var hasOriginal: Bool
    var hasCover: Bool
    /// For `upload_url`: where the original is fetched from.
    var sourceURL: String?

    enum CodingKeys: String, CodingKey {
        case videoNo = "video_no", namespace, videoName = "video_name", fileExtension = "file_extension"
        case size, status, cause, createTime = "create_time", duration, fps, width, height
        case datetimeTaken = "datetime_taken", cameraModel = "camera_model", latitude, longitude
        case callbackURL = "callback_url", retainOriginal = "retain_original", hasOriginal = "has_original"
        case hasCover = "has_cover", sourceURL = "source_url"
    }

    enum Columns {
        static let videoNo = Column(CodingKeys.videoNo)
        static let namespace = Column(CodingKeys.namespace)
        static let videoName = Column(CodingKeys.videoName)
        static let status = Column(CodingKeys.status)
        static let createTime = Column(CodingKeys.createTime)
        static let cameraModel = Column(CodingKeys.cameraModel)
        static let datetimeTaken = Column(CodingKeys.datetimeTaken)
        static let latitude = Column(CodingKeys.latitude)
        static let longitude = Column(CodingKeys.longitude)
        static let hasOriginal = Column(CodingKeys.hasOriginal)
    }

    /// The name clients see for the stored file, also its `blob`.
    var fileName: String { "\(videoNo).\(fileExtension)" }
}

/// One tag of a video, in upload order (`position`).
struct VideoTagRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "video_tag"

    var videoNo: String
    var position: Int
    var tag: String

    enum CodingKeys: String, CodingKey { case videoNo = "video_no", position, tag }
}

/// A video with its tags.
struct StoredVideo: Sendable, Equatable {
    var record: VideoRecord
    var tags: [String]
}
